"""Record the files layer detection reads into a small text tree, for tests and bug reports.

``python -m fastarm.bench.env.record DEST [--source TEXT]`` writes ``DEST/root/...`` (only the files
the detectors read, as text) and ``DEST/facts.json`` (``uname -m``, the OS name, macOS sysctl
values, where it was recorded).  ``detect_layers(DEST / "root", **facts)`` then reproduces what
this machine says.  Nothing private is kept: ``/proc/1/environ`` is reduced to its ``container=``
entry and ``/proc/self/mountinfo`` to the root filesystem and container-engine mounts.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .layers import DMI_FIELDS
from .sources import read_link, read_sysctl, read_text, under

#: Files copied as they are (when they exist and are readable).
PLAIN_FILES: tuple[str, ...] = (
    "/proc/cpuinfo",
    "/proc/sys/kernel/osrelease",
    "/proc/sys/kernel/arch",
    *(f"/sys/class/dmi/id/{f}" for f in DMI_FIELDS),
    "/sys/devices/system/clocksource/clocksource0/available_clocksource",
    "/sys/hypervisor/type",
    "/proc/device-tree/compatible",
    "/proc/device-tree/hypervisor/compatible",
    "/sys/firmware/qemu_fw_cfg/rev",
    "/.dockerenv",
    "/run/.containerenv",
    "/proc/1/cgroup",
    "/proc/self/cgroup",
    "/etc/os-release",
)
#: Symlinks recorded as ``<path>.link`` text files holding the target.
LINKS: tuple[str, ...] = ("/proc/1/exe", "/proc/self/exe")
_MOUNT_KEEP = ("docker", "containers/storage", "containerd", "kubelet", "lxcfs")


def _filtered_environ(text: str) -> str:
    return "".join(f"{item}\x00" for item in text.split("\x00") if item.startswith("container="))


def _filtered_mountinfo(text: str) -> str:
    kept = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 4 and (fields[4] == "/" or any(m in line for m in _MOUNT_KEEP)):
            kept.append(line)
    return "".join(f"{line}\n" for line in kept)


def _write(dest_root: Path, path: str, text: str) -> None:
    target = under(dest_root, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def record(dest: Path, root: Path = Path("/"), *, source: str = "") -> list[str]:
    """Record ``root``'s detection inputs under ``dest``; returns the recorded paths."""
    dest_root = Path(dest) / "root"
    written: list[str] = []
    for path in PLAIN_FILES:
        text = read_text(root, path)
        if text is not None:
            _write(dest_root, path, text)
            written.append(path)
    # device-tree nodes named after QEMU's fw-cfg device (the name carries the MMIO address)
    try:
        nodes = sorted(
            p.name for p in under(root, "/proc/device-tree").iterdir() if "fw-cfg" in p.name
        )
    except OSError:
        nodes = []
    for node in nodes:
        path = f"/proc/device-tree/{node}/compatible"
        _write(dest_root, path, read_text(root, path) or "")
        written.append(path)
    environ = read_text(root, "/proc/1/environ")
    if environ is not None:
        _write(dest_root, "/proc/1/environ", _filtered_environ(environ))
        written.append("/proc/1/environ")
    mountinfo = read_text(root, "/proc/self/mountinfo")
    if mountinfo is not None:
        _write(dest_root, "/proc/self/mountinfo", _filtered_mountinfo(mountinfo))
        written.append("/proc/self/mountinfo")
    for path in LINKS:
        target = read_link(root, path)
        if target:
            _write(dest_root, path + ".link", target + "\n")
            written.append(path + ".link")
    facts: dict[str, Any] = {
        "source": source,
        "uname_machine": platform.machine(),
        "platform_system": platform.system(),
        "sysctl": read_sysctl(),
    }
    (Path(dest) / "facts.json").write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastarm.bench.env.record", description=__doc__)
    parser.add_argument("dest", type=Path, help="directory to write (root/ and facts.json)")
    parser.add_argument("--source", default="", help="where and how this was recorded")
    args = parser.parse_args(argv)
    if args.dest.exists() and any(args.dest.iterdir()):
        parser.error(f"{args.dest} exists and is not empty")
    for path in record(args.dest, source=args.source):
        print(path)
    print(f"recorded into {args.dest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
