"""The environment key (hard fields only) and the human description."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

import envfixtures
from fastarm.bench.env.key import cpu_slug, describe, environment_key, warning
from fastarm.bench.environment import fingerprint

SAFE = re.compile(r"^[a-z0-9._+-]+$")


def _env(**changes: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "kind": "vm",
        "layers": [
            {"type": "vm", "name": "kvm", "evidence": ["cpuinfo flags: hypervisor"]},
            {"type": "container", "name": "docker", "evidence": ["/.dockerenv exists"]},
        ],
        "os": "Linux",
        "os_release": "Debian GNU/Linux 12 (bookworm)",
        "kernel": "6.1.0-27-amd64",
        "arch": "x86_64",
        "cpu_model": "Intel(R) Xeon(R) Platinum 8488C",
        "cpu_count": 2,
        "cpu_features": ["avx2", "avx512f"],
        "backend": "avx512",
        "backends_compiled": ["scalar", "avx2", "avx512"],
        "backends_usable": ["scalar", "avx2", "avx512"],
        "python": "3.11.7",
        "python_implementation": "CPython",
        "numpy": "2.4.6",
        "git": {"commit": "0123456789abcdef", "dirty": False},
        "soft": {"hostname": "runner-1", "loadavg": [0.1, 0.2, 0.3], "cpu_mhz": 2100.0},
    }
    env.update(changes)
    return env


def test_key_format() -> None:
    assert (
        environment_key(_env())
        == "linux-x86_64-intel-xeon-platinum-8488c--vm.kvm+container.docker--avx512--py3.11"
    )
    native = _env(layers=[], os="Darwin", arch="arm64", cpu_model="Apple M2 Pro", backend="neon")
    assert environment_key(native) == "macos-arm64-apple-m2-pro--native--neon--py3.11"
    spr = _env(layers=[], backend="avx512_spr", arch=None, python="3.12.0")
    assert environment_key(spr) == (
        "linux-unknown-arch-intel-xeon-platinum-8488c--native--avx512_spr--py3.12"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"soft": {"hostname": "elsewhere", "loadavg": [3.0, 2.0, 1.0], "cpu_mhz": 3400.0}},
        {"kernel": "6.1.0-28-amd64"},  # a kernel patch release
        {"python": "3.11.2"},  # a Python patch release
        {"os_release": "Debian GNU/Linux 12.8"},
        {"cpu_count": 64},
        {"cpu_features": ["avx2"]},
        {"numpy": "1.26.4"},
        {"git": {"commit": "fedcba9876543210", "dirty": True}},
        {"backends_usable": ["scalar"]},
        {"kind": "emulated"},  # derived from layers; layers decide
    ],
)
def test_soft_fields_never_change_the_key(change: dict[str, Any]) -> None:
    assert environment_key(_env(**change)) == environment_key(_env())


def test_evidence_text_never_changes_the_key() -> None:
    env = _env()
    other = copy.deepcopy(env)
    other["layers"][0]["evidence"] = ["/sys/class/dmi/id/sys_vendor = QEMU", "kvm-clock"]
    assert environment_key(other) == environment_key(env)


@pytest.mark.parametrize(
    "change",
    [
        {"backend": "avx2"},
        {"backend": "avx512_spr"},
        {"backend": "unavailable"},
        {"layers": [{"type": "container", "name": "docker", "evidence": []}]},
        {"layers": []},
        {"layers": [{"type": "vm", "name": "vmware", "evidence": []}]},
        {"arch": "aarch64"},
        {"cpu_model": "AMD EPYC 7763 64-Core Processor"},
        {"python": "3.12.1"},
        {"python_implementation": "PyPy"},
        {"os": "Darwin"},
    ],
)
def test_hard_fields_change_the_key(change: dict[str, Any]) -> None:
    assert environment_key(_env(**change)) != environment_key(_env())


def test_missing_hard_field_is_a_clear_error() -> None:
    env = _env()
    del env["backend"]
    with pytest.raises(ValueError, match="backend"):
        environment_key(env)


@pytest.mark.parametrize(
    ("model", "slug"),
    [
        ("Intel(R) Xeon(R) Platinum 8488C CPU @ 2.40GHz", "intel-xeon-platinum-8488c"),
        ("Intel(R) Xeon(R) Processor", "intel-xeon"),
        ("Intel(R) Xeon(R) Processor (family 6, model 207)", "intel-xeon-family-6-model-207"),
        ("AMD EPYC 7763 64-Core Processor", "amd-epyc-7763"),
        ("12th Gen Intel(R) Core(TM) i7-12700H", "12th-gen-intel-core-i7-12700h"),
        ("ARM Neoverse-V1", "arm-neoverse-v1"),
        ("Apple M2 Pro (Virtual)", "apple-m2-pro-virtual"),
        (None, "unknown-cpu"),
        ("", "unknown-cpu"),
        ("CPU", "cpu"),
    ],
)
def test_cpu_slug(model: str | None, slug: str) -> None:
    assert cpu_slug(model) == slug


def test_cpu_slug_is_bounded() -> None:
    assert len(cpu_slug("Vendor " + "Extremely Long Model Name " * 10)) <= 48


def test_fixture_keys_are_safe_and_distinct() -> None:
    keys: dict[str, str] = {}
    for name in envfixtures.names():
        root, facts = envfixtures.load(name)
        env = fingerprint(root, **facts)
        assert SAFE.match(env["key"]), env["key"]
        assert env["key"] == environment_key(env)
        keys[name] = env["key"]
    # The same environment recorded twice -> the same key: an emulated container with a different
    # PID 1, and a container started on the recording machine (itself a container in a KVM guest:
    # one container layer is what can be seen from inside).  Every other fixture differs.
    assert keys.pop("docker-kvm-arm64-qemu-user-sh") == keys["docker-kvm-arm64-qemu-user"]
    assert keys.pop("docker-kvm-amd64") == keys["firecracker-kvm-docker"]
    assert len(set(keys.values())) == len(keys)


def test_describe_native_has_no_warning() -> None:
    text = describe(_env(layers=[], kind="native"))
    assert "WARNING" not in text
    assert warning(_env(layers=[], kind="native")) is None
    assert "native" in text and "Intel(R) Xeon(R) Platinum 8488C" in text
    assert "linux-x86_64-intel-xeon-platinum-8488c--native--avx512--py3.11" in text


@pytest.mark.parametrize(
    ("layers", "words"),
    [
        ([{"type": "vm", "name": "kvm"}], ["VIRTUALISED", "vm:kvm", "not representative"]),
        ([{"type": "container", "name": "docker"}], ["CONTAINERISED", "container:docker"]),
        (
            [{"type": "vm", "name": "kvm"}, {"type": "emulated", "name": "qemu-user"}],
            ["EMULATED", "vm:kvm > emulated:qemu-user", "not representative", "correctness only"],
        ),
    ],
)
def test_describe_warns_loudly_for_non_native(
    layers: list[dict[str, Any]], words: list[str]
) -> None:
    env = _env(layers=layers)
    del env["kind"]  # derived from the layers when absent
    first, last = describe(env).rsplit("\n", 1)
    assert "WARNING" not in first
    assert last.startswith("WARNING:")
    for word in words:
        assert word in last
