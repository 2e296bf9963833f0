"""The public API's contract: accepted inputs, empty inputs, and every error path."""

from __future__ import annotations

import array
import math
import sys
import warnings

import numpy as np
import pytest

import fastarm

BINARY = [fastarm.dot, fastarm.sqeuclidean, fastarm.cosine]


def test_public_names() -> None:
    for name in [
        "dot",
        "sqeuclidean",
        "cosine",
        "cdist",
        "minmax",
        "mean_var",
        "simd_info",
        "use_backend",
    ]:
        assert callable(getattr(fastarm, name)), name


@pytest.mark.parametrize("fn", BINARY)
def test_any_buffer_protocol_object(fn) -> None:
    x = [1.0, 2.0, -3.5, 4.25]
    y = [0.5, -1.0, 2.0, 8.0]
    expected = fn(np.array(x), np.array(y))
    assert fn(array.array("d", x), array.array("d", y)) == expected
    assert fn(memoryview(np.array(x)), memoryview(array.array("d", y))) == expected
    assert fn(np.array(x, dtype="<f8"), np.array(y, dtype="=f8")) == expected
    # bytes export unsigned bytes ('B')
    assert fastarm.dot(b"\x01\x02\x03", b"\x04\x05\x06") == 32.0


def test_empty_inputs_follow_numpy() -> None:
    for dtype in ["float64", "float32", "float16", "int8", "uint8"]:
        e = np.zeros(0, dtype)
        assert fastarm.dot(e, e) == 0.0 == float(np.dot(e.astype(float), e.astype(float)))
        assert fastarm.sqeuclidean(e, e) == 0.0
        assert math.isnan(fastarm.cosine(e, e))
    with pytest.raises(ValueError, match="empty"):
        fastarm.minmax(np.zeros(0))
    with pytest.warns(RuntimeWarning, match="empty"):
        mean, var = fastarm.mean_var(np.zeros(0))
    assert math.isnan(mean) and math.isnan(var)


