"""Collecting the full fingerprint record (the ``environment`` object of the result JSON).

Hardware and OS facts come from files under ``root`` (pure, testable on recorded trees); facts about
this process (Python, NumPy, fastarm, BLAS, git) come from the running interpreter.  Nothing here
raises for a missing piece: an absent fact is recorded as ``None`` (the backend as
``"unavailable"``).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shutil
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .key import environment_key
from .layers import arch_family, cpuinfo_family, detect_layers, kind_of
from .sources import CpuInfo, read_cpuinfo, read_os_release, read_sysctl, read_value

# Arm CPU part numbers (MIDR) of the cores fastarm is likely to meet (Linux's asm/cputype.h and
# lscpu have the full tables).
_ARM_IMPLEMENTERS = {
    "0x41": "ARM",
    "0x61": "Apple",
    "0xc0": "Ampere",
    "0x51": "Qualcomm",
    "0x00": "QEMU",
}
_ARM_PARTS = {
    ("0x41", "0xd03"): "Cortex-A53",
    ("0x41", "0xd08"): "Cortex-A72",
    ("0x41", "0xd0b"): "Cortex-A76",
    ("0x41", "0xd0c"): "Neoverse-N1",
    ("0x41", "0xd40"): "Neoverse-V1",
    ("0x41", "0xd49"): "Neoverse-N2",
    ("0x41", "0xd4f"): "Neoverse-V2",
    ("0x41", "0xd8e"): "Neoverse-N3",
    ("0xc0", "0xac3"): "Ampere-1",
    ("0x61", "0x022"): "M1",
    ("0x61", "0x023"): "M1",
    ("0x61", "0x024"): "M1 Pro",
    ("0x61", "0x025"): "M1 Pro",
    ("0x61", "0x028"): "M1 Max",
    ("0x61", "0x029"): "M1 Max",
    ("0x61", "0x032"): "M2",
    ("0x61", "0x033"): "M2",
    ("0x61", "0x034"): "M2 Pro",
    ("0x61", "0x035"): "M2 Pro",
    ("0x61", "0x038"): "M2 Max",
    ("0x61", "0x039"): "M2 Max",
    ("0x00", "0x051"): "max",
}

# SIMD-relevant cpuinfo flags (x86 lists ~150 flags; these are the ones that matter to fastarm).
_X86_SIMD_PREFIXES = (
    "sse",
    "ssse3",
    "avx",
    "fma",
    "f16c",
    "amx",
    "popcnt",
    "bmi",
    "vpclmul",
    "gfni",
)

GIT_TIMEOUT_S = 5.0


def cpu_model(cpu: CpuInfo, sysctl: Mapping[str, str] | None = None) -> str | None:
    """A human CPU name: x86 ``model name``, an Arm core name from MIDR, or macOS's brand string."""
    if sysctl and sysctl.get("machdep.cpu.brand_string"):
        return sysctl["machdep.cpu.brand_string"]
    model = cpu.get("model name")
    if model:
        model = " ".join(model.split())
        family, number = cpu.get("cpu family"), cpu.get("model")
        if not any(ch.isdigit() for ch in model) and family and number:
            # Hypervisors often mask the name ("Intel(R) Xeon(R) Processor"); family and model
            # still tell the microarchitecture apart (6/143 Sapphire Rapids, 6/207 Emerald Rapids).
            model = f"{model} (family {family}, model {number})"
        return model
    implementer = (cpu.get("CPU implementer") or "").lower()
    if implementer:
        part = (cpu.get("CPU part") or "").lower()
        vendor = _ARM_IMPLEMENTERS.get(implementer, f"implementer {implementer}")
        core = _ARM_PARTS.get((implementer, part), f"part {part}" if part else "")
        return f"{vendor} {core}".strip()
    for key in ("Hardware", "cpu model", "uarch", "cpu"):
        if cpu.get(key):
            return cpu.get(key)
    return None


def cpuinfo_features(cpu: CpuInfo) -> list[str]:
    """SIMD-relevant x86 flags, or all arm ``Features``, sorted."""
    if cpu.get("Features") and not cpu.get("flags"):
        return sorted(set(cpu.flags))
    return sorted({f for f in cpu.flags if f.startswith(_X86_SIMD_PREFIXES)})


def sysctl_features(sysctl: Mapping[str, str]) -> list[str]:
    """macOS ``hw.optional.*`` feature sysctls that are set, by their last name component."""
    return sorted(
        name.rsplit(".", 1)[-1]
        for name, value in sysctl.items()
        if name.startswith("hw.optional.") and value == "1"
    )


def fastarm_info() -> dict[str, Any]:
    """``fastarm.simd_info()`` when the extension imports, otherwise a record of why not."""
    try:
        import fastarm  # lazy: the harness must work (and say so) without a built extension

        info = dict(fastarm.simd_info())
    except Exception as exc:  # ImportError, a missing attribute, a broken build: record, keep going
        return {"backend": "unavailable", "error": f"{type(exc).__name__}: {exc}"}
    return {
        "backend": info.get("active") or "unavailable",
        "compiled": list(info.get("compiled") or []),
        "usable": list(info.get("usable") or []),
        "features": list(info.get("features") or []),
        "machine": info.get("machine"),
        "version": getattr(fastarm, "__version__", None),
    }


def numpy_version() -> str | None:
    try:
        import numpy
    except Exception:
        return None
    return str(numpy.__version__)


