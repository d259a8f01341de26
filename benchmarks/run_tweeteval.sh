#!/usr/bin/env bash
# Reproduce benchmarks/results/tweeteval.md: train every row's runs, then tabulate them with compare.
# From the repository root, with the venv active. The benchmark files are read from
# ${TWEETEVAL_DIR:-../shared/benchmarks/tweeteval_stance} (scripts/download_tweeteval.py fetches
# them). Finished runs are skipped on a rerun, so an interrupted script can simply be restarted.
set -euo pipefail
cd "$(dirname "$0")/.."

# TF-IDF baselines, three seeds each (their training is deterministic: the seeds agree).
python scripts/train.py -m sweep_name=tweeteval dataset=tweeteval_stance \
  model=tfidf_logreg,tfidf_svm seed=1,2,3

# Soft-voting ensemble of the two baselines of the same seed.
python scripts/train.py -m +experiment=tweeteval_ensemble_linear seed=1,2,3

if [[ "${WITH_TRANSFORMER:-0}" == 1 ]]; then
  # MiniLM as measured in results/tweeteval.md (three seeds, 2 epochs: about 3.5 minutes per seed on an
  # idle 2-core CPU), then the 3-way ensemble of the runs of the same seed.
  python scripts/train.py -m sweep_name=tweeteval dataset=tweeteval_stance model=minilm \
    seed=1,2,3 model.epochs=2 model.eval_steps=82 model.save_steps=82 model.progress_bar=false
  python scripts/train.py -m +experiment=tweeteval_ensemble seed=1,2,3
fi

# Optuna search over the logistic regression (objective: validation F_avg), and its trials' table.
python scripts/train.py +hparams_search=tfidf_optuna dataset=tweeteval_stance \
  hydra.sweeper.n_trials=8 hydra.sweeper.sampler.n_startup_trials=4
python scripts/compare.py runs=[multirun/optuna_tfidf_logreg_tweeteval_stance] \
  out_dir=multirun/optuna_compare metrics=[test/f_avg,validation/f_avg] sort_by=validation/f_avg

python scripts/compare.py runs=[multirun/tweeteval] out_dir=benchmarks/results/tweeteval_compare \
  metrics=[test/f_avg,validation/f_avg,test/f1_macro]
