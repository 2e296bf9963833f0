"""fastarm: hand-written SIMD kernels for vector similarity and reductions.

The kernels live in the C extension :mod:`fastarm._simd`; the best backend the CPU can run is
chosen at import.  ``FASTARM_SIMD=<backend>`` forces one at import and :func:`use_backend` switches
at run time.
"""

from __future__ import annotations

import os
import platform
import sys
import warnings
from types import TracebackType
from typing import Any, Optional, Type

__version__ = "0.1.0"

_KERNELS = ("cdist", "cosine", "dot", "mean_var", "minmax", "simd_info", "sqeuclidean")

try:
    from fastarm import _simd
    from fastarm._simd import cdist, cosine, dot, mean_var, minmax, simd_info, sqeuclidean
except ImportError as _exc:
    # The extension is not built for this interpreter (e.g. a source checkout, or a tree built on
    # another architecture).  The pure-Python parts -- the benchmark harness's fingerprint among
    # them -- still import; every kernel raises this error at first use.
    _simd = None  # type: ignore[assignment]
    _IMPORT_ERROR: ImportError | None = _exc
else:
    _IMPORT_ERROR = None


def _missing_extension() -> ImportError:
    error = ImportError(
        f"fastarm's C extension (fastarm._simd) is not built for this Python "
        f"({sys.implementation.cache_tag}, {platform.machine()}): build it with `pip install .` "
        "or, in a checkout, `invoke build`"
    )
    error.__cause__ = _IMPORT_ERROR
    return error


def __getattr__(name: str) -> Any:
    if _IMPORT_ERROR is not None and name in _KERNELS:
        raise _missing_extension()
    raise AttributeError(f"module 'fastarm' has no attribute {name!r}")


__all__ = [
    "__version__",
    "cdist",
    "cosine",
    "dot",
    "mean_var",
    "minmax",
    "simd_info",
    "sqeuclidean",
    "use_backend",
]


class use_backend:
    """Switch the active backend.

    Works as a plain call (``use_backend("avx2")`` switches for the rest of the process) and as a
    context manager (``with use_backend("scalar"): ...`` restores the previous backend on exit).
    An unknown name, or one this CPU cannot run, raises ValueError listing the usable backends.
    """

    def __init__(self, name: str) -> None:
        if _simd is None:
            raise _missing_extension()
        self.name = name
        self.previous: str = _simd._set_backend(name)

    def __enter__(self) -> use_backend:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        _simd._set_backend(self.previous)

    def __repr__(self) -> str:
        return f"use_backend({self.name!r})"


def _apply_environment() -> None:
    """Honour FASTARM_SIMD at import: an unknown or unusable name warns and keeps the best."""
    wanted = os.environ.get("FASTARM_SIMD", "").strip()
    if not wanted or _simd is None:
        return
    try:
        _simd._set_backend(wanted)
    except ValueError:
        info = simd_info()
        warnings.warn(
            f"FASTARM_SIMD={wanted!r} cannot be used here; usable backends: "
            f"{', '.join(info['usable'])}; using {info['active']!r}",
            RuntimeWarning,
            stacklevel=2,
        )


_apply_environment()
