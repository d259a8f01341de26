"""Agreement between annotation passes: `python scripts/annotation_agreement.py`.

Cohen's kappa and the confusion between the first (writers') and a blind second annotation pass;
writes `out` and refreshes the generated blocks of `readme`.
"""

from __future__ import annotations

from stance.cli import run
from stance.labelling.annotation import AnnotationAgreementConfig, agreement_command

if __name__ == "__main__":
    run(agreement_command, AnnotationAgreementConfig, "annotation_agreement")
