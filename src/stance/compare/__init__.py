"""Many runs -> one table per test set (or per cross-validation): records, statistics, reports.

- `records`: run folders as compare reads them, grouped into sections and configs;
- `table`: one table per section (means, intervals, tests against the best);
- `cv`: cross-validation sections (pooled out-of-fold scores, the corrected resampled t-test);
- `rounds`: sections named by labelling round and build date; `round_scores`: labels vs score
  across rounds;
- `report`: the Markdown, CSV, PNG and HTML files (`cells`: how numbers and tables are written).
The statistics they compute resample `stance.scoring.metrics.batch_metric` (`stance.scoring.stats`).
"""

from stance.compare.table import CompareConfig, SectionTable, compare, register_schema

__all__ = ["CompareConfig", "SectionTable", "compare", "register_schema"]
