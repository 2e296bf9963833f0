"""Result documents: the versioned JSON schema, validation, atomic writes, and where files live.

Layout under the benchmarks root (``./benchmarks`` of the current project by default; ``--root`` or
``FASTARM_BENCH_ROOT`` override it)::

    results/<environment key>/<UTC timestamp>-<runner>.json    every run (history)
    baselines/<environment key>.json                           one baseline per environment
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

SCHEMA_VERSION = 1

ENV_REQUIRED = ("key", "kind", "layers")
KINDS = ("native", "container", "vm", "emulated")
TOP_REQUIRED = {
    "schema_version": int,
    "command": list,
    "started_at": str,
    "finished_at": str,
    "environment": dict,
    "cases": list,
}
CASE_REQUIRED = {
    "id": str,
    "group": str,
    "op": str,
    "dtype": str,
    "n": int,
    "impl": str,
    "loops": int,
    "samples_ns": list,
    "stats": dict,
}
STATS_REQUIRED = ("median_ns", "mean_ns", "min_ns", "q1_ns", "q3_ns", "stdev_ns", "n")


class ResultError(Exception):
    """A result file that cannot be used (unreadable, corrupt, wrong schema); names the file."""

    def __init__(self, message: str, source: str | os.PathLike[str] | None = None) -> None:
        self.source = str(source) if source is not None else None
        super().__init__(f"{self.source}: {message}" if self.source else message)


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def validate(doc: Any, source: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Check a result document against schema version 1; return it, or raise
    :class:`ResultError`."""

    def fail(message: str) -> ResultError:
        return ResultError(message, source)

    if not isinstance(doc, dict):
        raise fail(f"a result must be a JSON object, not {type(doc).__name__}")
    version = doc.get("schema_version")
    if version is None:
        raise fail("missing field 'schema_version' (not a fastarm benchmark result?)")
    if version != SCHEMA_VERSION:
        raise fail(
            f"schema_version {version!r} is not supported "
            f"(this fastarm reads version {SCHEMA_VERSION})"
        )
    for name, typ in TOP_REQUIRED.items():
        if name not in doc:
            raise fail(f"missing field {name!r}")
        if not isinstance(doc[name], typ):
            raise fail(f"field {name!r} must be a {typ.__name__}")
    env = doc["environment"]
    for name in ENV_REQUIRED:
        if name not in env:
            raise fail(f"missing field 'environment.{name}'")
    if not isinstance(env["key"], str) or not env["key"]:
        raise fail("field 'environment.key' must be a non-empty string")
    if env["kind"] not in KINDS:
        raise fail(
            f"field 'environment.kind' must be one of {', '.join(KINDS)}, not {env['kind']!r}"
        )
    if not isinstance(env["layers"], list):
        raise fail("field 'environment.layers' must be a list")
    seen: set[str] = set()
    for i, case in enumerate(doc["cases"]):
        where = f"cases[{i}]"
        if not isinstance(case, dict):
            raise fail(f"{where} must be an object")
        for name, typ in CASE_REQUIRED.items():
            if name not in case:
                raise fail(f"missing field '{where}.{name}'")
            if not isinstance(case[name], typ) or isinstance(case[name], bool):
                raise fail(f"field '{where}.{name}' must be a {typ.__name__}")
        if case["id"] in seen:
            raise fail(f"duplicate case id {case['id']!r}")
        seen.add(case["id"])
        samples = case["samples_ns"]
        if not samples or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in samples
        ):
            raise fail(f"'{where}.samples_ns' must be a non-empty list of non-negative numbers")
        for name in STATS_REQUIRED:
            if name not in case["stats"]:
                raise fail(f"missing field '{where}.stats.{name}'")
    return doc


