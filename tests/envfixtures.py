"""Recorded environment trees under ``tests/fixtures/envs/<name>/`` (``root/`` + ``facts.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ENVS = Path(__file__).parent / "fixtures" / "envs"


def names() -> list[str]:
    return sorted(p.name for p in ENVS.iterdir() if (p / "facts.json").is_file())


def load(name: str) -> tuple[Path, dict[str, Any]]:
    """The fixture's root directory and the facts to inject (uname -m, OS name, sysctl)."""
    facts = json.loads((ENVS / name / "facts.json").read_text(encoding="utf-8"))
    injected = {k: facts[k] for k in ("uname_machine", "platform_system", "sysctl")}
    return ENVS / name / "root", injected
