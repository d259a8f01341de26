"""Compare reads a config from the overrides a run records; one config is one row, however the
run was launched."""

from __future__ import annotations

from stance.compare.records import _parse_overrides


def test_a_sweeps_escaped_value_is_the_value_the_command_line_gave() -> None:
    """Hydra's sweeper records `model.encoder=packaged\\:b` for `model.encoder=packaged:b`: the
    single run and the sweep's runs of one config must not be two rows."""
    swept = _parse_overrides(["model=hybrid", "model.encoder=packaged\\:all-mpnet-base-v2"])
    single = _parse_overrides(["model=hybrid", "model.encoder=packaged:all-mpnet-base-v2"])
    assert swept == single == {"model": "hybrid", "model.encoder": "packaged:all-mpnet-base-v2"}
    assert _parse_overrides(["+x=4.0", "y=a\\,b", "z=c\\\\d"]) == {
        "x": "4",
        "y": "a,b",
        "z": "c\\d",
    }
