"""Build script for the fastarm C extension.

Build knobs (environment variables, see README "Building"):
  FASTARM_DEBUG=1            -O0 -g with C assertions enabled
  FASTARM_DISABLE=a,b        leave backends out of the build (avx2, avx512, avx512_spr, neon,
                             neon_fhm_dot); scalar is always built
  FASTARM_CFLAGS="..."       extra compiler flags, appended last
"""

from __future__ import annotations

import os
import shlex

from setuptools import Extension, setup

OPTIONAL_BACKENDS = ("avx2", "avx512", "avx512_spr", "neon", "neon_fhm_dot")


def _compile_args() -> tuple[list[str], list[tuple[str, str | None]]]:
    debug = os.environ.get("FASTARM_DEBUG", "").strip() not in ("", "0")
    args = ["-std=c11", "-Wall", "-Wextra"]
    args += ["-O0", "-g", "-UNDEBUG"] if debug else ["-O3"]
    macros: list[tuple[str, str | None]] = []
    for name in os.environ.get("FASTARM_DISABLE", "").split(","):
        name = name.strip().lower()
        if not name:
            continue
        if name not in OPTIONAL_BACKENDS:
            choices = ", ".join(OPTIONAL_BACKENDS)
            raise SystemExit(f"FASTARM_DISABLE: unknown backend {name!r}; choose from {choices}")
        macros.append((f"FA_DISABLE_{name.upper()}", "1"))
    args += shlex.split(os.environ.get("FASTARM_CFLAGS", ""))
    return args, macros


_args, _macros = _compile_args()

setup(
    ext_modules=[
        Extension(
            "fastarm._simd",
            ["src/fastarm/_simd.c"],
            include_dirs=["src/fastarm"],
            depends=[
                os.path.join("src", "fastarm", "simd", name)
                for name in sorted(os.listdir(os.path.join("src", "fastarm", "simd")))
                if name.endswith(".h")
            ],
            extra_compile_args=_args,
            define_macros=_macros,
        )
    ],
    package_data={"fastarm": ["py.typed", "_simd.pyi"]},
)
