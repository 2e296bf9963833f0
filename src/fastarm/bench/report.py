"""Reports: tables of a run or of a comparison, as text, Markdown or JSON.

Every text/Markdown report starts with the environment it describes, and a run that is not native
(container, VM, emulated) carries a warning that its speed numbers are not representative of native
hardware.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from .compare import Comparison

FORMATS = ("table", "markdown", "json")


def format_ns(ns: float | None) -> str:
    if ns is None:
        return "-"
    if ns < 1e3:
        return f"{ns:.1f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.2f} s"


def describe_environment(env: Mapping[str, Any]) -> str:
    """The environment summary (``environment.describe``) plus, for non-native kinds, a warning."""
    try:
        from .environment import describe

        text = describe(dict(env)).rstrip()
    except ImportError:  # pragma: no cover - the environment module ships with the package
        text = f"Environment: {env.get('key')} (kind: {env.get('kind')})"
    kind = env.get("kind", "native")
    if kind != "native" and "not representative" not in text.lower():
        layers = ", ".join(f"{ly.get('type')}:{ly.get('name')}" for ly in env.get("layers", []))
        text += (
            f"\nWARNING: this is a {kind} environment ({layers or 'layers unknown'}): its speed "
            "numbers are not representative of native hardware."
        )
    return text


def _tablefmt(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return "github" if fmt == "markdown" else "simple"


def _heading(text: str, fmt: str) -> str:
    return f"### {text}" if fmt == "markdown" else text


def _env_block(env: Mapping[str, Any], fmt: str) -> str:
    text = describe_environment(env)
    if fmt == "markdown":
        lines = text.splitlines()
        body = "\n".join(
            f"> **{ln.strip()}**" if ln.lstrip().upper().startswith("WARNING") else f"> {ln}"
            for ln in lines
        )
        return body
    return text


def _spread(stats: Mapping[str, float]) -> str:
    med = stats.get("median_ns") or 0.0
    if med <= 0:
        return "-"
    return f"±{(stats['q3_ns'] - stats['q1_ns']) / 2.0 / med:.1%}"


def _speedup(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def render_run(doc: Mapping[str, Any], fmt: str = "table", *, title: str | None = None) -> str:
    """A result document as a report."""
    if fmt == "json":
        return json.dumps(doc, indent=1)
    from tabulate import tabulate

    tablefmt = _tablefmt(fmt)
    rows = []
    for case in doc["cases"]:
        rows.append(
            [
                case["group"],
                case["impl"],
                format_ns(case["stats"]["median_ns"]),
                _spread(case["stats"]),
                _speedup(case.get("speedup_vs_numpy")),
            ]
        )
    headers = ["case", "impl", "median time", "spread (IQR/2)", "speed-up vs NumPy"]
    parts = []
    if title:
        parts.append(_heading(title, fmt))
    parts.append(_env_block(doc["environment"], fmt))
    runner = doc.get("runner", {}).get("name", "native")
    workers = max((c.get("workers", 1) for c in doc["cases"]), default=1)
    parts.append(
        f"profile {doc.get('profile', '?')}, runner {runner}, {len(doc['cases'])} cases, "
        f"workers {workers}, {doc.get('started_at', '?')} .. {doc.get('finished_at', '?')}"
    )
    parts.append(tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True))
    for note in doc.get("notes", []):
        parts.append(f"note: {note}")
    return "\n\n".join(parts) + "\n"


def render_comparison(
    comparison: Comparison,
    new_doc: Mapping[str, Any],
    fmt: str = "table",
) -> str:
    """A comparison (run vs baseline) as a report."""
    if fmt == "json":
        return json.dumps(comparison.to_dict(), indent=1)
    from tabulate import tabulate

    tablefmt = _tablefmt(fmt)
    title = f"{comparison.new_label} vs {comparison.base_label}"
    if comparison.informational:
        title = "INFORMATIONAL (environments differ) — " + title
    parts = [_heading(title, fmt), _env_block(new_doc["environment"], fmt)]
    if comparison.informational:
        parts.append(
            f"{comparison.base_label} environment: {comparison.base_key} ({comparison.base_kind})"
        )
    rows = []
    for c in comparison.cases:
        verdict = c.verdict.upper() if c.verdict == "slower" else c.verdict
        rows.append(
            [
                c.group,
                c.impl,
                format_ns(c.base_median_ns),
                format_ns(c.new_median_ns),
                f"{c.ratio:.3f}",
                f"[{c.ci_low:.3f}, {c.ci_high:.3f}]",
                f"{min(c.p_slower, c.p_faster):.2g}",
                verdict,
            ]
        )
    headers = [
        "case",
        "impl",
        comparison.base_label,
        comparison.new_label,
        "ratio",
        "95% CI",
        "p",
        "verdict",
    ]
    parts.append(tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True))
    parts.append(comparison.summary())
    if comparison.only_in_base:
        parts.append(f"only in {comparison.base_label}: {', '.join(comparison.only_in_base)}")
    if comparison.only_in_new:
        parts.append(f"only in {comparison.new_label}: {', '.join(comparison.only_in_new)}")
    parts.extend(f"note: {n}" for n in comparison.notes)
    parts.append(f"exit code {comparison.exit_code}: {exit_meaning(comparison.exit_code)}")
    return "\n\n".join(parts) + "\n"


def exit_meaning(code: int) -> str:
    return {
        0: "ok",
        1: "regression",
        2: "nothing comparable / environments differ",
        3: "too noisy to judge",
        4: "runner or input error",
        130: "interrupted",
    }.get(code, "unknown")