def test_cosine_matches_scipy_conventions() -> None:
    a = np.array([1.0, 2.0, 3.0])
    assert fastarm.cosine(a, a) == 0.0  # clipped: rounding never gives a tiny negative distance
    assert fastarm.cosine(a, -a) == 2.0
    assert math.isnan(fastarm.cosine(a, np.zeros(3)))
    assert fastarm.cosine(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == 1.0


def test_mean_var_ddof() -> None:
    a = np.array([1.0, 2.0, 4.0, 7.0])
    assert fastarm.mean_var(a) == pytest.approx((np.mean(a), np.var(a)))
    assert fastarm.mean_var(a, ddof=1) == pytest.approx((np.mean(a), np.var(a, ddof=1)))
    assert fastarm.mean_var(a, 2)[1] == pytest.approx(np.var(a, ddof=2))
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        assert fastarm.mean_var(a, ddof=4)[1] == math.inf
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        assert math.isnan(fastarm.mean_var(np.ones(1), ddof=1)[1])
    with pytest.raises(TypeError):
        fastarm.mean_var(a, ddof=1.5)


def test_minmax_types() -> None:
    assert fastarm.minmax(np.array([3, -7, 5], np.int8)) == (-7, 5)
    assert fastarm.minmax(np.array([3, 250, 5], np.uint8)) == (3, 250)
    assert fastarm.minmax(np.array([1.5, -2.5], np.float32)) == (-2.5, 1.5)
    with pytest.raises(TypeError, match="float16"):
        fastarm.minmax(np.zeros(3, np.float16))


@pytest.mark.parametrize("fn", BINARY)
def test_binary_errors(fn) -> None:
    a = np.zeros(4)
    with pytest.raises(TypeError, match="buffer protocol"):
        fn([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(TypeError, match="buffer protocol"):
        fn(None, a)
    with pytest.raises(TypeError, match="buffer protocol"):
        fn(a, "abcd")
    with pytest.raises(TypeError, match="same dtype"):
        fn(a, a.astype(np.float32))
    with pytest.raises(ValueError, match="same length"):
        fn(a, np.zeros(5))
    with pytest.raises(ValueError, match="1-D"):
        fn(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="1-D"):
        fn(np.float64(1.0), np.float64(1.0))
    for bad in ["int32", "int64", "int16", "uint16", "bool", "complex128", "longdouble"]:
        with pytest.raises(TypeError, match="unsupported element type"):
            fn(np.zeros(4, bad), np.zeros(4, bad))
    with pytest.raises(ValueError, match="byte order"):
        fn(np.zeros(4, ">f8"), np.zeros(4, ">f8"))
    with pytest.raises(TypeError, match="exactly 2"):
        fn(a)
    with pytest.raises(TypeError, match="exactly 2"):
        fn(a, a, a)
    with pytest.raises(TypeError):
        fn(a=a, b=a)


def test_structured_and_record_buffers_rejected() -> None:
    rec = np.zeros(3, dtype=[("x", "f8"), ("y", "f8")])
    with pytest.raises(TypeError, match="unsupported element type"):
        fastarm.dot(rec, rec)


def test_broadcast_zero_stride_input() -> None:
    one = np.lib.stride_tricks.as_strided(np.array([2.0]), shape=(1000,), strides=(0,))
    assert fastarm.dot(one, one) == 4000.0


def test_huge_virtual_length_fails_cleanly() -> None:
    huge = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(sys.maxsize // 16,), strides=(0,))
    with pytest.raises(MemoryError):
        fastarm.dot(huge, huge)


def test_cdist_defaults_and_out() -> None:
    xa = np.arange(6, dtype=np.float64).reshape(2, 3)
    xb = np.arange(9, dtype=np.float64).reshape(3, 3)[::-1]
    expected = ((xa[:, None, :] - xb[None, :, :]) ** 2).sum(-1)
    got = fastarm.cdist(xa, xb)
    assert got.dtype == np.float64 and got.shape == (2, 3)
    assert np.array_equal(got, expected)
    out = np.full((2, 3), -1.0)
    assert fastarm.cdist(xa, xb, "sqeuclidean", out=out) is out
    assert np.array_equal(out, expected)
    assert np.array_equal(fastarm.cdist(xa, xb, "dot"), xa @ xb.T)


def test_cdist_errors() -> None:
    xa, xb = np.zeros((2, 3)), np.zeros((4, 3))
    with pytest.raises(ValueError, match="unknown metric"):
        fastarm.cdist(xa, xb, "euclidean")
    with pytest.raises(TypeError):
        fastarm.cdist(xa, xb, 3)
    with pytest.raises(ValueError, match="2-D"):
        fastarm.cdist(np.zeros(3), xb)
    with pytest.raises(ValueError, match="columns"):
        fastarm.cdist(xa, np.zeros((4, 5)))
    with pytest.raises(TypeError, match="same dtype"):
        fastarm.cdist(xa, xb.astype(np.float32))
    with pytest.raises(TypeError, match="buffer protocol"):
        fastarm.cdist([[1.0]], [[1.0]])
    ro = np.zeros((2, 4))
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        fastarm.cdist(xa, xb, out=ro)
    with pytest.raises(ValueError, match="shape"):
        fastarm.cdist(xa, xb, out=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        fastarm.cdist(xa, xb, out=np.zeros(8))
    with pytest.raises(TypeError, match="float64 or float32"):
        fastarm.cdist(xa, xb, out=np.zeros((2, 4), np.int64))
    with pytest.raises(ValueError, match="C-contiguous"):
        fastarm.cdist(xa, xb, out=np.zeros((4, 2)).T)
    with pytest.raises(TypeError, match="writable"):
        fastarm.cdist(xa, xb, out=[[0.0] * 4] * 2)
    with pytest.raises(TypeError):
        fastarm.cdist(xa, xb, "dot", None)  # out is keyword-only


def test_inputs_unchanged_and_readonly_accepted() -> None:
    a = np.arange(100, dtype=np.float32)
    a.setflags(write=False)
    before = a.copy()
    fastarm.dot(a, a)
    fastarm.mean_var(a)
    assert np.array_equal(a, before)


def test_no_numpy_warnings_leak() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(fastarm.cosine(np.zeros(3), np.zeros(3)))


def test_package_imports_without_the_extension(tmp_path) -> None:
    """A tree without a built extension (a checkout, another architecture's build) still imports
    -- the harness's fingerprint needs that -- and every kernel says how to build it."""
    import shutil
    import subprocess
    from pathlib import Path

    package = Path(fastarm.__file__).parent
    shutil.copytree(package, tmp_path / "fastarm", ignore=shutil.ignore_patterns("*.so", "*.pyd"))
    script = (
        "import fastarm\n"
        "for name in ('dot', 'cdist', 'simd_info'):\n"
        "    try:\n"
        "        getattr(fastarm, name)\n"
        "    except ImportError as exc:\n"
        "        assert 'invoke build' in str(exc) and 'pip install .' in str(exc), exc\n"
        "    else:\n"
        "        raise SystemExit(name + ' did not raise')\n"
        "try:\n"
        "    fastarm.use_backend('scalar')\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('use_backend did not raise')\n"
        "from fastarm.bench.env.probe import fastarm_info\n"
        "assert fastarm_info()['backend'] == 'unavailable'\n"
        "print('ok')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path), "FASTARM_SIMD": "scalar"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
