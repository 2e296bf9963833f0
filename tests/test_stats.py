from __future__ import annotations

import importlib.util
import random

import pytest

from bench_helpers import samples
from fastarm.bench import stats

HAVE_SCIPY = importlib.util.find_spec("scipy") is not None


def test_summarize_matches_numpy_percentiles() -> None:
    np = pytest.importorskip("numpy")
    values = samples(1000.0, 0.1, n=37, seed=3)
    s = stats.summarize(values)
    assert s["n"] == 37
    assert s["median_ns"] == pytest.approx(float(np.median(values)))
    assert s["q1_ns"] == pytest.approx(float(np.percentile(values, 25)))
    assert s["q3_ns"] == pytest.approx(float(np.percentile(values, 75)))
    assert s["mean_ns"] == pytest.approx(float(np.mean(values)))
    assert s["stdev_ns"] == pytest.approx(float(np.std(values, ddof=1)))
    assert s["min_ns"] == min(values)


def test_summarize_rejects_empty() -> None:
    with pytest.raises(ValueError):
        stats.summarize([])


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize("seed", range(6))
def test_mann_whitney_matches_scipy(alternative: str, seed: int) -> None:
    if not HAVE_SCIPY:
        pytest.skip("SciPy is not installed: the reference comparison needs it")
    from scipy.stats import mannwhitneyu

    rng = random.Random(seed)
    x = [round(rng.gauss(10, 2)) for _ in range(rng.randint(5, 40))]  # rounding makes ties
    y = [round(rng.gauss(11, 2)) for _ in range(rng.randint(5, 40))]
    u, p = stats.mann_whitney_u(x, y, alternative)
    ref = mannwhitneyu(x, y, alternative=alternative, method="asymptotic", use_continuity=True)
    assert u == pytest.approx(ref.statistic)
    assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)


def test_mann_whitney_finds_a_known_shift() -> None:
    base = samples(1000.0, 0.02, n=20, seed=1)
    slower = samples(1100.0, 0.02, n=20, seed=2)  # 10 % slower
    _, p_greater = stats.mann_whitney_u(slower, base, "greater")
    _, p_less = stats.mann_whitney_u(slower, base, "less")
    assert p_greater < 1e-4
    assert p_less > 0.5


def test_mann_whitney_does_not_flag_equal_distributions() -> None:
    # 200 pairs drawn from one distribution: at alpha = 0.01 about 2 false positives are expected
    flagged = 0
    for seed in range(200):
        a = samples(1000.0, 0.05, n=20, seed=2 * seed)
        b = samples(1000.0, 0.05, n=20, seed=2 * seed + 1)
        _, p = stats.mann_whitney_u(a, b, "two-sided")
        flagged += p < 0.01
    assert flagged <= 6


def test_mann_whitney_all_equal_values() -> None:
    assert stats.mann_whitney_u([1.0] * 5, [1.0] * 7) == (17.5, 1.0)


def test_mann_whitney_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        stats.mann_whitney_u([], [1.0])
    with pytest.raises(ValueError):
        stats.mann_whitney_u([1.0], [1.0], "sideways")


def test_bootstrap_ci_covers_the_true_ratio_and_is_seeded() -> None:
    base = samples(1000.0, 0.03, n=25, seed=4)
    new = samples(1200.0, 0.03, n=25, seed=5)
    ratio, lo, hi = stats.bootstrap_ratio_ci(base, new, seed=7)
    assert lo <= ratio <= hi
    assert lo < 1.2 < hi
    assert hi - lo < 0.1
    assert stats.bootstrap_ratio_ci(base, new, seed=7) == (ratio, lo, hi)
    assert ratio == pytest.approx(stats.median(new) / stats.median(base))


def test_bootstrap_ci_of_equal_distributions_contains_one() -> None:
    misses = 0
    for seed in range(40):
        base = samples(1000.0, 0.05, n=20, seed=100 + 2 * seed)
        new = samples(1000.0, 0.05, n=20, seed=101 + 2 * seed)
        _, lo, hi = stats.bootstrap_ratio_ci(base, new, resamples=500, seed=seed)
        misses += not (lo <= 1.0 <= hi)
    assert misses <= 6  # a 95 % interval misses about 2 of 40


def test_case_noise_relative_iqr_and_worker_spread() -> None:
    values = [90.0, 95.0, 100.0, 105.0, 110.0]
    assert stats.case_noise(values) == pytest.approx((105 - 95) / 2 / 100)
    # two workers whose medians differ by 20 %: the spread between workers dominates
    two = [100.0, 101.0, 99.0, 120.0, 121.0, 119.0]
    workers = [0, 0, 0, 1, 1, 1]
    assert stats.case_noise(two, workers) == pytest.approx((120 - 100) / stats.median(two))
    assert stats.case_noise(two, workers) > stats.case_noise(two)


def test_environment_noise_is_the_median_case_noise() -> None:
    cases = [
        {"samples_ns": [100.0, 100.0, 100.0]},
        {"samples_ns": [90.0, 100.0, 110.0]},
        {"samples_ns": [50.0, 100.0, 150.0]},
    ]
    assert stats.environment_noise(cases) == pytest.approx(0.05)
    assert stats.environment_noise([]) == 0.0


def test_control_drift() -> None:
    assert stats.control_drift([]) == 0.0
    assert stats.control_drift([1.0, 1.0, 1.0]) == 0.0
    assert stats.control_drift([1.1, 1.1, 1 / 1.1]) == pytest.approx(0.1)
    assert stats.control_drift([2.0, 1.0, 0.5, 1.02, 0.98]) == pytest.approx(0.02, rel=0.05)
