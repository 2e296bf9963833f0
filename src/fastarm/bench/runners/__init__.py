"""Transports: where a run happens.  One interface, one registry.

Every transport moves the same command -- ``python -m fastarm.bench run --json OUT [args]`` -- into
an environment (this machine, a container, a host over SSH), and brings OUT back.  The fingerprint
is always taken inside the environment by that command; a runner only adds what the outside knows.

Adding a transport is one module providing ``add_arguments(parser)`` and ``create(args) ->
Runner``, and one line in :data:`RUNNERS`.  Runner modules are imported lazily because some need
optional extras.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, Sequence

#: name -> module path, imported lazily (docker and fabric are optional extras).
RUNNERS: dict[str, str] = {
    "native": "fastarm.bench.runners.native",
    "docker": "fastarm.bench.runners.docker",
    "ssh": "fastarm.bench.runners.ssh",
}

#: The extra that provides each runner's dependencies.
EXTRAS: dict[str, str] = {"docker": "docker", "ssh": "vm"}


class RunnerError(Exception):
    """A transport failed; the message is for the user (exit code 4)."""


class Runner(Protocol):
    name: str

    def execute(self, run_args: Sequence[str], out_json: Path) -> dict[str, Any]:
        """Run ``python -m fastarm.bench run --json <tmp> *run_args`` in the environment, put the
        JSON at ``out_json`` on this host, and return what only the outside knows (stored as
        ``result["runner"]``).  Raises :class:`RunnerError` on any failure; cleans up always,
        including on KeyboardInterrupt."""
        ...


def load(name: str) -> ModuleType:
    """Import a runner module, or raise :class:`RunnerError` saying what to install."""
    try:
        module_path = RUNNERS[name]
    except KeyError:
        raise RunnerError(f"unknown runner {name!r}; known: {', '.join(RUNNERS)}") from None
    try:
        return importlib.import_module(module_path)
    except ModuleNotFoundError as exc:
        if exc.name == module_path:
            raise RunnerError(
                f"the {name} runner is not available in this installation of fastarm"
            ) from None
        extra = EXTRAS.get(name)
        hint = f"; install it with: pip install 'fastarm[{extra}]'" if extra else ""
        raise RunnerError(
            f"the {name} runner needs the missing module {exc.name!r}{hint}"
        ) from None
    except ImportError as exc:
        extra = EXTRAS.get(name)
        hint = f"; install it with: pip install 'fastarm[{extra}]'" if extra else ""
        raise RunnerError(f"the {name} runner cannot be imported ({exc}){hint}") from None


def add_all_arguments(parser: argparse.ArgumentParser) -> list[str]:
    """Let every importable runner add its options; return the names of those that could not."""
    unavailable = []
    for name in RUNNERS:
        try:
            module = load(name)
        except RunnerError:
            unavailable.append(name)
            continue
        add = getattr(module, "add_arguments", None)
        if add is None:
            continue
        try:
            add(parser)
        except argparse.ArgumentError:
            # an option another runner (or the CLI) already defines: keep the first definition
            unavailable.append(name)
    return unavailable


def create(name: str, args: argparse.Namespace) -> Runner:
    module = load(name)
    runner: Runner = module.create(args)
    return runner
