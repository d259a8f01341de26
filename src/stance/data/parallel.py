"""Run independent pieces of work on the machine's cores with threads.

Only worth it for work that releases the GIL: numpy on large arrays, pyarrow compute kernels and
readers, file writes. Exceptions propagate to the caller (the first one, in argument order).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

MAX_WORKERS = 4  # enough for the 2-8 core machines this runs on; numpy/arrow saturate memory


def workers() -> int:
    """Threads to use: the cores this process may run on, at most MAX_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def run_all(*calls: Callable[[], Any]) -> list[Any]:
    """Call each function (no arguments) concurrently and return their results in order."""
    if len(calls) < 2 or workers() < 2:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(len(calls), workers())) as pool:
        futures = [pool.submit(call) for call in calls]
        return [f.result() for f in futures]
