"""Fingerprint collection: hardware facts from recorded trees, process facts from here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import envfixtures
from fastarm.bench.env import probe
from fastarm.bench.env.sources import parse_cpuinfo

SCHEMA_FIELDS = {
    "key",
    "kind",
    "layers",
    "os",
    "os_release",
    "kernel",
    "arch",
    "cpu_model",
    "cpu_count",
    "cpu_features",
    "backend",
    "backends_compiled",
    "backends_usable",
    "python",
    "numpy",
    "compiler",
    "blas",
    "git",
    "soft",
}


@pytest.mark.parametrize(
    ("name", "os_release", "kernel", "cpu_model", "cpus", "features"),
    [
        (
            "graviton3-metal",
            "Amazon Linux 2023.6.20241121",
            "6.1.115-126.197.amzn2023.aarch64",
            "ARM Neoverse-V1",
            2,
            {"asimd", "sve", "i8mm", "bf16", "asimddp"},
        ),
        (
            "firecracker-kvm-docker",
            "Debian GNU/Linux 12 (bookworm)",
            "6.18.44-fc-v657",
            "Intel(R) Xeon(R) Processor (family 6, model 207)",  # the VM masks the name
            2,
            {"avx2", "avx512f", "avx512_fp16", "amx_tile"},
        ),
        (
            "native-x86-linux",
            "Ubuntu 24.04.1 LTS",
            "6.8.0-49-generic",
            "AMD Ryzen 9 7950X 16-Core Processor",
            2,
            {"avx2", "avx512f", "avx512_bf16", "fma", "f16c"},
        ),
        (
            "qemu-system-arm64-vm",
            "Debian GNU/Linux 12 (bookworm)",
            "6.1.0-27-arm64",
            "QEMU max",
            2,
            {"asimd", "sve2", "i8mm"},
        ),
        (
            "docker-desktop-macos-arm64",
            "Debian GNU/Linux 12 (bookworm)",
            "6.10.14-linuxkit",
            "Apple M1",
            2,
            {"asimd", "asimdhp"},
        ),
    ],
)
def test_hardware_fields_from_recorded_trees(
    name: str, os_release: str, kernel: str, cpu_model: str, cpus: int, features: set[str]
) -> None:
    root, facts = envfixtures.load(name)
    env = probe.fingerprint(root, **facts)
    assert env["os_release"] == os_release
    assert env["kernel"] == kernel
    assert env["cpu_model"] == cpu_model
    assert env["cpu_count"] == cpus
    assert env["arch"] == facts["uname_machine"]
    if env["cpu_features_source"] == "cpuinfo":  # fastarm's own probe wins once it is built
        assert features <= set(env["cpu_features"])
    assert env["soft"]["hostname"] is None  # not this machine's


def test_features_of_the_host_cpu_are_labelled_under_emulation() -> None:
    root, facts = envfixtures.load("qemu-user-aarch64-chroot")
    env = probe.fingerprint(root, **facts)
    assert env["arch"] == "aarch64"
    if env["cpu_features_source"] != "fastarm":  # fastarm's probe is not the host's cpuinfo
        assert env["cpu_features_source"] == "cpuinfo-host"


def test_x86_flags_are_reduced_to_simd_ones() -> None:
    cpu = parse_cpuinfo("flags\t: fpu vme sse sse2 ssse3 avx2 hypervisor avx512f amx_tile lm\n")
    assert probe.cpuinfo_features(cpu) == ["amx_tile", "avx2", "avx512f", "sse", "sse2", "ssse3"]


def test_macos_fields_from_sysctl() -> None:
    root, facts = envfixtures.load("macos-vm")
    env = probe.fingerprint(root, **facts)
    assert env["os"] == "Darwin"
    assert env["cpu_model"] == "Apple M2 Pro (Virtual)"
    assert env["kind"] == "vm"
    assert env["key"].startswith("macos-arm64-apple-m2-pro-virtual--vm.apple-virtualization--")
    if env["cpu_features_source"] == "sysctl":
        assert {"FEAT_FP16", "FEAT_DotProd", "AdvSIMD"} <= set(env["cpu_features"])


def test_fastarm_info_without_the_extension_keeps_going() -> None:
    info = probe.fastarm_info()
    assert info["backend"]  # a backend name, or "unavailable" with the reason
    if info["backend"] == "unavailable":
        assert info["error"]
    else:
        assert info["backend"] in info["usable"]


def test_git_state_of_this_checkout() -> None:
    state = probe.git_state()
    here = Path(probe.__file__).resolve().parent
    if shutil.which("git") is None:
        assert state == {"commit": None, "dirty": None}
        return
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True)
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", here.name], cwd=here.parent, capture_output=True
    )
    if head.returncode == 0 and tracked.returncode == 0:
        assert state["commit"] == head.stdout.strip()
        assert isinstance(state["dirty"], bool)
    else:
        assert state["commit"] is None


def test_git_state_override_for_copies_without_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTARM_GIT_COMMIT", "abc123")
    monkeypatch.setenv("FASTARM_GIT_DIRTY", "1")
    assert probe.git_state() == {"commit": "abc123", "dirty": True}


def test_git_state_outside_a_repository(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    assert probe.git_state(tmp_path / "pkg") == {"commit": None, "dirty": None}


def test_live_fingerprint_is_complete_and_json() -> None:
    env = probe.fingerprint()
    assert set(env) >= SCHEMA_FIELDS
    assert json.loads(json.dumps(env)) == env
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["cpu_count"] and env["cpu_count"] >= 1
    assert env["soft"]["hostname"]
    assert set(env["soft"]) >= {"hostname", "loadavg", "cpu_mhz", "timestamp"}
    for layer in env["layers"]:
        assert set(layer) == {"type", "name", "evidence"} and layer["evidence"]
