"""Environment fingerprint: where a number came from.

A benchmark number means nothing without the environment it was measured in.  :func:`fingerprint`
records it -- OS, CPU, fastarm backend, Python/NumPy/BLAS, git state -- and the **layers** between
the code and the silicon (virtual machine, container, emulator), each with the evidence that fired.
:func:`environment_key` names the environment from hard fields only, so every environment keeps its
own baseline; :func:`describe` says it in one paragraph, with a warning for non-native kinds.

``python -m fastarm.bench.environment`` prints the fingerprint of this environment as JSON
(``--describe`` for the summary instead).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .env.key import HARD_FIELDS, cpu_slug, describe, environment_key, warning
from .env.layers import KINDS, LAYER_TYPES, Layer, Signal, detect_layers, kind_of
from .env.probe import fingerprint

__all__ = [
    "HARD_FIELDS",
    "KINDS",
    "LAYER_TYPES",
    "Layer",
    "Signal",
    "cpu_slug",
    "describe",
    "detect_layers",
    "environment_key",
    "fingerprint",
    "kind_of",
    "main",
    "warning",
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fastarm.bench.environment",
        description="Print the fingerprint of the environment this interpreter runs in.",
    )
    parser.add_argument(
        "--describe", action="store_true", help="print the human summary instead of JSON"
    )
    parser.add_argument("--key", action="store_true", help="print only the environment key")
    args = parser.parse_args(argv)
    env = fingerprint()
    if args.key:
        print(env["key"])
    elif args.describe:
        print(describe(env))
    else:
        json.dump(env, sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
