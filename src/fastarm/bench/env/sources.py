"""Reading the raw facts the fingerprint is made of, relative to a root directory.

Every reader takes ``root``: ``/`` on a live machine, a recorded tree in tests.  Readers never raise
for missing or unreadable files (``/proc/1/environ`` is often unreadable even for root); they return
``None`` or an empty value, and detection treats "could not look" like "nothing there".

Symbolic links under ``/proc`` (``/proc/1/exe``) cannot be recorded as files, so a recorded tree may
hold ``proc/1/exe.link``: a text file containing the link target.  :func:`read_link` reads either.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

MAX_READ = 1 << 20  # /proc files we read are small; never slurp something unexpected


def under(root: Path, path: str) -> Path:
    """``path`` (absolute, as on the machine) inside ``root``."""
    return Path(root) / path.lstrip("/")


def read_text(root: Path, path: str) -> str | None:
    """Contents of ``path`` under ``root`` as text, or ``None`` if absent or unreadable."""
    try:
        with open(under(root, path), "rb") as fh:
            data = fh.read(MAX_READ)
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")


def read_value(root: Path, path: str) -> str | None:
    """A one-value file (sysfs style): stripped text, NULs removed; ``None`` if absent or empty."""
    text = read_text(root, path)
    if text is None:
        return None
    value = text.replace("\x00", " ").strip()
    return value or None


def exists(root: Path, path: str) -> bool:
    """Whether ``path`` exists under ``root`` (a dangling symlink counts as existing)."""
    p = under(root, path)
    return p.exists() or p.is_symlink()


def read_link(root: Path, path: str) -> str | None:
    """Target of the symlink ``path`` under ``root``, or of its recorded form ``path + '.link'``."""
    p = under(root, path)
    try:
        return os.readlink(p)
    except OSError:
        pass
    recorded = read_value(root, path + ".link")
    return recorded


def read_nul_list(root: Path, path: str) -> list[str]:
    """A NUL-separated file (``/proc/1/environ``, device-tree ``compatible``) as a string list."""
    text = read_text(root, path)
    if not text:
        return []
    return [part.strip() for part in text.split("\x00") if part.strip()]


@dataclass(frozen=True)
class CpuInfo:
    """The parts of ``/proc/cpuinfo`` the fingerprint uses (first processor block, plus a count)."""

    fields: Mapping[str, str] = field(default_factory=dict)
    processors: int = 0

    def get(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value if value else None

    @property
    def flags(self) -> list[str]:
        """x86 ``flags`` or arm ``Features``, as a list."""
        raw = self.get("flags") or self.get("Features") or ""
        return raw.split()


def parse_cpuinfo(text: str | None) -> CpuInfo:
    """Parse ``/proc/cpuinfo``: the first processor block's key/value pairs, and the block count."""
    if not text:
        return CpuInfo()
    fields: dict[str, str] = {}
    processors = 0
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        value = value.strip()
        if key == "processor":
            processors += 1
        # keep the first occurrence: the first processor block, or a global line (arm "Hardware")
        fields.setdefault(key, value)
    return CpuInfo(fields=fields, processors=processors)


def read_cpuinfo(root: Path) -> CpuInfo:
    return parse_cpuinfo(read_text(root, "/proc/cpuinfo"))


def parse_os_release(text: str | None) -> dict[str, str]:
    """Parse an ``os-release`` file (shell-style ``KEY="value"`` lines)."""
    result: dict[str, str] = {}
    for line in (text or "").splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or key.startswith("#"):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        result[key] = value
    return result


def read_os_release(root: Path) -> dict[str, str]:
    text = read_text(root, "/etc/os-release")
    if text is None:
        text = read_text(root, "/usr/lib/os-release")
    return parse_os_release(text)


# --- macOS sysctl ---------------------------------------------------------------------------------

#: sysctl names the fingerprint reads on macOS (detection and description).
SYSCTL_NAMES: tuple[str, ...] = (
    "sysctl.proc_translated",  # 1 inside Rosetta 2
    "kern.hv_vmm_present",  # 1 inside a virtual machine
    "hw.model",  # "Mac14,9", "VirtualMac2,1", "VMware7,1", ...
    "machdep.cpu.brand_string",
    "machdep.cpu.features",  # Intel Macs: contains "VMM" under a hypervisor
    "hw.optional.arm64",
    "hw.optional.AdvSIMD",
    "hw.optional.arm.FEAT_FP16",
    "hw.optional.arm.FEAT_DotProd",
    "hw.optional.arm.FEAT_I8MM",
    "hw.optional.arm.FEAT_BF16",
    "hw.optional.avx2_0",
    "hw.optional.avx512f",
    "hw.cpufrequency",
)


def _sysctl_one(libc: ctypes.CDLL, name: str) -> str | None:
    size = ctypes.c_size_t(0)
    if libc.sysctlbyname(name.encode(), None, ctypes.byref(size), None, 0) != 0 or size.value == 0:
        return None
    buf = ctypes.create_string_buffer(size.value)
    if libc.sysctlbyname(name.encode(), buf, ctypes.byref(size), None, 0) != 0:
        return None
    raw = buf.raw[: size.value]
    if len(raw) in (4, 8) and name.startswith(("sysctl.", "kern.", "hw.optional", "hw.cpufreq")):
        return str(int.from_bytes(raw, "little", signed=len(raw) == 4))
    return raw.rstrip(b"\x00").decode("utf-8", errors="replace").strip()


def read_sysctl(names: Iterable[str] = SYSCTL_NAMES) -> dict[str, str]:
    """Live macOS sysctl values by name (through ``sysctlbyname``); ``{}`` on other systems."""
    if platform.system() != "Darwin":
        return {}
    libc_path = ctypes.util.find_library("c")
    if not libc_path:
        return {}
    libc = ctypes.CDLL(libc_path, use_errno=True)
    values: dict[str, str] = {}
    for name in names:
        try:
            value = _sysctl_one(libc, name)
        except (OSError, ValueError):
            value = None
        if value is not None:
            values[name] = value
    return values
