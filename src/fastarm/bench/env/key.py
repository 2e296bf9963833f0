"""The environment key (baselines are stored per key) and the human summary of an environment.

The key is made of hard fields only -- OS, arch, CPU model, layers, fastarm backend, Python minor --
so that what changes from run to run on the same machine (hostname, clock frequency, load, kernel
patch level) never splits baselines, while anything that changes what the numbers mean does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .layers import Layer, LayerLike, kind_of

HARD_FIELDS: tuple[str, ...] = ("os", "arch", "cpu_model", "layers", "backend", "python")

_OS_SLUGS = {"darwin": "macos", "windows": "windows", "linux": "linux"}
# Words that say nothing about which CPU it is.
_CPU_NOISE = re.compile(
    r"\((?:r|tm|c)\)|\b(?:cpu|processor|core\s+processor|\d+-core|with\s+radeon.*)\b|@.*$",
    re.IGNORECASE,
)
MAX_CPU_SLUG = 48


def slug(text: str) -> str:
    """Lower case, runs of anything but ``[a-z0-9._]`` turned into one ``-``, trimmed."""
    out = re.sub(r"[^a-z0-9._]+", "-", text.lower()).strip("-._")
    return re.sub(r"\.{2,}", ".", out)


def cpu_slug(model: str | None) -> str:
    """``Intel(R) Xeon(R) Platinum 8488C CPU @ 2.40GHz`` -> ``intel-xeon-platinum-8488c``."""
    if not model:
        return "unknown-cpu"
    cleaned = slug(_CPU_NOISE.sub(" ", model))
    if not cleaned:
        cleaned = slug(model) or "unknown-cpu"
    return cleaned[:MAX_CPU_SLUG].rstrip("-._")


def _layer_pair(layer: LayerLike) -> tuple[str, str]:
    if isinstance(layer, Layer):
        return layer.type, layer.name
    return str(layer["type"]), str(layer["name"])


def layers_slug(layers: Sequence[LayerLike]) -> str:
    """``vm.kvm+container.docker``; ``native`` when there is nothing in between."""
    parts = [f"{slug(t)}.{slug(n)}" for t, n in map(_layer_pair, layers)]
    return "+".join(parts) if parts else "native"


def python_slug(version: str, implementation: str | None = None) -> str:
    """``py3.11`` (CPython) or ``pypy3.10``; only the minor version."""
    minor = ".".join(str(version).split(".")[:2])
    prefix = "py" if (implementation or "CPython") == "CPython" else slug(implementation or "py")
    return f"{prefix}{minor}"


def environment_key(env: Mapping[str, Any]) -> str:
    """A stable, human-readable, filesystem-safe key made of the hard fields of ``env`` only.

    ``linux-x86_64-intel-xeon--vm.kvm+container.docker--avx512--py3.11``: OS, arch and CPU, then the
    layers, the fastarm backend and the Python minor version, sections separated by ``--``.
    """
    missing = [name for name in HARD_FIELDS if name not in env]
    if missing:
        raise ValueError(f"environment record lacks the hard field(s) {', '.join(missing)}")
    os_name = _OS_SLUGS.get(str(env["os"]).lower(), slug(str(env["os"])) or "unknown-os")
    arch = slug(str(env["arch"] or "")) or "unknown-arch"
    machine = f"{os_name}-{arch}-{cpu_slug(env['cpu_model'])}"
    backend = slug(str(env["backend"] or "unavailable")) or "unavailable"
    python = python_slug(str(env["python"]), env.get("python_implementation"))
    return f"{machine}--{layers_slug(env['layers'])}--{backend}--{python}"


def _layers_text(layers: Sequence[LayerLike]) -> str:
    return " > ".join(f"{t}:{n}" for t, n in map(_layer_pair, layers))


def warning(env: Mapping[str, Any]) -> str | None:
    """The warning a report must carry for a non-native environment (``None`` when native)."""
    layers = env.get("layers") or []
    kind = env.get("kind") or kind_of(layers)
    if kind == "native":
        return None
    where = _layers_text(layers)
    if kind == "emulated":
        return (
            f"WARNING: EMULATED environment ({where}): speed numbers from an emulated/virtualised "
            "environment are not representative of native hardware -- these results prove "
            "correctness only, never speed."
        )
    if kind == "vm":
        return (
            f"WARNING: VIRTUALISED environment ({where}): speed numbers from an "
            "emulated/virtualised environment are not representative of native hardware."
        )
    return (
        f"WARNING: CONTAINERISED environment ({where}): speed numbers may not be representative "
        "of native hardware (shared host, cgroup CPU limits)."
    )


def describe(env: Mapping[str, Any]) -> str:
    """One paragraph about ``env`` (a fingerprint record), plus a warning line when not native."""
    layers = env.get("layers") or []
    kind = env.get("kind") or kind_of(layers)
    system = env.get("os_release") or env.get("os") or "unknown OS"
    kernel = f", kernel {env['kernel']}" if env.get("kernel") else ""
    cpus = env.get("cpu_count")
    cpu = f"{env.get('cpu_model') or 'unknown CPU'}" + (f", {cpus} CPUs" if cpus else "")
    where = (
        f"{kind} ({_layers_text(layers)})"
        if layers
        else "native (no VM, container or emulator detected)"
    )
    backend = env.get("backend") or "unavailable"
    usable = env.get("backends_usable") or []
    backends = f"fastarm backend {backend}" + (f" (usable: {', '.join(usable)})" if usable else "")
    python = f"Python {env.get('python', '?')}"
    if env.get("python_implementation") and env["python_implementation"] != "CPython":
        python += f" ({env['python_implementation']})"
    numpy = f", NumPy {env['numpy']}" if env.get("numpy") else ""
    git = env.get("git") or {}
    commit = ""
    if git.get("commit"):
        commit = f", commit {str(git['commit'])[:12]}" + (" (dirty)" if git.get("dirty") else "")
    paragraph = (
        f"{system} on {env.get('arch', '?')}{kernel}; {cpu}; {where}; {backends}; "
        f"{python}{numpy}{commit}. Key: {env.get('key') or environment_key(env)}"
    )
    warn = warning(env)
    return f"{paragraph}\n{warn}" if warn else paragraph
