from __future__ import annotations

import numpy as np
import pytest

from fastarm.bench import suite

IDS = [
    "dot/float32/1536/numpy",
    "dot/float32/1536/fastarm",
    "dot/float16/1000000/simsimd",
    "cosine/int8/1536/fastarm[scalar]",
    "cosine/float32/1536/numpy",
]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (None, IDS),
        ("dot", IDS[:3]),
        ("cosine and not int8", [IDS[4]]),
        ("float16 or int8", [IDS[2], IDS[3]]),
        ("not (dot or numpy)", [IDS[3]]),
        ("DOT and FLOAT32", IDS[:2]),
        ("dot/*/1536/*,cosine/int8/*", [IDS[0], IDS[1], IDS[3]]),
        ("*/numpy", [IDS[0], IDS[4]]),
        ("fastarm and 1536", [IDS[1], IDS[3]]),
    ],
)
def test_selection(expr: str | None, expected: list[str]) -> None:
    predicate = suite.compile_selection(expr)
    assert [cid for cid in IDS if predicate(cid)] == expected


@pytest.mark.parametrize("expr", ["dot and", "(dot", "dot)", "or dot", "not"])
def test_bad_selection_is_a_clear_error(expr: str) -> None:
    with pytest.raises(suite.SelectionError, match="-k"):
        suite.compile_selection(expr)


def test_profiles() -> None:
    quick = suite.profile_groups("quick")
    full = suite.profile_groups("full")
    ids = {g.id for g in quick}
    assert {"dot/float32/1536", "dot/float32/1000000", "cosine/int8/1536"} <= ids
    assert {g.op for g in quick} == set(suite.OPS)
    assert ids < {g.id for g in full}
    assert len(ids) == len(quick)  # no duplicate groups
    with pytest.raises(ValueError, match="unknown profile"):
        suite.profile_groups("huge")


def test_inputs_are_deterministic_and_typed() -> None:
    g = suite.Group("dot", "int8", 100)
    a1, b1 = suite.make_inputs(g, seed=3)
    a2, b2 = suite.make_inputs(g, seed=3)
    assert a1.dtype == np.int8 and a1.shape == (100,)
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2)
    assert not np.array_equal(a1, suite.make_inputs(g, seed=4)[0])
    xa, xb = suite.make_inputs(suite.Group("cdist", "float32", 16))
    assert xa.shape == (suite.CDIST_ROWS, 16) and xb.dtype == np.float32
    (a,) = suite.make_inputs(suite.Group("minmax", "uint8", 50))
    assert a.dtype == np.uint8


@pytest.mark.parametrize("dtype", suite.VECTOR_DTYPES)
def test_numpy_expressions_compute_the_right_thing(dtype: str) -> None:
    for op in ("dot", "sqeuclidean", "cosine"):
        g = suite.Group(op, dtype, 257)
        a, b = suite.make_inputs(g)
        x, y = a.astype(np.float64), b.astype(np.float64)
        ref = {
            "dot": x @ y,
            "sqeuclidean": (x - y) @ (x - y),
            "cosine": 1 - x @ y / np.sqrt((x @ x) * (y @ y)),
        }[op]
        got = float(suite.numpy_impl(g, (a, b))())
        tol = 2e-2 if dtype == "float16" else 1e-4
        assert got == pytest.approx(ref, rel=tol, abs=tol * 10), (op, dtype)
        if dtype in ("int8", "uint8") and op != "cosine":
            assert got == ref  # integer results are exact (inputs are widened first)


def test_numpy_cdist_minmax_mean_var() -> None:
    g = suite.Group("cdist", "float32", 8)
    xa, xb = suite.make_inputs(g)
    out = suite.numpy_impl(g, (xa, xb))()
    assert out.shape == (suite.CDIST_ROWS, suite.CDIST_ROWS)
    assert out[1, 2] == pytest.approx(float(((xa[1] - xb[2]) ** 2).sum()), rel=1e-5)
    (a,) = suite.make_inputs(suite.Group("minmax", "float32", 99))
    assert suite.numpy_impl(suite.Group("minmax", "float32", 99), (a,))() == (a.min(), a.max())
    mean, var = suite.numpy_impl(suite.Group("mean_var", "float32", 99), (a,))()
    assert mean == pytest.approx(a.mean()) and var == pytest.approx(a.var())


def test_every_op_documents_its_numpy_expression() -> None:
    assert set(suite.NUMPY_EXPRESSIONS) == set(suite.OPS)


def test_plan_and_callables() -> None:
    plan = suite.plan("quick", "dot and float32 and 1536")
    assert [g.id for g, _ in plan.groups] == ["dot/float32/1536"]
    impls = plan.groups[0][1]
    assert impls[0] == "numpy"
    fastarm, _why = suite.load_fastarm()
    assert ("fastarm" in impls) == (fastarm is not None)
    if fastarm is None:
        assert any("fastarm" in note for note in plan.notes)
    calls, notes = suite.build_callables(plan.groups[0][0], impls)
    assert set(calls) == set(impls) and not notes
    for fn in calls.values():
        fn()


def test_impl_backend() -> None:
    assert suite.impl_backend("fastarm[avx2]") == "avx2"
    assert suite.impl_backend("fastarm") is None
    assert suite.impl_backend("numpy") is None


def test_unsupported_simsimd_case_is_omitted_with_a_note() -> None:
    g = suite.Group("minmax", "float32", 10)
    calls, notes = suite.build_callables(g, ["numpy", "simsimd"])
    assert list(calls) == ["numpy"]
    assert notes == ["minmax/float32/10/simsimd: not supported, omitted"]
