"""Statistics in pure Python: summaries, Mann-Whitney U, bootstrap CI of a ratio of medians, noise.

No SciPy or NumPy at run time (the harness must work in a minimal environment); the test suite
checks :func:`mann_whitney_u` against ``scipy.stats.mannwhitneyu(..., method="asymptotic")``.
"""

from __future__ import annotations

import math
import random
from typing import Mapping, Sequence


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Quantile with linear interpolation (NumPy's default method) of already sorted values."""
    if not sorted_values:
        raise ValueError("quantile of an empty sequence")
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = pos - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


def median(values: Sequence[float]) -> float:
    return quantile(sorted(values), 0.5)


def summarize(samples: Sequence[float]) -> dict[str, float]:
    """The ``stats`` block of a result case."""
    if not samples:
        raise ValueError("no samples")
    s = sorted(float(x) for x in samples)
    n = len(s)
    mean = math.fsum(s) / n
    var = math.fsum((x - mean) ** 2 for x in s) / (n - 1) if n > 1 else 0.0
    return {
        "median_ns": quantile(s, 0.5),
        "mean_ns": mean,
        "min_ns": s[0],
        "q1_ns": quantile(s, 0.25),
        "q3_ns": quantile(s, 0.75),
        "stdev_ns": math.sqrt(var),
        "n": n,
    }


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Average ranks (1-based) of ``values`` and the sizes of the groups of ties."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        avg = (i + j + 2) / 2.0
        for k in range(i, j + 1):
            ranks[order[k]] = avg
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def mann_whitney_u(
    x: Sequence[float], y: Sequence[float], alternative: str = "two-sided"
) -> tuple[float, float]:
    """Mann-Whitney U test, normal approximation with tie and continuity correction.

    Returns ``(U1, p)`` where U1 is the statistic of ``x`` (as SciPy reports it).  ``alternative``:
    ``"two-sided"``, ``"greater"`` (x tends to be larger than y) or ``"less"``.
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be two-sided, greater or less, not {alternative!r}")
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples must be non-empty")
    ranks, ties = _ranks([*x, *y])
    r1 = math.fsum(ranks[:n1])
    u1 = r1 - n1 * (n1 + 1) / 2.0
    u2 = n1 * n2 - u1
    n = n1 + n2
    mu = n1 * n2 / 2.0
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0.0
    var = n1 * n2 / 12.0 * ((n + 1) - tie_term)
    if var <= 0:
        return u1, 1.0
    if alternative == "greater":
        u = u1
    elif alternative == "less":
        u = u2
    else:
        u = max(u1, u2)
    z = (u - mu - 0.5) / math.sqrt(var)
    p = _normal_sf(z)
    if alternative == "two-sided":
        p *= 2.0
    return u1, min(max(p, 0.0), 1.0)


def bootstrap_ratio_ci(
    base: Sequence[float],
    new: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``median(new) / median(base)`` with a percentile bootstrap confidence interval (seeded).

    Returns ``(ratio, low, high)``; a ratio above 1 means ``new`` is slower.
    """
    if not base or not new:
        raise ValueError("both samples must be non-empty")
    ratio = median(new) / median(base)
    rng = random.Random(seed)
    nb, nn = len(base), len(new)
    mid_b, mid_n = (nb - 1) / 2.0, (nn - 1) / 2.0
    lb, hb = math.floor(mid_b), math.ceil(mid_b)
    ln, hn = math.floor(mid_n), math.ceil(mid_n)
    ratios = []
    choices = rng.choices
    for _ in range(resamples):
        sb = sorted(choices(base, k=nb))
        sn = sorted(choices(new, k=nn))
        mb = (sb[lb] + sb[hb]) / 2.0
        mn = (sn[ln] + sn[hn]) / 2.0
        ratios.append(mn / mb if mb > 0 else math.inf)
    ratios.sort()
    alpha = (1.0 - confidence) / 2.0
    return ratio, quantile(ratios, alpha), quantile(ratios, 1.0 - alpha)


def case_noise(samples: Sequence[float], workers: Sequence[int] | None = None) -> float:
    """Relative noise of one case: the larger of the semi-interquartile range over the median, and
    the spread of the per-worker medians over the median (when the samples come from several
    workers).
    """
    s = sorted(samples)
    med = quantile(s, 0.5)
    if med <= 0:
        return 0.0
    noise = (quantile(s, 0.75) - quantile(s, 0.25)) / 2.0 / med
    if workers and len(set(workers)) > 1:
        per: dict[int, list[float]] = {}
        for value, w in zip(samples, workers):
            per.setdefault(w, []).append(value)
        medians = [median(v) for v in per.values()]
        noise = max(noise, (max(medians) - min(medians)) / med)
    return noise


def environment_noise(cases: Sequence[Mapping[str, object]]) -> float:
    """Noise of an environment, estimated from a run's own samples: the median case noise."""
    values = [
        case_noise(c["samples_ns"], c.get("sample_workers"))  # type: ignore[arg-type]
        for c in cases
        if c.get("samples_ns")
    ]
    return median(values) if values else 0.0


def control_drift(ratios: Sequence[float]) -> float:
    """How far an environment drifted between two runs, from the ratios of medians of *control*
    cases (code the change under test cannot affect, e.g. the NumPy cases): ``exp(median |log r|)
    - 1``.  0 for identical runs; 0.1 when the controls typically moved by 10 % either way."""
    logs = [abs(math.log(r)) for r in ratios if r > 0 and math.isfinite(r)]
    return math.exp(median(logs)) - 1.0 if logs else 0.0
