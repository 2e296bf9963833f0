from __future__ import annotations

import pytest

from bench_helpers import case, doc, environment, run_doc, samples
from fastarm.bench import compare

IDS = ["dot/float32/1536/numpy", "dot/float32/1536/fastarm", "cosine/int8/1536/fastarm"]


def medians(scale: dict[str, float] | None = None) -> dict[str, float]:
    base = {cid: 1000.0 * (i + 1) for i, cid in enumerate(IDS)}
    for cid, factor in (scale or {}).items():
        base[cid] *= factor
    return base


def test_identical_distributions_are_same() -> None:
    base = run_doc(medians(), seed=0)
    new = run_doc(medians(), seed=100)
    result = compare.compare(new, base)
    assert [c.verdict for c in result.cases] == ["same"] * 3
    assert result.exit_code == compare.EXIT_OK
    assert result.gating and not result.informational


def test_known_slowdown_is_a_regression() -> None:
    base = run_doc(medians(), seed=0)
    new = run_doc(medians({"dot/float32/1536/fastarm": 1.25}), seed=100)
    result = compare.compare(new, base)
    verdicts = {c.id: c.verdict for c in result.cases}
    assert verdicts["dot/float32/1536/fastarm"] == "slower"
    assert verdicts["dot/float32/1536/numpy"] == "same"
    slow = next(c for c in result.cases if c.id == "dot/float32/1536/fastarm")
    assert slow.ci_low < 1.25 < slow.ci_high
    assert slow.p_slower < 0.01
    assert result.exit_code == compare.EXIT_REGRESSION


def test_known_speedup_is_faster_and_ok() -> None:
    base = run_doc(medians(), seed=0)
    new = run_doc(medians({"cosine/int8/1536/fastarm": 0.5}), seed=100)
    result = compare.compare(new, base)
    assert {c.id: c.verdict for c in result.cases}["cosine/int8/1536/fastarm"] == "faster"
    assert result.exit_code == compare.EXIT_OK


def test_small_significant_slowdown_below_threshold_is_not_a_regression() -> None:
    base = run_doc(medians(), spread=0.002, seed=0)
    new = run_doc(medians({"dot/float32/1536/fastarm": 1.03}), spread=0.002, seed=100)
    result = compare.compare(new, base, threshold=0.05)
    slow = next(c for c in result.cases if c.id == "dot/float32/1536/fastarm")
    assert slow.p_slower < 0.01  # significant ...
    assert slow.verdict == "same"  # ... but smaller than the threshold
    assert compare.compare(new, base, threshold=0.01).exit_code == compare.EXIT_REGRESSION


def test_limit_grows_with_the_environment_noise() -> None:
    # 10 % noise: a 20 % slowdown is within 3 x noise, so it is not called a regression
    base = run_doc(medians(), spread=0.15, seed=0)
    new = run_doc(medians({"dot/float32/1536/fastarm": 1.2}), spread=0.15, seed=100)
    result = compare.compare(new, base)
    assert result.limit == pytest.approx(compare.NOISE_FACTOR * result.noise)
    assert result.limit > 0.2
    assert result.count("slower") == 0


def test_too_noisy_case_exits_3() -> None:
    base = doc([case(IDS[0], samples(1000.0, 0.01, seed=1)), case(IDS[1], [1000.0] * 10)])
    wild = [1000.0, 3000.0, 900.0, 2500.0, 1100.0, 800.0, 2900.0, 1000.0, 950.0, 2000.0]
    new = doc([case(IDS[0], samples(1000.0, 0.01, seed=2)), case(IDS[1], wild)])
    result = compare.compare(new, base)
    assert {c.id: c.verdict for c in result.cases}[IDS[1]] == "too-noisy"
    assert result.exit_code == compare.EXIT_TOO_NOISY


def test_environment_too_noisy_overall_exits_3() -> None:
    base = run_doc(medians(), spread=0.5, seed=0)
    new = run_doc(medians(), spread=0.5, seed=100)
    result = compare.compare(new, base)
    assert result.too_noisy_overall
    assert result.exit_code == compare.EXIT_TOO_NOISY


def test_cross_environment_is_refused() -> None:
    base = run_doc(medians(), env=environment("env-a"))
    new = run_doc(medians(), env=environment("env-b"))
    with pytest.raises(compare.NotComparable, match="environments differ"):
        compare.compare(new, base)


