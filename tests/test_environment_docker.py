"""End to end: the fingerprint taken inside real Docker containers (the real engine, no mocks).

No image can be pulled, so the containers start from a tiny local skeleton image (empty
directories and the usr-merge symlinks) and get their userland through read-only bind mounts: this
machine's ``/usr`` and Python for the native case, an arm64 root filesystem
(``FASTARM_ARM64_ROOTFS``) for the emulated one.  The engine still creates everything that makes
it a container -- namespaces, cgroups, the overlay root, ``/.dockerenv`` -- which is what the
fingerprint must see.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import require
from fastarm.bench import environment
from fastarm.bench.environment import detect_layers

SRC = Path(environment.__file__).resolve().parents[2]
IMAGE = "env-fingerprint-test"
TAG = "skeleton"


def _skeleton_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("usr", "etc", "tmp", "proc", "sys", "dev", "run", "mnt", "mnt/src"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        for name, target in (("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")):
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


@pytest.fixture(scope="module")
def docker_client() -> Iterator[Any]:
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        require("docker", False, "the docker SDK is not installed (pip install 'fastarm[docker]')")
        return
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as exc:
        require("docker", False, f"no reachable Docker engine ({exc})")
        return
    client.api.import_image_from_data(_skeleton_tar(), repository=IMAGE, tag=TAG)
    try:
        yield client
    finally:
        client.images.remove(f"{IMAGE}:{TAG}", force=True)
        client.close()


def _run(client: Any, command: list[str], volumes: dict[str, dict[str, str]]) -> dict[str, Any]:
    container = client.containers.create(
        f"{IMAGE}:{TAG}",
        command,
        name=f"env-fingerprint-test-{uuid.uuid4().hex[:8]}",
        volumes={**volumes, str(SRC): {"bind": "/mnt/src", "mode": "ro"}},
        environment={"PYTHONPATH": "/mnt/src", "PYTHONDONTWRITEBYTECODE": "1"},
        working_dir="/tmp",
    )
    try:
        container.start()
        status = container.wait(timeout=300)
        out = container.logs(stdout=True, stderr=False).decode()
        err = container.logs(stdout=False, stderr=True).decode()
        assert status["StatusCode"] == 0, err
        return json.loads(out)
    finally:
        container.remove(force=True)


def _userland(root: Path) -> dict[str, dict[str, str]]:
    """``/usr`` of ``root`` plus the two files of its ``/etc`` that matter here (read-only)."""
    volumes = {str(root / "usr"): {"bind": "/usr", "mode": "ro"}}
    for name in ("os-release", "ld.so.cache"):
        source = root / "etc" / name
        if source.is_symlink():  # e.g. os-release -> ../usr/lib/os-release, resolved inside root
            target = os.readlink(source)
            source = root / target.lstrip("/") if target.startswith("/") else source.parent / target
        if source.is_file():
            volumes[os.path.normpath(source)] = {"bind": f"/etc/{name}", "mode": "ro"}
    return volumes


def _host_vm() -> list[tuple[str, str]]:
    return [(layer.type, layer.name) for layer in detect_layers() if layer.type == "vm"]


def test_fingerprint_inside_a_docker_container(docker_client: Any) -> None:
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)}
    volumes = {p: {"bind": p, "mode": "ro"} for p in prefixes}
    volumes.update(_userland(Path("/")))
    python = os.path.realpath(sys.executable)
    env = _run(docker_client, [python, "-m", "fastarm.bench.environment"], volumes)
    layers = [(layer["type"], layer["name"]) for layer in env["layers"]]
    # The VM this machine runs in (if any) is seen from inside too, then the container.
    assert layers == [*_host_vm(), ("container", "docker")]
    container = env["layers"][-1]
    assert "/.dockerenv exists" in container["evidence"]
    assert len(container["evidence"]) >= 2  # cgroup or mountinfo evidence besides /.dockerenv
    assert env["kind"] == ("vm" if _host_vm() else "container")
    assert env["arch"] == os.uname().machine


def _arm64_rootfs() -> tuple[bool, str, Path | None]:
    rootfs = os.environ.get("FASTARM_ARM64_ROOTFS")
    if not rootfs:
        return False, "FASTARM_ARM64_ROOTFS (an arm64 Debian root filesystem) is not set", None
    root = Path(rootfs)
    if not (root / "usr/bin/python3").exists():
        return False, f"{root} has no usr/bin/python3", None
    binfmt = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
    if not binfmt.exists() or "enabled" not in binfmt.read_text():
        return False, "qemu-aarch64 is not registered in binfmt_misc (flag F)", None
    return True, "", root


def test_fingerprint_inside_an_emulated_arm64_container(docker_client: Any) -> None:
    ready, why, root = _arm64_rootfs()
    require("emulation", ready, why)
    assert root is not None
    volumes = _userland(root)
    # An emulated shell as PID 1 (not exec'ing Python): the kernel then shows its interpreter.
    command = ["/bin/sh", "-c", "/usr/bin/python3 -m fastarm.bench.environment; exit $?"]
    env = _run(docker_client, command, volumes)
    assert env["arch"] == "aarch64"
    layers = [(layer["type"], layer["name"]) for layer in env["layers"]]
    assert layers == [*_host_vm(), ("container", "docker"), ("emulated", "qemu-user")]
    assert env["kind"] == "emulated"
    evidence = env["layers"][-1]["evidence"]
    assert any(line.startswith("uname -m = aarch64 but /proc/cpuinfo") for line in evidence)
    assert any(line.startswith("/proc/1/exe -> ") and "qemu-aarch64" in line for line in evidence)
    assert env["key"].startswith("linux-aarch64-")
    assert "container.docker+emulated.qemu-user--" in env["key"]
