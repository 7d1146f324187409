"""The audit's own yardstick: how often would *new real images* come closer than the closest training pair?

A sample is "closer than the closest pair" when its distance to the nearest training image is below the
smallest distance between two distinct training images. Even a perfect generator is caught by that now and
then: if it drew exactly from the data distribution, a sample ``X`` and the ``n`` training images would be
``n + 1`` independent draws of one distribution, and ``X`` is closer than the closest training pair exactly when
``X`` is one of the two images of the closest pair among all ``n + 1``. By symmetry each of the ``n + 1`` is
equally likely to be, so

    P(a new real image is counted) = 2 / (n + 1)                                 (:func:`expected_rate`)

for any distance without ties that treats both images of a pair alike (Euclidean pixels, fixed features; with
mirrored references the orbit distance ``min(d(a, b), d(a, mirror(b)))`` too, ``n`` then counting images, not
orientations). With 80 training faces that is 2.5 % of the samples: "none of 2,000 samples" is out of reach for
a perfect face generator, while 1,259 digits give 0.16 %.

The rate *given one training set* varies a great deal around that mean: it is set by the one closest pair, and
``(n + 1) / 2`` times the conditional rate is close to an exponential variable of mean 1 (the closest of
``n (n - 1) / 2`` pair distances is the minimum of many nearly independent draws; checked by simulation in the
tests). So a model's flagged count ``K`` of ``N`` samples is compared with the rate of new real images through
that spread: the rate has the prior Gamma(1, (n + 1) / 2) (the exponential); held-out real images audited
like samples (``j`` of ``h`` counted) sharpen it to Gamma(1 + j, (n + 1) / 2 + h); ``K`` is then negative
binomial (a Poisson count of that rate). :func:`verdict` gives the one-sided p-value of ``K`` and the rate new
real images would stay under with 95 % probability; a model whose count is improbable for new real images
(p < ``alpha``) is flagged. The chance that a perfect generator has *no* sample counted among ``N`` is about
``((n + 1) / 2 / ((n + 1) / 2 + N))``: 2 % for 2,000 samples and 80 faces, 24 % for 1,259 digits. A
fixed-rate binomial test at 2 / (n + 1) would flag about 30 % of perfect generators: it ignores that spread.

:func:`leave_one_out` audits each training image as a sample against the others. Where the distance is
symmetric it counts exactly the two images of the closest pair (2 / n, by the argument above: a check, not a
measurement); with mirrored references in a learned feature space (``f(mirror(b))`` need not mirror ``f(b)``)
it can differ and is an empirical rate.

Example:
    >>> round(expected_rate(80), 4)
    0.0247
    >>> v = verdict(2000, 2000, 80)          # every sample a copy
    >>> v["flagged"], v["p_value"] < 1e-9
    (True, True)
    >>> verdict(49, 2000, 80)["flagged"]     # the expected count of a perfect generator
    False
    >>> round(verdict(0, 2000, 80)["p_none"], 3)    # how often a perfect generator has no sample counted
    0.02
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

ALPHA = 0.05


def expected_rate(n: int) -> float:
    """Probability that a new draw of the data distribution comes closer to one of ``n`` training images than
    the closest pair of them: ``2 / (n + 1)``."""
    return 2.0 / (n + 1) if n >= 2 else float("nan")


def squared_distances(a: np.ndarray, b: np.ndarray, b2: np.ndarray | None = None) -> np.ndarray:
    """Squared Euclidean distances (float64, clipped at 0) between the rows of ``a`` and those of ``b``.

    ``b2``, the squared row norms of ``b``, may be given when ``b`` is compared with many blocks of rows.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    b2 = (b**2).sum(1) if b2 is None else b2
    return np.maximum((a**2).sum(1)[:, None] + b2[None, :] - 2.0 * a @ b.T, 0.0)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(squared_distances(a, b))


