"""The host side of a run: runner -> result JSON -> store -> compare -> report -> exit code."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, Mapping, Sequence

from . import compare as compare_mod
from . import report, results
from .runners import Runner, RunnerError


def _print(stream: IO[str], text: str) -> None:
    stream.write(text if text.endswith("\n") else text + "\n")
    stream.flush()


def bench(
    runner: Runner,
    run_args: Sequence[str],
    *,
    save: bool = False,
    compare: bool | None = None,
    threshold: float = compare_mod.DEFAULT_THRESHOLD,
    fmt: str = "table",
    allow_cross_env: bool = False,
    root: str | Path | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """Run the benchmark through ``runner`` and handle its result; return the exit code.

    The result is always stored under ``results/<key>/``.  ``compare``: True compares with the
    environment's baseline (exit 2 when there is none), None compares when a baseline exists, False
    never compares.  ``save`` then makes this run the environment's baseline (after comparing
    against the previous one).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    root_path = Path(root) if root is not None else results.default_root()
    try:
        with tempfile.TemporaryDirectory(prefix="fastarm-bench-") as tmp:
            out_json = Path(tmp) / "result.json"
            facts = runner.execute(list(run_args), out_json)
            doc = results.load(out_json)
    except RunnerError as exc:
        _print(err, f"error: {runner.name} run failed: {exc}")
        return compare_mod.EXIT_ERROR
    except results.ResultError as exc:
        _print(err, f"error: the {runner.name} run produced an unusable result: {exc}")
        return compare_mod.EXIT_ERROR
    doc["runner"] = {**doc.get("runner", {}), **dict(facts or {}), "name": runner.name}
    stored = results.store_result(root_path, doc)
    _print(err, f"result stored: {stored}")
    return handle_result(
        doc,
        save=save,
        compare=compare,
        threshold=threshold,
        fmt=fmt,
        allow_cross_env=allow_cross_env,
        root=root_path,
        out=out,
        err=err,
        stored=stored,
    )


def handle_result(
    doc: dict[str, Any],
    *,
    save: bool,
    compare: bool | None,
    threshold: float,
    fmt: str,
    allow_cross_env: bool,
    root: Path,
    out: IO[str],
    err: IO[str],
    stored: Path | None = None,
) -> int:
    """Compare a (stored) result with its environment's baseline, print the report, maybe save it as
    the new baseline; return the exit code."""
    key = doc["environment"]["key"]
    baseline_file = results.baseline_path(root, key)
    comparison = None
    code = compare_mod.EXIT_OK
    message = None
    if compare is not False and baseline_file.is_file():
        try:
            base = results.load(baseline_file)
            comparison = compare_mod.compare(
                doc, base, threshold=threshold, allow_cross_env=allow_cross_env
            )
            code = comparison.exit_code
        except results.ResultError as exc:
            _print(err, f"error: the baseline is unusable: {exc}")
            return compare_mod.EXIT_ERROR
        except compare_mod.NotComparable as exc:
            message = str(exc)
            code = compare_mod.EXIT_NOT_COMPARABLE
    elif compare:
        message = (
            f"no baseline for environment {key} ({baseline_file}); "
            "save one with --save (or `python -m fastarm.bench baseline save`)"
        )
        code = compare_mod.EXIT_NOT_COMPARABLE
    emit(doc, comparison, fmt, out, stored=stored, message=message, exit_code=code)
    if message:
        _print(err, message)
    if save:
        results.write_atomic(baseline_file, doc)
        _print(err, f"baseline saved: {baseline_file}")
    return code


def emit(
    doc: Mapping[str, Any],
    comparison: compare_mod.Comparison | None,
    fmt: str,
    out: IO[str],
    *,
    stored: Path | None = None,
    message: str | None = None,
    exit_code: int = 0,
) -> None:
    if fmt == "json":
        payload = {
            "result_path": str(stored) if stored else None,
            "result": doc,
            "comparison": comparison.to_dict() if comparison else None,
            "message": message,
            "exit_code": exit_code,
        }
        _print(out, json.dumps(payload, indent=1))
        return
    _print(out, report.render_run(doc, fmt))
    if comparison is not None:
        _print(out, report.render_comparison(comparison, doc, fmt))