def test_cross_environment_allowed_is_informational_and_never_gates() -> None:
    base = run_doc(medians(), env=environment("env-a"))
    new = run_doc(medians({IDS[1]: 3.0}), env=environment("env-b", kind="container"), seed=9)
    result = compare.compare(new, base, allow_cross_env=True)
    assert result.informational and not result.gating
    assert result.count("slower") == 1  # still reported ...
    assert result.exit_code == compare.EXIT_OK  # ... never exit 1
    assert any("INFORMATIONAL" in n for n in result.notes)


def test_emulated_runs_never_gate() -> None:
    env = environment("emu-key", kind="emulated")
    base = run_doc(medians(), env=env)
    new = run_doc(medians({IDS[1]: 3.0}), env=env, seed=9)
    result = compare.compare(new, base)
    assert result.count("slower") == 1
    assert result.exit_code == compare.EXIT_OK
    assert any("emulated" in n for n in result.notes)


def test_no_common_case_is_not_comparable() -> None:
    base = run_doc({IDS[0]: 1000.0})
    new = run_doc({IDS[1]: 1000.0})
    result = compare.compare(new, base)
    assert result.only_in_base == [IDS[0]] and result.only_in_new == [IDS[1]]
    assert result.exit_code == compare.EXIT_NOT_COMPARABLE


def test_split_ab_pairs_the_two_backends() -> None:
    both = doc(
        [
            case("dot/float32/1536/fastarm", samples(100.0)),
            case("dot/float32/1536/fastarm[scalar]", samples(400.0, seed=1)),
            case("dot/float32/1536/numpy", samples(900.0, seed=2)),
        ]
    )
    a, b = compare.split_ab(both, "fastarm", "fastarm[scalar]")
    assert (
        [c["id"] for c in a["cases"]] == [c["id"] for c in b["cases"]] == ["dot/float32/1536/A/B"]
    )
    result = compare.compare(b, a)
    assert result.cases[0].verdict == "slower"
    assert result.cases[0].ratio == pytest.approx(4.0, rel=0.05)
    with pytest.raises(compare.NotComparable):
        compare.split_ab(both, "fastarm", "fastarm[avx512]")


def test_to_dict_is_json_ready() -> None:
    import json

    result = compare.compare(run_doc(medians(), seed=1), run_doc(medians()))
    d = json.loads(json.dumps(result.to_dict()))
    assert d["exit_code"] == 0 and len(d["cases"]) == 3 and "summary" in d


def test_drift_of_the_numpy_controls_raises_the_limit() -> None:
    # the whole machine got 30 % slower between the runs: NumPy too, so this is not a regression
    everything = {cid: 1.3 for cid in IDS}
    drifted = compare.compare(run_doc(medians(everything), seed=100), run_doc(medians()))
    assert drifted.drift == pytest.approx(0.3, rel=0.05)
    assert drifted.limit > 0.8 and drifted.count("slower") == 0
    # only fastarm got 30 % slower, NumPy did not move: a regression
    only_fastarm = {IDS[1]: 1.3, IDS[2]: 1.3}
    real = compare.compare(run_doc(medians(only_fastarm), seed=100), run_doc(medians()))
    assert real.drift < 0.02 and real.count("slower") == 2
    assert real.exit_code == compare.EXIT_REGRESSION


def test_too_noisy_environment_takes_precedence_over_a_regression() -> None:
    base = run_doc(medians(), spread=0.5, seed=0)
    new = run_doc(medians({IDS[1]: 20.0}), spread=0.5, seed=100)
    result = compare.compare(new, base)
    assert result.count("slower") == 1  # reported ...
    assert result.exit_code == compare.EXIT_TOO_NOISY  # ... but this environment cannot judge


def test_significant_slowdown_within_the_noise_is_too_noisy_not_same() -> None:
    # noise ~5 % (limit ~15 %): a clear 10 % slowdown cannot be called a regression here, but it
    # must not pass as "same" either
    base = doc([case(IDS[1], samples(1000.0, 0.07, n=40, seed=1))])
    new = doc([case(IDS[1], samples(1100.0, 0.07, n=40, seed=2))])
    result = compare.compare(new, base)
    (verdict,) = result.cases
    assert result.limit > 0.1 and verdict.p_slower < 0.01
    assert verdict.verdict == "too-noisy"
    assert result.exit_code == compare.EXIT_TOO_NOISY
