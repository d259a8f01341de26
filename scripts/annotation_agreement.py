"""Agreement between annotation passes: `python scripts/annotation_agreement.py`.

Cohen's kappa and the confusion between the first (writers') and a blind second annotation pass;
writes `out` and refreshes the generated blocks of `readme`.
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from stance.cli import script_help, user_errors
from stance.labelling.annotation import AnnotationAgreementConfig, report_agreement


@hydra.main(version_base="1.3", config_path="../configs", config_name="annotation_agreement")
@user_errors
def main(cfg: DictConfig) -> None:
    """Run ``stance.labelling.annotation.report_agreement`` and print the headline numbers."""
    result = report_agreement(**OmegaConf.to_container(cfg, resolve=True))
    print(
        f"{result.n} paragraphs: raw agreement {result.raw_agreement:.3f}, "
        f"Cohen's kappa {result.kappa:.3f}, {len(result.disagreements)} disagreements -> {cfg.out}"
    )


if __name__ == "__main__":
    script_help(sys.argv, __doc__, AnnotationAgreementConfig, "annotation_agreement")
    main()