def blas_info() -> list[dict[str, Any]]:
    """Thread pools (BLAS, OpenMP) NumPy loaded, as threadpoolctl sees them; ``[]`` without it."""
    try:
        import numpy  # noqa: F401  (load NumPy's BLAS first, or threadpoolctl sees nothing)
        from threadpoolctl import threadpool_info
    except Exception:
        return []
    keep = (
        "user_api",
        "internal_api",
        "prefix",
        "version",
        "num_threads",
        "threading_layer",
        "architecture",
    )
    try:
        pools = threadpool_info()
    except Exception:  # a broken BLAS build must not stop the run; record that nothing was seen
        return []
    return [{k: pool.get(k) for k in keep if k in pool} for pool in pools]


def compiler() -> str | None:
    """The C compiler extensions are built with (``sysconfig`` CC) and its version when it runs."""
    cc = (sysconfig.get_config_var("CC") or "").split()
    if cc and shutil.which(cc[0]):
        try:
            out = subprocess.run(
                [*cc, "--version"],
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT_S,
                check=False,
            )
            first = out.stdout.splitlines()[0].strip() if out.returncode == 0 and out.stdout else ""
            if first:
                return first
        except (OSError, subprocess.SubprocessError):
            pass
    return " ".join(cc) or platform.python_compiler() or None


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_state(start: Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the repository the code runs from; ``None`` values without git.

    ``FASTARM_GIT_COMMIT`` (and ``FASTARM_GIT_DIRTY=0|1``) override it, for copies of the source
    without ``.git`` (a container build context, an uploaded sdist).
    """
    commit = os.environ.get("FASTARM_GIT_COMMIT")
    if commit:
        dirty_env = os.environ.get("FASTARM_GIT_DIRTY")
        return {"commit": commit, "dirty": None if dirty_env is None else dirty_env == "1"}
    if shutil.which("git") is None:
        return {"commit": None, "dirty": None}
    here = start or Path(__file__).resolve().parent
    # A package installed into a (git-ignored) virtualenv inside a checkout is not that checkout.
    if _git(["ls-files", "--error-unmatch", here.name], here.parent) is None:
        return {"commit": None, "dirty": None}
    commit = _git(["rev-parse", "HEAD"], here)
    if commit is None:
        return {"commit": None, "dirty": None}
    status = _git(["status", "--porcelain", "--untracked-files=no"], here)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def cpu_mhz(cpu: CpuInfo, sysctl: Mapping[str, str] | None = None) -> float | None:
    value = cpu.get("cpu MHz")
    if value:
        try:
            return round(float(value), 1)
        except ValueError:
            pass
    if sysctl and sysctl.get("hw.cpufrequency", "").isdigit():
        return round(int(sysctl["hw.cpufrequency"]) / 1e6, 1)
    return None


def os_release(root: Path, system: str) -> str | None:
    if system == "Darwin":
        version = platform.mac_ver()[0]
        return f"macOS {version}" if version else "macOS"
    info = read_os_release(root)
    return info.get("PRETTY_NAME") or info.get("NAME")


def cpu_count() -> int | None:
    """CPUs this process may run on (affinity), falling back to the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def fingerprint(
    root: Path = Path("/"),
    *,
    uname_machine: str | None = None,
    sysctl: Mapping[str, str] | None = None,
    platform_system: str | None = None,
) -> dict[str, Any]:
    """The full fingerprint of the environment this process runs in (``environment`` in results)."""
    root = Path(root)
    live = root.resolve() == Path("/")
    system = platform_system or (platform.system() if live else "Linux")
    machine = uname_machine or (platform.machine() if live else None)
    if sysctl is None:
        sysctl = read_sysctl() if live and system == "Darwin" else {}
    layers = detect_layers(root, uname_machine=machine, sysctl=sysctl, platform_system=system)
    cpu = read_cpuinfo(root) if system == "Linux" else CpuInfo()
    simd = fastarm_info()
    if simd.get("features"):
        features, features_source = simd["features"], "fastarm"
    elif system == "Darwin":
        features, features_source = sysctl_features(sysctl), "sysctl"
    else:
        features, features_source = cpuinfo_features(cpu), "cpuinfo"
        if arch_family(machine) != cpuinfo_family(cpu)[0]:
            # qemu-user shows the host's /proc/cpuinfo: these are the host CPU's features, not
            # those of the CPU being emulated (fastarm's own probe, once built, reports those).
            features_source = "cpuinfo-host"
    kernel = read_value(root, "/proc/sys/kernel/osrelease") if system == "Linux" else None
    env: dict[str, Any] = {
        "key": "",
        "kind": kind_of(layers),
        "layers": [layer.to_dict() for layer in layers],
        "os": system,
        "os_release": os_release(root, system),
        "kernel": kernel or (platform.release() if live else None),
        "arch": machine,
        "cpu_model": cpu_model(cpu, sysctl),
        "cpu_count": cpu_count() if live else (cpu.processors or None),
        "cpu_features": features,
        "cpu_features_source": features_source,
        "backend": simd["backend"],
        "backends_compiled": simd.get("compiled", []),
        "backends_usable": simd.get("usable", []),
        "backend_error": simd.get("error"),
        "fastarm_version": simd.get("version"),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "numpy": numpy_version(),
        "compiler": compiler(),
        "python_compiler": platform.python_compiler() or None,
        "blas": blas_info(),
        "git": git_state(),
        "soft": {
            "hostname": socket.gethostname() if live else None,
            "loadavg": loadavg() if live else None,
            "cpu_mhz": cpu_mhz(cpu, sysctl),
            "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        },
    }
    env["key"] = environment_key(env)
    return env
