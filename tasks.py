"""Developer tasks (Invoke).  ``invoke --list`` shows them; each is a few lines calling the package.

The tasks work on this checkout: the extension is built in place (``invoke build``) and commands run
with ``PYTHONPATH=src``.  Benchmark tasks end with the harness's exit code (0 ok, 1 regression,
2 nothing comparable, 3 too noisy, 4 error).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from invoke import Collection, Context, Exit, task

ROOT = Path(__file__).resolve().parent
SRC = ROOT / "src"


def _env() -> dict[str, str]:
    """Run against this checkout (``src/``) with whatever FASTARM_* knobs are set."""
    path = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(SRC), path) if p)}


def _python(c: Context, *args: str) -> None:
    """Run ``python ARGS`` and end the task with its exit code."""
    result = c.run(
        shlex.join([sys.executable, *args]), env=_env(), warn=True, pty=sys.stdout.isatty()
    )
    if result is not None and result.exited:
        raise Exit(code=result.exited)


def _bench(c: Context, *args: str) -> None:
    _python(c, "-m", "fastarm.bench", *args)


def _split(extra: str | None) -> list[str]:
    return shlex.split(extra) if extra else []


@task(
    help={
        "debug": "-O0 -g with C assertions (FASTARM_DEBUG=1)",
        "backend": "force this SIMD backend (FASTARM_SIMD) for the tasks that follow in the same "
        "invoke call, e.g. `invoke build --backend scalar bench`",
    }
)
def build(c, debug=False, backend=None):
    """Build the C extension in place (src/fastarm/_simd*.so)."""
    env = {"FASTARM_DEBUG": "1"} if debug else {}
    c.run(shlex.join([sys.executable, "setup.py", "build_ext", "--inplace", "--force"]), env=env)
    if backend:
        os.environ["FASTARM_SIMD"] = backend
        print(f"FASTARM_SIMD={backend} for the following tasks (export it for other commands)")


@task(
    help={
        "k": "pytest -k expression",
        "args": "more pytest arguments, e.g. '-x -q'",
        "docker": "run the test suite in a container (the docker runner)",
        "platform": "container platform with --docker, e.g. linux/arm64 (emulated here)",
    }
)
def test(c, k=None, args=None, docker=False, platform=None):
    """Run the test suite (pytest) against this checkout, or in a container with --docker."""
    pytest_args = (["-k", k] if k else []) + _split(args)
    if docker or platform:
        target = ["--platform", platform] if platform else []
        _python(c, "-m", "fastarm.bench.runners.docker", "test", *target, "--", *pytest_args)
        return
    _python(c, "-m", "pytest", *pytest_args)


@task(
    help={
        "profile": "quick (default) or full",
        "k": "select cases, e.g. 'cosine and not float16' (see the README)",
        "backends": "also measure forced backends: 'all' or e.g. 'scalar,avx2'",
        "save": "make this run the environment's baseline",
        "compare": "compare with the environment's baseline (exit 2 if there is none)",
        "workers": "worker processes",
        "threshold": "regression threshold (default 0.05)",
        "format": "table, markdown or json",
        "docker": "run in a Docker container",
        "platform": "with --docker: container platform, e.g. linux/arm64",
        "vm": "run on HOST over SSH",
        "extra": "more `python -m fastarm.bench run` options, e.g. '--samples 31'",
    }
)
def bench(
    c,
    profile="quick",
    k=None,
    backends=None,
    save=False,
    compare=False,
    workers=1,
    threshold=None,
    format="table",
    docker=False,
    platform=None,
    vm=None,
    extra=None,
):
    """Benchmark (natively by default), store the result, compare with the baseline, report."""
    args = ["run", "--profile", profile, "--workers", str(workers), "--format", format]
    args += ["-k", k] if k else []
    args += ["--backends", backends] if backends else []
    args += ["--save"] if save else []
    args += ["--compare"] if compare else []
    args += ["--threshold", str(threshold)] if threshold is not None else []
    args += ["--docker"] if docker or platform else []
    args += ["--platform", platform] if platform else []
    args += ["--vm", vm] if vm else []
    _bench(c, *args, *_split(extra))


@task(help={"result": "result file (default: the latest of this environment)"})
def baseline_save(c, result=None):
    """Make a result (default: the latest) its environment's baseline."""
    _bench(c, "baseline", "save", *([result] if result else []))


