"""Shared test helpers.

A test that needs a service the machine may lack (a Docker engine, qemu-user, sshd, Chromium) calls
``require(name, available, why)``.  On a developer's laptop that is a skip; when the variable
``FASTARM_REQUIRE`` lists the name (or is ``all``), as ``.ci/run`` sets it, it is a failure instead.
"""

from __future__ import annotations

import os

import pytest


def _required() -> set[str]:
    raw = os.environ.get("FASTARM_REQUIRE", "")
    return {part.strip() for part in raw.split(",") if part.strip()}


def require(name: str, available: bool, why: str) -> None:
    """Skip (or, when ``FASTARM_REQUIRE`` names ``name``, fail) unless ``available``."""
    if available:
        return
    wanted = _required()
    message = f"{name} unavailable: {why}"
    if name in wanted or "all" in wanted:
        setting = os.environ["FASTARM_REQUIRE"]
        pytest.fail(f"{message} (FASTARM_REQUIRE={setting!r} makes this a failure)")
    pytest.skip(message)
