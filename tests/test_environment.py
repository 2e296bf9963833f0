"""The public fingerprint API, its command line, and what it says about real machines.

The live tests check this machine against independent evidence: the CPU's ``hypervisor`` flag
and DMI read here directly, and ``systemd-detect-virt`` when it is installed.  The emulated test
runs the fingerprint for real in an aarch64 root filesystem under qemu-user
(``FASTARM_ARM64_ROOTFS``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require
from fastarm.bench import environment
from fastarm.bench.environment import (
    describe,
    detect_layers,
    environment_key,
    fingerprint,
    kind_of,
)

SRC = Path(environment.__file__).resolve().parents[2]

# systemd-detect-virt's names -> the names fastarm may give the same layer
SYSTEMD_VM = {
    "kvm": {"kvm"},
    "qemu": {"qemu"},
    "amazon": {"amazon-ec2"},
    "vmware": {"vmware"},
    "oracle": {"virtualbox"},
    "microsoft": {"hyperv", "wsl2"},
    "parallels": {"parallels"},
    "apple": {"apple-virtualization"},
    "xen": {"xen"},
    "google": {"google-compute-engine"},
}
SYSTEMD_CONTAINER = {"docker": {"docker"}, "podman": {"podman"}, "lxc": {"lxc"}}


def _live_hints() -> tuple[bool, bool]:
    cpuinfo = (
        Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").exists() else ""
    )
    flags = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), "")
    dmi = Path("/sys/class/dmi/id/sys_vendor")
    vendor = dmi.read_text(errors="replace").strip() if dmi.exists() else ""
    vm_hint = " hypervisor" in flags or vendor.startswith(
        ("QEMU", "KVM", "VMware", "innotek", "Xen")
    )
    return vm_hint, Path("/.dockerenv").exists() or Path("/run/.containerenv").exists()


def test_live_machine_layers() -> None:
    """This development/CI machine is a container inside a VM; elsewhere, say what is known."""
    layers = detect_layers()
    types = [layer.type for layer in layers]
    vm_hint, container_hint = _live_hints()
    if vm_hint:
        assert types[0] == "vm", layers
    if container_hint:
        assert "container" in types, layers
    if vm_hint and container_hint:
        assert types[:2] == ["vm", "container"]
        assert kind_of(layers) in ("vm", "emulated")
    if not vm_hint and not container_hint and sys.platform == "linux":
        assert "vm" not in types or any(
            "dmi" in e or "device-tree" in e for e in layers[0].evidence
        )


def _systemd_detect_virt(flag: str) -> str | None:
    exe = shutil.which("systemd-detect-virt")
    if exe is None:
        return None
    out = subprocess.run([exe, flag], capture_output=True, text=True, timeout=10)
    return out.stdout.strip() or None


def test_live_machine_agrees_with_systemd_detect_virt() -> None:
    vm = _systemd_detect_virt("--vm")
    container = _systemd_detect_virt("--container")
    if vm is None and container is None:
        pytest.skip("systemd-detect-virt is not installed: no independent oracle here")
    layers = {layer.type: layer.name for layer in detect_layers()}
    if vm == "none":
        assert "vm" not in layers
    elif vm in SYSTEMD_VM:
        assert layers.get("vm") in SYSTEMD_VM[vm], (vm, layers)
    elif vm:
        assert "vm" in layers
    if container == "none":
        assert "container" not in layers
    elif container in SYSTEMD_CONTAINER:
        assert layers.get("container") in SYSTEMD_CONTAINER[container], (container, layers)


def test_fingerprint_kind_and_key_are_consistent() -> None:
    env = fingerprint()
    assert env["kind"] == kind_of(env["layers"])
    assert env["key"] == environment_key(env)
    assert [(d["type"], d["name"]) for d in env["layers"]] == [
        (layer.type, layer.name) for layer in detect_layers()
    ]
    text = describe(env)
    assert env["key"] in text
    assert ("WARNING" in text) == (env["kind"] != "native")


def _module_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def test_command_line_prints_the_fingerprint() -> None:
    cmd = [sys.executable, "-m", "fastarm.bench.environment"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=_module_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    env = json.loads(out.stdout)
    assert env["key"] == environment_key(env)
    key = subprocess.run([*cmd, "--key"], capture_output=True, text=True, env=_module_env())
    assert key.stdout.strip() == env["key"]
    text = subprocess.run([*cmd, "--describe"], capture_output=True, text=True, env=_module_env())
    assert env["key"] in text.stdout


def _emulation_ready() -> tuple[bool, str, Path | None]:
    rootfs = os.environ.get("FASTARM_ARM64_ROOTFS")
    if not rootfs:
        return False, "FASTARM_ARM64_ROOTFS (an arm64 Debian root filesystem) is not set", None
    root = Path(rootfs)
    if not (root / "usr/bin/python3").exists():
        return False, f"{root} has no usr/bin/python3", None
    binfmt = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
    if not binfmt.exists() or "enabled" not in binfmt.read_text():
        return False, "qemu-aarch64 is not registered in binfmt_misc", None
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False, "needs root and unshare(1) for a private mount namespace", None
    return True, "", root


def test_fingerprint_under_qemu_user_emulation() -> None:
    """Run the fingerprint for real as aarch64 Python under qemu-user, in a private chroot."""
    ready, why, root = _emulation_ready()
    require("emulation", ready, why)
    assert root is not None
    # A private mount namespace: /proc and the source tree are mounted only for this command and
    # vanish with it; the root filesystem itself is not written to.
    script = (
        'set -e; R="$1"; mount -t proc proc "$R/proc"; mount -t sysfs sysfs "$R/sys"; '
        'mount -t tmpfs tmpfs "$R/mnt"; mkdir "$R/mnt/src"; mount --bind "$2" "$R/mnt/src"; '
        'exec chroot "$R" /usr/bin/env PYTHONPATH=/mnt/src PYTHONDONTWRITEBYTECODE=1 '
        "/usr/bin/python3 -m fastarm.bench.environment"
    )
    cmd = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        str(root),
        str(SRC),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    env = json.loads(out.stdout)
    assert env["arch"] == "aarch64"
    assert env["kind"] == "emulated"
    emulated = [layer for layer in env["layers"] if layer["type"] == "emulated"]
    assert [layer["name"] for layer in emulated] == ["qemu-user"]
    assert any("uname -m = aarch64" in line for line in emulated[0]["evidence"])
    assert env["layers"][-1]["type"] == "emulated"  # innermost
    assert "correctness only" in describe(env)
