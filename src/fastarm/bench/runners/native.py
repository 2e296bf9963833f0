"""The native transport: the run happens on this machine, in a fresh interpreter.

The same ``python -m fastarm.bench run --json OUT`` command as every other transport, in a
subprocess of the current interpreter (so the contract is identical, and the measuring process
starts clean).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from . import RunnerError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The native runner has no options of its own."""


class NativeRunner:
    name = "native"

    def __init__(self, python: str | None = None, env: Mapping[str, str] | None = None) -> None:
        self.python = python or sys.executable
        self.env = dict(env) if env is not None else None

    def command(self, run_args: Sequence[str], out: Path) -> list[str]:
        return [self.python, "-m", "fastarm.bench", "run", "--json", str(out), *run_args]

    def execute(self, run_args: Sequence[str], out_json: Path) -> dict[str, Any]:
        out_json = Path(out_json)
        out_json.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="fastarm-native-", dir=out_json.parent) as tmp:
            tmp_out = Path(tmp) / "result.json"
            cmd = self.command(run_args, tmp_out)
            try:
                proc = subprocess.Popen(cmd, env=self.env)
            except OSError as exc:
                raise RunnerError(f"cannot start {self.python}: {exc}") from None
            try:
                code = proc.wait()
            except BaseException:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                raise
            if code != 0:
                raise RunnerError(
                    f"the benchmark process failed with exit code {code}: {' '.join(cmd)}"
                )
            if not tmp_out.is_file():
                raise RunnerError("the benchmark process wrote no result")
            os.replace(tmp_out, out_json)
        return {"name": self.name, "python": self.python}


def create(args: argparse.Namespace) -> NativeRunner:
    return NativeRunner()
