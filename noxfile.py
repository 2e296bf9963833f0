"""Nox sessions.  ``nox --list`` shows them; each is a few lines calling pip, pytest or the package.

``nox -s tests`` is the project's test command (CI runs it too).  Sessions use the interpreter nox
runs with; virtualenvs live in ``.nox/`` and are reused.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).resolve().parent
#: Set on some shared machines; they skew NumPy's BLAS in benchmarks, so bench sessions unset them.
BENCH_ENV: dict[str, str | None] = {"OPENBLAS_CORETYPE": None, "OPENBLAS_L2_SIZE": None}
#: Benchmark exit codes that do not fail a session: ok, no baseline yet, too noisy to judge.
BENCH_OK = [0, 2, 3]


@nox.session
def tests(session: nox.Session) -> None:
    """Install the package with its dev extras and run the test suite (posargs go to pytest).

    SciPy is installed too: the statistics tests compare with ``scipy.stats`` (test-only).
    """
    session.install(".[dev]", "scipy")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def build(session: nox.Session) -> None:
    """Build the sdist and wheel, install the wheel in a clean venv, import it and call it."""
    session.install("build")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist))
    (wheel,) = dist.glob("fastarm-*.whl")
    session.log(f"built {', '.join(sorted(p.name for p in dist.iterdir()))}")
    with tempfile.TemporaryDirectory(prefix="fastarm-wheel-") as tmp:
        venv = Path(tmp) / "venv"
        session.run("python", "-m", "venv", str(venv))
        python = str(venv / "bin" / "python")
        session.run(python, "-m", "pip", "install", "-q", str(wheel), external=True)
        smoke = (
            "import array, fastarm; a = array.array('f', [1, 2, 3]); "
            "b = array.array('f', [4, 5, 6]); assert fastarm.dot(a, b) == 32.0; "
            "print('fastarm', fastarm.__version__, fastarm.simd_info()['active'], 'OK')"
        )
        session.chdir(tmp)  # away from the checkout, so only the installed wheel can be imported
        try:
            session.run(python, "-c", smoke, external=True, env={"PYTHONPATH": None})
            # the harness's CLI starts without its extras (NumPy, tabulate: imported lazily)
            session.run(python, "-m", "fastarm.bench", "--help", external=True, silent=True)
        finally:
            session.chdir(ROOT)


def _bench(session: nox.Session, extra: str, *args: str) -> None:
    session.install(f".[{extra}]")
    session.run("python", "-m", "fastarm.bench", *args, env=BENCH_ENV, success_codes=BENCH_OK)


@nox.session(name="bench-native", reuse_venv=False)
def bench_native(session: nox.Session) -> None:
    """Fresh venv with .[bench]; quick profile (posargs replace it); store, compare, report."""
    _bench(session, "bench", "run", *(session.posargs or ["--profile", "quick"]))


@nox.session(name="bench-docker")
def bench_docker(session: nox.Session) -> None:
    """The same run in a Docker container (posargs: run options, e.g. --platform linux/arm64)."""
    _bench(session, "bench,docker", "run", "--docker", *session.posargs)


@nox.session(name="tests-docker")
def tests_docker(session: nox.Session) -> None:
    """The test suite in a container: ``nox -s tests-docker -- [--platform P] [pytest args]``."""
    session.install(".[docker]")
    session.run("python", "-m", "fastarm.bench.runners.docker", "test", *session.posargs)


@nox.session(name="bench-vm")
def bench_vm(session: nox.Session) -> None:
    """The same run on a host over SSH: ``nox -s bench-vm -- HOST [run options]``."""
    if not session.posargs:
        session.error("usage: nox -s bench-vm -- HOST [run options]")
    host, *rest = session.posargs
    _bench(session, "bench,vm", "run", "--vm", host, *rest)
