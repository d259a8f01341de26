"""The HTTP service: endpoints, validation, the API key, the host check, and a real server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from fixtures import tiny_dataset
from stance.config_schemas import ServeConfig
from stance.data import split_paragraphs
from stance.errors import StanceError
from stance.models.sklearn_models import TfidfStanceModel
from stance.predict import label_rows, load_model
from stance.serve.service import check_exposure, create_app, settings_from
from train_helpers import CONFIGS, compose_cfg, run_script_in_process

ARTICLE = """Senators spar over tariffs

The senator said she would support and applaud the tariffs, which she expects to benefit voters.

Critics oppose the plan and condemn it; they say it will harm farmers in Ohio.

The vote is expected on Tuesday.
"""
TEXTS = ["we support and applaud it", "we oppose and condemn it"]


def client(model: Path, **settings: object) -> TestClient:
    """A test client for the service over ``model`` with ``settings`` (ServeConfig fields)."""
    config = ServeConfig(model_path=str(model), **settings)
    return TestClient(create_app(load_model(model), config), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def api(run_dir: Path) -> TestClient:
    return client(run_dir)


@pytest.fixture(scope="module")
def target_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder of a model with a classifier per target, so it needs the target."""
    folder = tmp_path_factory.mktemp("target_model")
    model = TfidfStanceModel(target_mode="per_target", min_target_examples=10)
    model.fit(tiny_dataset()["train"]).save(folder)
    return folder


def test_health_and_model_info(api: TestClient, run_dir: Path) -> None:
    assert api.get("/health").json() == {"status": "ok"}
    info = api.get("/model").json()
    assert info["classes"] == load_model(run_dir).classes_
    assert info["uses_target"] is False and info["neutral_label"] is None
    assert Path(info["model_path"]) == (run_dir / "model").resolve()
    assert info["document"]["min_paragraphs"] == 2 and info["document"]["min_margin"] == 0.1
    assert "stance-bearing paragraphs" in info["document"]["rule"]
    assert info["limits"] == {
        "max_texts": 256, "max_text_chars": 5000, "max_article_chars": 200000, "max_concurrent": 8
    }  # fmt: skip


def test_predict_gives_the_models_labels_and_probabilities(api: TestClient, run_dir: Path) -> None:
    response = api.post("/predict", json={"texts": TEXTS})
    assert response.status_code == 200
    body = response.json()
    predictor = load_model(run_dir)
    assert body["classes"] == predictor.classes_
    assert [p["label"] for p in body["predictions"]] == ["pro", "anti"]
    proba = [[p["proba"][c] for c in body["classes"]] for p in body["predictions"]]
    np.testing.assert_allclose(proba, predictor.predict_proba(TEXTS), atol=1e-6)
    assert all("target" not in p for p in body["predictions"])  # none given, none shown


def test_articles_gives_paragraphs_then_the_document_row_of_label_rows(
    api: TestClient, run_dir: Path
) -> None:
    body = api.post("/articles", json={"text": ARTICLE, "doc_id": "a1"}).json()
    assert [p["text"] for p in body["paragraphs"]] == split_paragraphs(ARTICLE)
    assert [p["paragraph"] for p in body["paragraphs"]] == [0, 1, 2, 3]
    assert body["paragraphs"][1]["label"] == "pro" and body["paragraphs"][2]["label"] == "anti"
    rows = [{"doc_id": "a1", "text": t} for t in split_paragraphs(ARTICLE)]
    expected = label_rows(load_model(run_dir), rows)[-1]
    assert body["document"] == {k: v for k, v in expected.items() if k != "level"}


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/predict", {"texts": "one string"}, "texts: Input should be a valid list"),
        ("/predict", {"texts": [1, "a"]}, "texts[0]: Input should be a valid string"),
        ("/predict", {"texts": []}, "texts: List should have at least 1 item"),
        ("/predict", {"texts": ["a"] * 4}, "texts: List should have at most 3 items"),
        ("/predict", {"texts": ["a", "x" * 51]}, "texts[1]: String should have at most 50 char"),
        ("/predict", {"texts": ["a", " \n"]}, "texts[1]: text is empty or only whitespace"),
        ("/predict", {"texts": TEXTS, "targets": ["aid"]}, "1 targets for 2 texts"),
        ("/predict", {"text": TEXTS}, "texts: Field required; text: Extra inputs"),
        ("/articles", {"text": "x" * 201}, "text: String should have at most 200 char"),
        ("/articles", {"text": ARTICLE, "target": 3}, "target: Input should be a valid string"),
        ("/articles", {}, "text: Field required"),
    ],
)
def test_bad_requests_get_422_with_a_message(
    run_dir: Path, path: str, body: dict, message: str
) -> None:
    small = client(run_dir, max_texts=3, max_text_chars=50, max_article_chars=200)
    response = small.post(path, json=body)
    assert response.status_code == 422
    assert message in response.json()["error"]