@task(help={"key": "environment key (default: this environment)", "format": "table|markdown|json"})
def baseline_show(c, key=None, format="table"):
    """Show a baseline."""
    _bench(c, "baseline", "show", *([key] if key else []), "--format", format)


@task(
    help={
        "result": "result file (default: the latest of this environment)",
        "threshold": "regression threshold (default 0.05)",
        "format": "table|markdown|json",
    }
)
def baseline_compare(c, result=None, threshold=None, format="table"):
    """Compare a result (default: the latest) with its environment's baseline."""
    args = ["baseline", "compare", *([result] if result else []), "--format", format]
    args += ["--threshold", str(threshold)] if threshold is not None else []
    _bench(c, *args)


@task(help={"json": "print the fingerprint as JSON"})
def env(c, json=False):
    """Show this environment's fingerprint (what every result records)."""
    _bench(c, "env", *(["--json"] if json else []))


@task(
    help={
        "results": "result files, space-separated (default: the latest of every environment)",
        "format": "table|markdown|json",
        "envs": "cross-environment table",
        "html": "write an HTML report with charts to this directory",
    }
)
def report(c, results=None, format="table", envs=False, html=None):
    """Report results (default: the latest of every environment)."""
    args = ["report", *_split(results), "--format", format]
    args += ["--envs"] if envs else []
    args += ["--html", html] if html else []
    _bench(c, *args)


@task(help={"results": "also delete benchmarks/results (stored runs; baselines are kept)"})
def clean(c, results=False):
    """Remove build products and caches."""
    doomed = [ROOT / "build", ROOT / "dist", *ROOT.glob("src/*.egg-info")]
    doomed += [ROOT / d for d in (".pytest_cache", ".ruff_cache", ".mypy_cache")]
    doomed += list((SRC / "fastarm").glob("_simd*.so")) + list((SRC / "fastarm").glob("_simd*.pyd"))
    doomed += [p for p in ROOT.rglob("__pycache__") if ".nox" not in p.parts]
    if results:
        doomed.append(ROOT / "benchmarks" / "results")
    for path in doomed:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        print(f"removed {path.relative_to(ROOT)}")


@task(
    iterable=["arch"],
    help={
        "arch": "amd64 and/or arm64 (repeat the option; default: this machine's)",
        "mirror": "Debian mirror (default: this host's, else deb.debian.org)",
        "force": "rebuild the cached rootfs tarball",
        "rootfs": "pack this existing Debian tree instead of running debootstrap",
    },
)
def docker_base(c, arch=None, mirror=None, force=False, rootfs=None):
    """Build offline base images fastarm-base:bookworm-<arch> (debootstrap + import; root)."""
    args = [f"--arch={a}" for a in arch or []] + (["--mirror", mirror] if mirror else [])
    args += (["--force"] if force else []) + (["--rootfs", rootfs] if rootfs else [])
    _python(c, "-m", "fastarm.bench.dockerbase", *args)


@task(help={"base": "also remove the offline base images"})
def docker_clean(c, base=False):
    """Remove fastarm's containers and bench images from the Docker engine."""
    _python(c, "-m", "fastarm.bench.runners.docker", "clean", *(["--base"] if base else []))


docker_ns = Collection("docker")
docker_ns.add_task(docker_base, "base")
docker_ns.add_task(docker_clean, "clean")

baseline = Collection("baseline")
baseline.add_task(baseline_save, "save")
baseline.add_task(baseline_show, "show")
baseline.add_task(baseline_compare, "compare")

ns = Collection(build, test, bench, env, report, clean, baseline, docker_ns)
