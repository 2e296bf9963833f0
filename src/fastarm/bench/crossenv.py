"""The cross-environment table: the same cases side by side for every environment that has results.

For each environment key under ``benchmarks/results/<key>/`` (its latest result) or, when it has no
result, ``benchmarks/baselines/<key>.json``, and for each case (op, dtype, n):

* fastarm's speed-up vs NumPy measured in that environment (NumPy time / fastarm time, measured
  in the same process);
* fastarm's time there divided by fastarm's time in a *reference* environment: the native
  environment of the same architecture when there is one, else the least virtualized one of that
  architecture, and for an emulated environment without either, the host that ran the emulator
  (same CPU model).  Which reference each column uses is always printed.

Non-native columns are marked; emulated numbers prove correctness only, never speed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from . import results

FORMATS = ("table", "markdown", "json")
KIND_RANK = {"native": 0, "container": 1, "vm": 2, "emulated": 3}
FASTARM_IMPL = "fastarm"
NUMPY_IMPL = "numpy"

Case = tuple[str, str, int]  # (op, dtype, n)

NOTES = {
    "emulated": (
        "⚠ emulated: run under an instruction-set emulator (QEMU). These numbers prove the code is "
        "correct on that architecture; their speed means nothing."
    ),
    "vm": (
        "⚠ vm: a hypervisor stands between the code and the CPU. Speed-ups are indicative only and "
        "are not native hardware numbers."
    ),
    "container": (
        "⚠ container: cgroups and the container runtime can limit CPU time and placement; "
        "speed-ups are usually close to the host's but are not native numbers."
    ),
}


class CrossEnvError(ValueError):
    """Bad arguments (for example an unknown format)."""


@dataclass(frozen=True)
class Environment:
    """One column: an environment key and the result file that represents it."""

    key: str
    kind: str
    arch: str
    cpu_model: str
    layers: tuple[dict[str, Any], ...]
    source: str  # "result" | "baseline"
    path: Optional[Path]  # None for a result handed over in memory
    started_at: str
    record: dict[str, Any] = field(repr=False, compare=False)
    runner: dict[str, Any] = field(repr=False, compare=False)

    @property
    def runner_name(self) -> str:
        return str(self.runner.get("name") or "native")

    @property
    def id(self) -> str:
        """The column: the environment key, and the transport when it is not the native one.

        Two transports can land in the same key when the fingerprint cannot tell them apart (a
        container started from inside a container); they stay separate columns.
        """
        return self.key if self.runner_name == "native" else f"{self.key} via {self.runner_name}"

    @property
    def short(self) -> str:
        """Six hex digits identifying the column (full keys are listed in the legend)."""
        return hashlib.sha1(self.id.encode("utf-8")).hexdigest()[:6]

    @property
    def native(self) -> bool:
        return self.kind == "native"

    @property
    def label(self) -> str:
        """The layers between the code and the silicon, outermost first ("native" when none)."""
        if not self.layers:
            return "native"
        parts = []
        for layer in self.layers:
            kind, name = str(layer.get("type", "?")), str(layer.get("name", "?"))
            if kind == "emulated":
                parts.append(f"emulated {self.arch} ({name})")
            elif kind == "vm":
                parts.append(f"vm {name}")
            else:
                parts.append(name)
        return " > ".join(parts)

    def header(self, sep: str) -> str:
        mark = "" if self.native else "⚠ "
        via = "" if self.runner_name == "native" else f" via {self.runner_name}"
        lines = [f"{mark}{self.kind}", self.label, f"{self.arch} [{self.short}]{via}"]
        if self.label == self.kind:
            del lines[1]
        return sep.join(lines)


@dataclass(frozen=True)
class Cell:
    fastarm_ns: float
    numpy_ns: Optional[float]
    speedup: Optional[float]
    ratio: Optional[float]  # fastarm time here / fastarm time in the reference environment


@dataclass
class CrossEnvTable:
    environments: list[Environment]
    cases: list[Case]
    cells: dict[tuple[Case, str], Cell]
    references: dict[str, Optional[str]]  # column id -> the reference's column id
    relations: dict[str, str]  # column id -> how the reference was chosen
    skipped: list[tuple[str, str]]  # (path, reason)

    def cell(self, case: Case, column: str) -> Optional[Cell]:
        return self.cells.get((case, column))


# --------------------------------------------------------------------------------------------------
# Reading


def benchmarks_dir(root: Path) -> Path:
    """``root/benchmarks`` for a project root; ``root`` itself if it already is that directory."""
    root = Path(root)
    if (root / "benchmarks").is_dir():
        return root / "benchmarks"
    if (root / "results").is_dir() or (root / "baselines").is_dir():
        return root
    return root / "benchmarks"


def _median_ns(case: dict[str, Any]) -> Optional[float]:
    stats = case.get("stats") or {}
    value = stats.get("median_ns")
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    samples = [s for s in case.get("samples_ns") or [] if isinstance(s, (int, float))]
    return float(statistics.median(samples)) if samples else None


def _environment(doc: Mapping[str, Any], path: Optional[Path], source: str) -> Environment:
    env = doc["environment"]
    runner = doc.get("runner")
    return Environment(
        key=str(env["key"]),
        kind=str(env["kind"]),
        arch=str(env.get("arch", "?")),
        cpu_model=str(env.get("cpu_model", "")),
        layers=tuple(layer for layer in env.get("layers") or [] if isinstance(layer, dict)),
        source=source,
        path=path,
        started_at=str(doc.get("started_at", "")),
        record=dict(env),
        runner=dict(runner) if isinstance(runner, Mapping) else {},
    )


def _read(path: Path, source: str) -> tuple[Optional[Environment], list[dict[str, Any]], str]:
    """The environment and cases of one result file, or None and why it is unusable."""
    try:
        doc = results.load(path)
    except results.ResultError as exc:
        return None, [], str(exc).removeprefix(f"{path}: ")
    return _environment(doc, path, source), list(doc["cases"]), ""


def _reference(env: Environment, envs: list[Environment]) -> tuple[Optional[Environment], str]:
    def rank(candidate: Environment) -> tuple[int, int, bool, str]:
        return (
            KIND_RANK[candidate.kind],
            len(candidate.layers),
            candidate.runner_name != "native",
            candidate.id,
        )

    same_arch = [e for e in envs if e.arch == env.arch and e.kind != "emulated"]
    if same_arch:
        best = min(same_arch, key=rank)
        if best.native:
            return best, "native, same architecture"
        return best, f"no native {env.arch} environment: least virtualized one ({best.kind})"
    if env.kind == "emulated" and env.cpu_model:
        hosts = [e for e in envs if e.cpu_model == env.cpu_model and e.kind != "emulated"]
        if hosts:
            best = min(hosts, key=rank)
            return best, f"the host CPU that ran the emulator ({best.arch}, {best.kind})"
    return None, f"no comparable {env.arch} environment"


Source = Union[str, "os.PathLike[str]", Sequence[Mapping[str, Any]]]


def collect(source: Source, *, prefer: str = "results") -> CrossEnvTable:
    """One result per environment key and the cases of each.

    ``source`` is a project root or its ``benchmarks`` directory (the latest result per key, or the
    key's baseline when it has no result; ``prefer="baselines"`` turns that round), or result
    documents already loaded (the latest per key is used).
    """
    if prefer not in ("results", "baselines"):
        raise CrossEnvError(f"prefer must be 'results' or 'baselines', not {prefer!r}")
    skipped: list[tuple[str, str]] = []
    latest: dict[str, tuple[tuple[str, str], Environment, list[dict[str, Any]]]] = {}
    baselines: dict[str, tuple[Environment, list[dict[str, Any]]]] = {}

    def offer(env: Environment, cases: list[dict[str, Any]], name: str) -> None:
        order = (env.started_at, name)
        if env.id not in latest or order > latest[env.id][0]:
            latest[env.id] = (order, env, cases)

    if isinstance(source, (str, os.PathLike)):
        bench = benchmarks_dir(Path(source))
        for path in sorted((bench / "results").glob("*/*.json")):
            env, cases, why = _read(path, "result")
            if env is None:
                skipped.append((str(path), why))
            else:
                offer(env, cases, path.name)
        for path in sorted((bench / "baselines").glob("*.json")):
            env, cases, why = _read(path, "baseline")
            if env is None:
                skipped.append((str(path), why))
            else:
                baselines[env.id] = (env, cases)
    else:
        for i, doc in enumerate(source):
            try:
                valid = results.validate(doc, f"result #{i + 1}")
            except results.ResultError as exc:
                skipped.append((f"result #{i + 1}", str(exc)))
                continue
            offer(_environment(valid, None, "result"), list(valid["cases"]), f"{i:09d}")
    found = {key: (env, cases) for key, (_, env, cases) in latest.items()}
    primary, fallback = (found, baselines) if prefer == "results" else (baselines, found)
    chosen = {**fallback, **primary}

    environments = sorted(
        (env for env, _ in chosen.values()),
        key=lambda e: (KIND_RANK[e.kind], len(e.layers), e.runner_name != "native", e.arch, e.id),
    )
    times: dict[tuple[Case, str], tuple[float, Optional[float], Optional[float]]] = {}
    for env in environments:
        by_group: dict[Case, dict[str, dict[str, Any]]] = {}
        for case in chosen[env.id][1]:
            try:
                ident: Case = (str(case["op"]), str(case["dtype"]), int(case["n"]))
            except (KeyError, TypeError, ValueError):
                continue
            by_group.setdefault(ident, {})[str(case.get("impl"))] = case
        for ident, impls in by_group.items():
            fastarm = impls.get(FASTARM_IMPL)
            fastarm_ns = _median_ns(fastarm) if fastarm else None
            if fastarm is None or fastarm_ns is None:
                continue
            numpy_ns = _median_ns(impls[NUMPY_IMPL]) if NUMPY_IMPL in impls else None
            speedup = fastarm.get("speedup_vs_numpy")
            if not isinstance(speedup, (int, float)) or not math.isfinite(speedup):
                speedup = numpy_ns / fastarm_ns if numpy_ns else None
            times[(ident, env.id)] = (fastarm_ns, numpy_ns, speedup)

    references: dict[str, Optional[str]] = {}
    relations: dict[str, str] = {}
    for env in environments:
        ref, relation = _reference(env, environments)
        references[env.id] = ref.id if ref else None
        relations[env.id] = relation
    cells: dict[tuple[Case, str], Cell] = {}
    for (ident, key), (fastarm_ns, numpy_ns, speedup) in times.items():
        ref_key = references[key]
        ref_time = times.get((ident, ref_key)) if ref_key else None
        ratio = fastarm_ns / ref_time[0] if ref_time else None
        cells[(ident, key)] = Cell(fastarm_ns, numpy_ns, speedup, ratio)
    cases = sorted({ident for ident, _ in cells})
    return CrossEnvTable(environments, cases, cells, references, relations, skipped)


# --------------------------------------------------------------------------------------------------
# Rendering


def _fmt_speedup(value: Optional[float]) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def _fmt_ratio(value: Optional[float]) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def to_dict(table: CrossEnvTable) -> dict[str, Any]:
    """The table as plain data (the ``json`` format)."""
    by_id = {env.id: env for env in table.environments}
    return {
        "environments": [
            {
                "id": env.id,
                "key": env.key,
                "runner": env.runner_name,
                "short": env.short,
                "kind": env.kind,
                "native": env.native,
                "label": env.label,
                "arch": env.arch,
                "cpu_model": env.cpu_model,
                "layers": list(env.layers),
                "source": env.source,
                "path": str(env.path) if env.path else None,
                "started_at": env.started_at,
                "reference": table.references[env.id],
                "reference_short": (
                    by_id[table.references[env.id]].short  # type: ignore[index]
                    if table.references[env.id]
                    else None
                ),
                "reference_relation": table.relations[env.id],
            }
            for env in table.environments
        ],
        "cases": [
            {
                "op": op,
                "dtype": dtype,
                "n": n,
                "environments": {
                    column: {
                        "fastarm_median_ns": cell.fastarm_ns,
                        "numpy_median_ns": cell.numpy_ns,
                        "speedup_vs_numpy": cell.speedup,
                        "time_ratio_to_reference": cell.ratio,
                    }
                    for column in by_id
                    if (cell := table.cell((op, dtype, n), column)) is not None
                },
            }
            for op, dtype, n in table.cases
        ],
        "notes": [NOTES[k] for k in ("emulated", "vm", "container") if _has_kind(table, k)],
        "skipped": [{"path": p, "reason": r} for p, r in table.skipped],
    }


def _has_kind(table: CrossEnvTable, kind: str) -> bool:
    return any(env.kind == kind for env in table.environments)


def render(source: Source, fmt: str = "table", *, prefer: str = "results") -> str:
    """The cross-environment report as text, Markdown or JSON (``source``: see :func:`collect`)."""
    if fmt not in FORMATS:
        raise CrossEnvError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    table = collect(source, prefer=prefer)
    if fmt == "json":
        return json.dumps(to_dict(table), indent=2, ensure_ascii=False)
    where = benchmarks_dir(Path(source)) if isinstance(source, (str, os.PathLike)) else None
    return render_table(table, markdown=fmt == "markdown", where=where)


def render_table(
    table: CrossEnvTable, *, markdown: bool = False, where: Optional[Path] = None
) -> str:
    from tabulate import tabulate  # the bench extra

    tablefmt = "github" if markdown else "simple"
    sep = "<br>" if markdown else "\n"
    heading = (lambda text: f"### {text}") if markdown else (lambda text: text)
    out: list[str] = []
    title = "Cross-environment report: the same cases in every environment that has results"
    out.append(f"## {title}" if markdown else f"{title}\n{'=' * len(title)}")
    if not table.environments:
        place = f"under {where / 'results'} or {where / 'baselines'}" if where else "given"
        out.append(
            f"No benchmark results {place}. "
            "Run `python -m fastarm.bench run` (or `invoke bench`) in each environment first."
        )
        out.extend(_skipped_lines(table, markdown))
        return "\n\n".join(out) + "\n"
    if any(not env.native for env in table.environments):
        warn = (
            "⚠ Columns marked ⚠ are not native hardware: read their speed numbers with the notes "
            "below. Emulated columns prove correctness only."
        )
        out.append(f"> **{warn}**" if markdown else warn)

    by_id = {env.id: env for env in table.environments}
    env_rows = []
    for env in table.environments:
        ref = table.references[env.id]
        env_rows.append(
            [
                f"[{env.short}]",
                ("" if env.native else "⚠ ") + env.kind,
                env.label,
                f"`{env.key}`" if markdown else env.key,
                f"{env.source} {env.started_at} ({env.runner_name} runner)".strip(),
                (f"[{by_id[ref].short}] " if ref else "") + table.relations[env.id],
            ]
        )
    out.append(heading("Environments"))
    out.append(
        tabulate(
            env_rows,
            headers=["", "kind", "layers", "environment key", "from", "ratio reference"],
            tablefmt=tablefmt,
            disable_numparse=True,
        )
    )

    headers = ["op", "dtype", "n"] + [env.header(sep) for env in table.environments]
    speed_rows, ratio_rows = [], []
    for case in table.cases:
        cells = [table.cell(case, env.id) for env in table.environments]
        speed_rows.append([*case, *(_fmt_speedup(c.speedup if c else None) for c in cells)])
        ratio_rows.append([*case, *(_fmt_ratio(c.ratio if c else None) for c in cells)])
    align = ("left", "left", "right") + ("right",) * len(table.environments)
    out.append(heading("fastarm speed-up vs NumPy (NumPy time / fastarm time, same process)"))
    out.append(
        tabulate(
            speed_rows, headers=headers, tablefmt=tablefmt, colalign=align, disable_numparse=True
        )
    )
    out.append(
        heading(
            "fastarm time relative to the reference environment "
            "(time here / time there; above 1 = slower here)"
        )
    )
    ratio_headers = ["op", "dtype", "n"] + [
        env.header(sep)
        + sep
        + (
            "reference"
            if table.references[env.id] == env.id
            else f"vs [{by_id[r].short}]"
            if (r := table.references[env.id])
            else "no reference"
        )
        for env in table.environments
    ]
    out.append(
        tabulate(
            ratio_rows,
            headers=ratio_headers,
            tablefmt=tablefmt,
            colalign=align,
            disable_numparse=True,
        )
    )
    notes = [NOTES[k] for k in ("emulated", "vm", "container") if _has_kind(table, k)]
    if notes:
        out.append("\n".join(f"- {n}" if markdown else n for n in notes))
    out.extend(_skipped_lines(table, markdown))
    return "\n\n".join(out) + "\n"


def _skipped_lines(table: CrossEnvTable, markdown: bool) -> list[str]:
    if not table.skipped:
        return []
    lines = [f"Skipped {len(table.skipped)} unusable file(s):"]
    lines += [f"{'- ' if markdown else '  '}{path}: {reason}" for path, reason in table.skipped]
    return ["\n".join(lines)]
