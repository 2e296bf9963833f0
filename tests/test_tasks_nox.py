"""The entry points: `invoke --list` and `nox --list` show every task and session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TASKS = [
    "build",
    "test",
    "bench",
    "baseline.save",
    "baseline.show",
    "baseline.compare",
    "env",
    "report",
    "clean",
]
SESSIONS = ["tests", "lint", "build", "bench-native", "bench-docker", "bench-vm"]


def listing(module: str, *args: str) -> str:
    pytest.importorskip(module, reason=f"{module} is not installed (pip install '.[dev]')")
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def names(text: str) -> set[str]:
    return {line.split()[0] for line in text.splitlines() if line.strip()}


def test_invoke_lists_every_task() -> None:
    listed = names(listing("invoke", "--list", "--list-format", "flat"))
    missing = [t for t in TASKS if t not in listed]
    assert not missing, listed


def test_invoke_bench_options() -> None:
    text = listing("invoke", "--help", "bench")
    for option in ("--save", "--compare", "-k", "--profile", "--backends", "--docker", "--vm"):
        assert option in text, option


def test_nox_lists_every_session() -> None:
    text = listing("nox", "--list")
    rows = [line.split(" -> ")[0].split() for line in text.splitlines() if " -> " in line]
    marks = {name: mark for mark, name in rows}
    missing = [s for s in SESSIONS if s not in marks]
    assert not missing, text
    assert marks["tests"] == "*"  # `nox` alone runs the tests (and lint)