def loads(text: str, source: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "the file is corrupt or truncated",
            source,
        ) from None
    return validate(doc, source)


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a result file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultError("no such file", p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultError(f"cannot read: {exc}", p) from None
    return loads(text, p)


def dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=False, allow_nan=True) + "\n"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(
    path: str | os.PathLike[str],
    doc: Mapping[str, Any],
    *,
    serializer: Callable[[Mapping[str, Any]], str] = dumps,
) -> Path:
    """Write ``doc`` as JSON to ``path`` atomically.

    The text goes to a temporary file in the same directory, is flushed and fsync'ed, and only then
    replaces ``path`` (``os.replace``).  An error or interruption at any point (including
    KeyboardInterrupt or the process being killed) leaves the previous file untouched; the temporary
    file is removed on any Python-level failure.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        # mkstemp creates the file 0600; give it the mode a plain open() would (0666 less umask),
        # so a baseline can be read by others and committed like any file.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            text = serializer(doc)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return target
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
    return target


# ---------------------------------------------------------------------------------------------
# Storage layout


def default_root(cwd: str | os.PathLike[str] | None = None) -> Path:
    """``$FASTARM_BENCH_ROOT``, else ``benchmarks/`` in the nearest directory (from ``cwd`` upwards)
    that holds a ``pyproject.toml`` or ``.git``, else ``./benchmarks``."""
    env = os.environ.get("FASTARM_BENCH_ROOT")
    if env:
        return Path(env)
    start = Path(cwd) if cwd is not None else Path.cwd()
    for directory in (start, *start.parents):
        if (directory / "pyproject.toml").is_file() or (directory / ".git").exists():
            return directory / "benchmarks"
    return start / "benchmarks"


def _safe_key(key: str) -> str:
    if not key or "/" in key or "\\" in key or key in (".", "..") or "\0" in key:
        raise ResultError(f"environment key {key!r} cannot be used as a file name")
    return key


def timestamp_slug(iso: str | None = None) -> str:
    """``2026-11-26T14:05:00Z`` -> ``20261126T140500Z`` (sortable, file-name safe)."""
    text = iso or utc_now()
    return "".join(ch for ch in text if ch.isalnum()).upper()


def result_path(
    root: str | os.PathLike[str], key: str, runner: str, when: str | None = None
) -> Path:
    return Path(root) / "results" / _safe_key(key) / f"{timestamp_slug(when)}-{runner}.json"


def baseline_path(root: str | os.PathLike[str], key: str) -> Path:
    return Path(root) / "baselines" / f"{_safe_key(key)}.json"


def store_result(root: str | os.PathLike[str], doc: Mapping[str, Any]) -> Path:
    """Store a run under ``results/<key>/`` without overwriting an earlier one."""
    runner = str(doc.get("runner", {}).get("name", "native"))
    key = doc["environment"]["key"]
    path = result_path(root, key, runner, doc.get("finished_at"))
    stem, i = path.stem, 1
    while path.exists():
        i += 1
        path = path.with_name(f"{stem}-{i}.json")
    return write_atomic(path, doc)


def result_files(root: str | os.PathLike[str], key: str | None = None) -> list[Path]:
    """Stored result files (of one key, or all), oldest first."""
    base = Path(root) / "results"
    if not base.is_dir():
        return []
    dirs = [base / _safe_key(key)] if key else sorted(p for p in base.iterdir() if p.is_dir())
    files: list[Path] = []
    for d in dirs:
        if d.is_dir():
            files.extend(sorted(d.glob("*.json")))
    # by timestamp (the name's prefix), then by write time for runs stored within the same second
    return sorted(files, key=lambda p: (p.name.split("-", 1)[0], p.stat().st_mtime_ns, p.name))


def latest_result(root: str | os.PathLike[str], key: str | None = None) -> Path | None:
    files = result_files(root, key)
    return files[-1] if files else None


def latest_per_environment(root: str | os.PathLike[str]) -> dict[str, Path]:
    latest: dict[str, Path] = {}
    for path in result_files(root):
        latest[path.parent.name] = path  # result_files is sorted oldest first
    return dict(sorted(latest.items()))


def baseline_keys(root: str | os.PathLike[str]) -> list[str]:
    base = Path(root) / "baselines"
    return sorted(p.stem for p in base.glob("*.json")) if base.is_dir() else []


def fastarm_version() -> str:
    """The version of the fastarm being measured (the package's, else the distribution's)."""
    try:
        import fastarm

        found = getattr(fastarm, "__version__", None)
        if isinstance(found, str):
            return found
    except ImportError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fastarm")
    except PackageNotFoundError:
        return "unknown"


def make_result(
    *,
    command: list[str],
    started_at: str,
    finished_at: str,
    profile: str,
    environment: Mapping[str, Any],
    cases: list[dict[str, Any]],
    notes: list[str] | None = None,
    runner: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    doc_version = fastarm_version()
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "fastarm_version": doc_version,
        "command": list(command),
        "started_at": started_at,
        "finished_at": finished_at,
        "profile": profile,
        "environment": dict(environment),
        "runner": dict(runner or {"name": "native"}),
        "cases": cases,
        "notes": list(notes or []),
    }
    if extra:
        doc.update(extra)
    return doc