def test_bodies_that_are_not_json_or_too_large(run_dir: Path) -> None:
    small = client(run_dir, max_texts=3, max_text_chars=50, max_article_chars=200)
    headers = {"content-type": "application/json"}
    response = small.post("/predict", content=b'{"texts": ["a"', headers=headers)
    assert response.status_code == 422 and "not valid JSON at character" in response.json()["error"]
    response = small.post("/predict", content=b"texts=a", headers={"content-type": "text/plain"})
    assert "Content-Type: application/json" in response.json()["error"]
    huge = json.dumps({"texts": ["a" * 100_000]}).encode()
    response = small.post("/predict", content=huge, headers=headers)
    assert response.status_code == 413 and "request body over" in response.json()["error"]
    chunked = small.post("/predict", content=iter([huge[:50_000], huge[50_000:]]), headers=headers)
    assert chunked.status_code == 413  # no content-length: counted as it arrives
    assert small.get("/nowhere").json() == {"error": "Not Found"}


def test_a_target_aware_model_needs_a_target_per_text(target_model: Path) -> None:
    api = client(target_model)
    assert api.get("/model").json()["uses_target"] is True
    response = api.post("/predict", json={"texts": TEXTS})
    assert response.status_code == 422
    assert "texts[0]: this model was trained per policy" in response.json()["error"]
    response = api.post("/articles", json={"text": ARTICLE})
    assert response.status_code == 422 and "paragraph 0" in response.json()["error"]
    response = api.post("/predict", json={"texts": TEXTS, "targets": ["aid", "tariffs"]})
    assert response.status_code == 200
    assert [p["target"] for p in response.json()["predictions"]] == ["aid", "tariffs"]
    body = api.post("/articles", json={"text": ARTICLE, "target": "tariffs"}).json()
    assert {p["target"] for p in body["paragraphs"]} == {"tariffs"}


def test_the_api_key_guards_everything_but_health(run_dir: Path) -> None:
    api = client(run_dir, api_key="s3cret")
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": "s3cret "}):
        response = api.post("/predict", json={"texts": TEXTS}, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "missing or wrong X-API-Key header"}
        assert api.get("/model", headers=headers).status_code == 401
    right = {"X-API-Key": "s3cret"}
    assert api.post("/predict", json={"texts": TEXTS}, headers=right).status_code == 200
    assert api.post("/articles", json={"text": ARTICLE}, headers=right).status_code == 200
    assert api.get("/model", headers=right).status_code == 200
    assert api.get("/health").status_code == 200


def test_an_error_inside_is_a_500_message_without_a_traceback(
    run_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    predictor = load_model(run_dir)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    predictor.predict_proba = broken  # type: ignore[method-assign]
    app = create_app(predictor, ServeConfig(model_path=str(run_dir)))
    response = TestClient(app, raise_server_exceptions=False).post(
        "/predict", json={"texts": TEXTS}
    )
    assert response.status_code == 500
    # no exception type nor message in the body: they may name files (issue 22); the log has them
    assert response.json() == {"error": "internal error; the server's log has the details"}
    assert "RuntimeError: secret internals" in caplog.text


def test_a_non_loopback_host_needs_a_key_or_an_explicit_opt_out(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_exposure(ServeConfig(model_path="m", host=host))
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        with pytest.raises(StanceError, match=f"host={host}: .*without an API key"):
            check_exposure(ServeConfig(model_path="m", host=host))
    check_exposure(ServeConfig(model_path="m", host="0.0.0.0", api_key="k"))
    check_exposure(ServeConfig(model_path="m", host="0.0.0.0", allow_unauthenticated=True))
    monkeypatch.delenv("STANCE_API_KEY", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        run_script_in_process("serve", [f"model={run_dir}", "host=0.0.0.0"])
    assert exit_info.value.code == 2
    assert "host=0.0.0.0: listening beyond this machine" in capsys.readouterr().err


def test_the_key_comes_from_stance_api_key_and_an_empty_one_is_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STANCE_API_KEY", "from-env")
    settings = settings_from(compose_cfg("serve", ["model_path=m", "port=9000"]))
    assert settings.api_key == "from-env" and settings.port == 9000
    assert settings_from(compose_cfg("serve", ["model_path=m", "api_key=given"])).api_key == "given"
    monkeypatch.setenv("STANCE_API_KEY", "")
    assert settings_from(compose_cfg("serve", ["model_path=m"])).api_key is None
    assert settings_from(compose_cfg("serve", ["model_path=m"])).host == "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_real_server_process_answers_on_loopback(run_dir: Path) -> None:
    port = free_port()
    script = CONFIGS.parent / "scripts" / "serve.py"
    env = {k: v for k, v in os.environ.items() if k != "STANCE_API_KEY"}
    server = subprocess.Popen(
        [sys.executable, str(script), f"model={run_dir}", f"port={port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read().decode()  # it died
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                    assert json.load(response) == {"status": "ok"}
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the server did not come up in 60 s"
                time.sleep(0.2)
        request = urllib.request.Request(
            f"{url}/predict",
            data=json.dumps({"texts": TEXTS}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            labels = [p["label"] for p in json.load(response)["predictions"]]
        assert labels == ["pro", "anti"]
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert f"on http://127.0.0.1:{port} (no API key)" in output
    assert '"POST /predict HTTP/1.1" 200' in output
