"""Picking a round: targets in turn, at most ``cap`` paragraphs per document, and within a target
the paragraph of highest maximal marginal relevance (MMR) over TF-IDF cosine similarity.

MMR score of a candidate = (1 - diversity) * uncertainty - diversity * (its highest cosine
similarity to any paragraph already picked). ``diversity`` 0 is pure uncertainty sampling; the
larger it is, the more a paragraph that says what a picked one says (a paraphrase, the same
press release in other words) gives way to one that says something else.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer


def similarity_rows(texts: Sequence[str]) -> sp.csr_matrix | None:
    """L2-normalised word TF-IDF rows, so a dot product is a cosine similarity."""
    vectorizer = TfidfVectorizer(ngram_range=(1, 1), sublinear_tf=True, lowercase=True)
    try:
        return vectorizer.fit_transform(list(texts)).tocsr()
    except ValueError:  # no word at all (e.g. only digits and punctuation): nothing is similar
        return None


def pick(
    texts: Sequence[str],
    uncertainty: np.ndarray,
    targets: Sequence[str],
    docs: Sequence[str | None],
    n: int,
    cap: int,
    diversity: float,
) -> tuple[list[int], int]:
    """Indices of up to ``n`` candidates, in the order picked, and how many were left out because
    their document already gave ``cap``. Candidates are taken in order of uncertainty (ties: the
    earlier one) unless ``diversity`` > 0 trades some of it for being unlike what is picked."""
    size = len(texts)
    score_base = (1 - diversity) * np.asarray(uncertainty, float)
    rows = similarity_rows(texts) if diversity > 0 and size else None
    closest = np.zeros(size)  # highest cosine similarity to a picked paragraph
    doc_codes = {d: k for k, d in enumerate(sorted({str(d) for d in docs if d is not None}))}
    doc = np.array([-1 if d is None else doc_codes[str(d)] for d in docs], np.int64)
    taken = np.zeros(len(doc_codes) + 1, np.int64)  # the last: rows without a document
    order = np.lexsort((np.arange(size), -np.asarray(uncertainty, float)))
    target = np.asarray([str(t) for t in targets], dtype=object)
    queues = {t: order[target[order] == t] for t in sorted(set(target.tolist()))}
    chosen: list[int] = []
    capped = 0
    while len(chosen) < n and queues:
        for name in list(queues):
            queue = queues[name]
            full = (doc[queue] >= 0) & (taken[doc[queue]] >= cap)
            capped += int(full.sum())
            queue = queue[~full]
            if not len(queue):
                del queues[name]
                continue
            best = int(np.argmax(score_base[queue] - diversity * closest[queue]))
            i = int(queue[best])
            queues[name] = np.delete(queue, best)
            chosen.append(i)
            if doc[i] >= 0:
                taken[doc[i]] += 1
            if rows is not None:
                closest = np.maximum(closest, (rows @ rows[i].T).toarray().ravel())
            if len(chosen) == n:
                break
    return chosen, capped