def leave_one_out(train: np.ndarray, mirrored: np.ndarray | None = None) -> dict[str, Any]:
    """Each training vector audited as a sample against the others (and their mirror images, not its own).

    Args:
        train: N x d vectors (pixels or features) of the training images.
        mirrored: the same images mirrored, row for row, when the audit uses mirrored references.

    Returns:
        ``{"rate", "count", "images", "expected_rate"}``: the fraction of training images closer to another one
        than the closest pair among the rest, and 2 / N, what a symmetric distance gives.
    """
    n = len(train)
    first, second, nearest = np.empty(n), np.empty(n), np.empty(n, np.int64)
    for start in range(0, n, 512):  # each row's two nearest others, a block of rows at a time
        rows = np.arange(start, min(n, start + 512))
        d = _distances(train[rows], train)
        if mirrored is not None:
            d = np.minimum(d, _distances(train[rows], mirrored))
        d[np.arange(len(rows)), rows] = np.inf  # itself and its own mirror
        d[d < 1e-6] = np.inf  # exact duplicates are not distinct images (as in the audit's closest pair)
        order = np.argsort(d, axis=1)[:, :2]
        first[rows], second[rows] = d[np.arange(len(rows)), order[:, 0]], d[np.arange(len(rows)), order[:, 1]]
        nearest[rows] = order[:, 0]
    count = 0
    for k in range(n):
        rest = np.where(nearest == k, second, first)  # every row's nearest once image k is gone
        rest[k] = np.inf
        count += bool(first[k] < rest.min())
    return {"rate": count / n, "count": int(count), "images": int(n), "expected_rate": 2.0 / n}


def _negbin_sf(k: int, shape: float, q: float) -> float:
    """P(K >= k) for K ~ NegBin(shape, q): pmf(i) = C(i + shape - 1, i) q^shape (1 - q)^i."""
    if k <= 0:
        return 1.0
    i = np.arange(k)
    log_pmf = (
        np.array([math.lgamma(x + shape) for x in i]) - math.lgamma(shape) - np.array([math.lgamma(x + 1) for x in i])
    )
    log_pmf += shape * math.log(q) + i * math.log1p(-q)
    return float(max(0.0, 1.0 - np.exp(log_pmf).sum()))


def _gamma_quantile(shape: int, rate: float, p: float) -> float:
    """The ``p`` quantile of Gamma(shape, rate) for a whole-number shape (Erlang; bisection on its CDF)."""

    def cdf(x: float) -> float:
        y = rate * x
        return 1.0 - math.exp(-y) * sum(y**i / math.factorial(i) for i in range(shape))

    lo, hi = 0.0, (shape + 10.0 * math.sqrt(shape) + 10.0) / rate
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


def verdict(
    count: int,
    samples: int,
    references: int,
    held_out: tuple[int, int] | None = None,
    alpha: float = ALPHA,
) -> dict[str, Any]:
    """Is ``count`` of ``samples`` flagged more than new real images would be (the module docstring's test)?

    Args:
        count: samples closer to a training image than the closest training pair.
        samples: samples audited.
        references: distinct training images ``n`` (mirrored references do not add to it).
        held_out: ``(j, h)``: ``j`` of ``h`` held-out real images counted the same way, or ``None``.
        alpha: the one-sided level.

    Returns:
        ``{"fraction", "expected_rate", "reference_rate", "reference_upper95", "p_value", "p_none", "alpha",
        "flagged"}``: ``reference_rate`` is the mean rate of new real images given what is known (2 / (n + 1),
        moved by the held-out images), ``reference_upper95`` the rate they stay under with 95 % probability,
        ``p_value`` the probability of ``count`` or more for a generator that draws new real images, ``p_none``
        its probability of *no* sample counted (the literal bar "none closer than the closest pair").
    """
    shape, rate = 1, (references + 1) / 2.0
    if held_out is not None:
        shape, rate = shape + int(held_out[0]), rate + int(held_out[1])
    q = rate / (rate + samples)
    p_value = _negbin_sf(int(count), shape, q)
    return {
        "fraction": count / samples if samples else float("nan"),
        "expected_rate": expected_rate(references),
        "reference_rate": shape / rate,
        "reference_upper95": _gamma_quantile(shape, rate, 0.95),
        "held_out": None if held_out is None else {"count": int(held_out[0]), "images": int(held_out[1])},
        "p_value": p_value,
        "p_none": q**shape,
        "alpha": alpha,
        "flagged": bool(p_value < alpha),
    }
