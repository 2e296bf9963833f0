"""Backend discovery and selection: simd_info, use_backend, FASTARM_SIMD."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastarm

SRC = str(Path(fastarm.__file__).resolve().parent.parent)


def test_simd_info_keys_and_types() -> None:
    info = fastarm.simd_info()
    assert {"machine", "features", "compiled", "usable", "active"} <= set(info)
    assert isinstance(info["machine"], str)
    for key in ("features", "compiled", "usable"):
        assert isinstance(info[key], list) and all(isinstance(x, str) for x in info[key])
    assert info["compiled"][0] == "scalar" and "scalar" in info["usable"]
    assert set(info["usable"]) <= set(info["compiled"])
    assert info["active"] in info["usable"]


def test_machine_matches_platform() -> None:
    machine = platform.machine().lower()
    expected = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    assert fastarm.simd_info()["machine"] == expected


def test_usable_backends_follow_probed_features() -> None:
    info = fastarm.simd_info()
    feats = set(info["features"])
    needs = {
        "avx2": {"avx2", "fma", "f16c", "os_ymm_state"},
        "avx512": {"avx512f", "avx512bw", "avx512vl", "avx512dq", "os_zmm_state"},
        "avx512_spr": {"avx512f", "avx512vnni", "avx512fp16", "os_zmm_state"},
        "neon": {"asimd"},
        "neon_fhm_dot": {"asimd", "asimdfhm", "asimddp"},
    }
    for name in info["compiled"]:
        if name in needs:
            assert (name in info["usable"]) == needs[name].issubset(feats), name


def test_default_is_best_usable() -> None:
    code = "import fastarm, json; i = fastarm.simd_info(); print(json.dumps(i))"
    env = {k: v for k, v in os.environ.items() if k != "FASTARM_SIMD"}
    env["PYTHONPATH"] = SRC
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    info = json.loads(out.stdout)
    assert info["active"] == info["usable"][-1]


def test_use_backend_plain_call_and_context_manager() -> None:
    usable = fastarm.simd_info()["usable"]
    start = fastarm.simd_info()["active"]
    for name in usable:
        with fastarm.use_backend(name) as ctx:
            assert fastarm.simd_info()["active"] == name
            assert ctx.previous == start
        assert fastarm.simd_info()["active"] == start
    try:
        fastarm.use_backend("scalar")
        assert fastarm.simd_info()["active"] == "scalar"
    finally:
        fastarm.use_backend(start)


def test_use_backend_restores_after_exception() -> None:
    start = fastarm.simd_info()["active"]
    with pytest.raises(RuntimeError), fastarm.use_backend("scalar"):
        raise RuntimeError("boom")
    assert fastarm.simd_info()["active"] == start


@pytest.mark.parametrize(
    "name",
    [
        "nonsense",
        "",
        "SCALAR",
        "scalar\x00x",
        "neon" if platform.machine() in ("x86_64", "AMD64") else "avx2",
    ],
)
def test_use_backend_rejects_unknown(name: str) -> None:
    start = fastarm.simd_info()["active"]
    with pytest.raises(ValueError, match="usable backends here") as err:
        fastarm.use_backend(name)
    for usable in fastarm.simd_info()["usable"]:
        assert usable in str(err.value)
    assert fastarm.simd_info()["active"] == start
    with pytest.raises(TypeError):
        fastarm.use_backend(3)  # type: ignore[arg-type]


def test_backends_give_consistent_results() -> None:
    rng = np.random.default_rng(0)
    a, b = (
        rng.integers(-128, 128, 5001).astype(np.int8),
        rng.integers(-128, 128, 5001).astype(np.int8),
    )
    results = set()
    for name in fastarm.simd_info()["usable"]:
        with fastarm.use_backend(name):
            results.add((fastarm.dot(a, b), fastarm.sqeuclidean(a, b), fastarm.minmax(a)))
    assert len(results) == 1


def _run_with_env(value: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import warnings, json\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    import fastarm\n"
        "print(json.dumps({'active': fastarm.simd_info()['active'], "
        "'usable': fastarm.simd_info()['usable'], "
        "'warnings': [(x.category.__name__, str(x.message)) for x in w]}))\n"
    )
    env = dict(os.environ, FASTARM_SIMD=value, PYTHONPATH=SRC)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )


@pytest.mark.parametrize("name", fastarm.simd_info()["usable"])
def test_fastarm_simd_env_forces_backend(name: str) -> None:
    result = json.loads(_run_with_env(name).stdout)
    assert result["active"] == name
    assert result["warnings"] == []


def test_fastarm_simd_env_unknown_warns_and_falls_back() -> None:
    result = json.loads(_run_with_env("no-such-backend").stdout)
    assert result["active"] == result["usable"][-1]
    assert len(result["warnings"]) == 1
    category, message = result["warnings"][0]
    assert category == "RuntimeWarning"
    assert "no-such-backend" in message
    for name in result["usable"]:
        assert name in message
