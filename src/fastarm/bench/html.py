"""``report --html DIR``: one self-contained HTML page with matplotlib charts (PNG, inline base64).

The page shows fastarm's speed-up vs NumPy per op and dtype for every environment that has
results, fastarm's time in each environment relative to its reference environment (see
``crossenv``), and what each environment is: its layers with the evidence that identified them.
Non-native environments are hatched in the charts and carry a coloured badge; emulated ones say
that their numbers prove correctness only.  The page needs nothing but itself: no network, no
files beside it.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastarm.bench import crossenv
from fastarm.bench.crossenv import Case, CrossEnvTable, Environment

PALETTE = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f", "#e377c2"]
HATCH = {"native": "", "container": "..", "vm": "//", "emulated": "xx"}
BADGE = {
    "native": ("native", "#1a7f37"),
    "container": ("container: not native", "#bf8700"),
    "vm": ("virtual machine: not native", "#d1242f"),
    "emulated": ("EMULATED: correctness only, speed meaningless", "#d1242f"),
}

# Marks every chart that failed to load, and records each image's decoded width for checks.
IMAGE_CHECK = """
window.addEventListener("load", function () {
  var images = document.querySelectorAll("img");
  var loaded = 0;
  images.forEach(function (img) {
    img.setAttribute("data-natural-width", String(img.naturalWidth));
    if (img.complete && img.naturalWidth > 0) { loaded += 1; } else { img.classList.add("broken"); }
  });
  var status = document.getElementById("image-status");
  status.textContent = loaded + " of " + images.length + " charts loaded";
  status.setAttribute("data-loaded", String(loaded));
  status.setAttribute("data-total", String(images.length));
});
"""

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1180px; padding: 0 1em; color: #1f2328; }
h1 { margin-bottom: 0.2em; } .meta { color: #59636e; }
.warning { background: #fff1e5; border-left: 6px solid #d1242f; padding: 0.7em 1em; margin: 1em 0; }
.badge { display: inline-block; color: #fff; border-radius: 4px; padding: 0.05em 0.5em;
         font-size: 0.85em; font-weight: 600; }
.env { border: 1px solid #d1d9e0; border-radius: 6px; padding: 0.6em 1em; margin: 0.8em 0; }
.env.nonnative { border-left: 6px solid #d1242f; }
.env code, td code { font-size: 0.85em; word-break: break-all; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9em; }
th, td { border: 1px solid #d1d9e0; padding: 0.25em 0.6em; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th.nonnative { background: #fff1e5; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #59636e; font-size: 0.9em; }
img.broken { outline: 4px solid #d1242f; min-height: 2em; }
#image-status { color: #59636e; font-size: 0.85em; }
"""


class ReportError(RuntimeError):
    """The report cannot be written; the message says why."""


class ReportDependencyError(ReportError):
    """matplotlib is missing."""


def _figure_class() -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ReportDependencyError(
            "the HTML report needs matplotlib: pip install 'fastarm[report]'"
        ) from exc
    return Figure, FigureCanvasAgg


def _png(fig: Any) -> str:
    _, canvas_class = _figure_class()
    canvas_class(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _ticks(suffix: str, *, minor: bool = False) -> Any:
    from matplotlib.ticker import FuncFormatter

    def label(value: float, _pos: int) -> str:
        if value <= 0:
            return ""
        mantissa = value / 10 ** math.floor(math.log10(value) + 1e-9)
        if minor and round(mantissa) not in (2, 5):
            return ""
        return f"{value:g}{suffix}"

    return FuncFormatter(label)


def _legend_label(env: Environment) -> str:
    mark = "" if env.native else "⚠ "
    via = "" if env.runner_name == "native" else f", via {env.runner_name}"
    return f"{mark}[{env.short}] {env.label} ({env.arch}{via})"


def _bars(
    table: CrossEnvTable,
    envs: list[Environment],
    cases: list[Case],
    value: Any,
    *,
    title: str,
    xlabel: str,
    colors: dict[str, str],
    suffix: str = "",
) -> str:
    """Grouped horizontal bars: one group per case (top to bottom), one bar per environment, log
    scale, a dashed line at 1.  Horizontal so that any number of cases stays readable."""
    figure_class, _ = _figure_class()
    per_case = 0.2 * max(1, len(envs)) + 0.2
    height = 1.1 + per_case * len(cases) + 0.2 * len(envs)
    fig = figure_class(figsize=(10.0, height), layout="constrained")
    ax = fig.add_subplot()
    bar = 0.8 / max(1, len(envs))
    for i, env in enumerate(envs):
        ys, xs = [], []
        for j, case in enumerate(cases):
            cell = table.cell(case, env.id)
            v = value(cell) if cell else None
            if v is not None and v > 0:
                ys.append(j - 0.4 + bar * (i + 0.5))
                xs.append(v)
        ax.barh(
            ys,
            xs,
            height=bar,
            color=colors[env.id],
            hatch=HATCH[env.kind],
            edgecolor="#d1242f" if not env.native else colors[env.id],
            linewidth=1.2 if not env.native else 0.5,
            alpha=0.55 if env.kind == "emulated" else 0.9,
            label=_legend_label(env),
        )
    ax.axvline(1.0, color="#333", linewidth=1, linestyle="--")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(_ticks(suffix))
    ax.xaxis.set_minor_formatter(_ticks(suffix, minor=True))
    ax.tick_params(axis="x", which="minor", labelsize=7)
    several_ops = len({op for op, _, _ in cases}) > 1
    ax.set_yticks(range(len(cases)))
    ax.set_yticklabels(
        [f"{op} {dtype} n={n}" if several_ops else f"{dtype} n={n}" for op, dtype, n in cases],
        fontsize=9,
    )
    ax.set_ylim(len(cases) - 0.5, -0.5)  # first case on top
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", which="both", alpha=0.25)
    fig.legend(fontsize=8, loc="outside lower center", frameon=False)
    return _png(fig)


def _env_section(env: Environment, table: CrossEnvTable, by_id: dict[str, Environment]) -> str:
    text, color = BADGE[env.kind]
    rec = env.record
    layers = "".join(
        f"<li><b>{html.escape(str(layer.get('type')))}</b>: {html.escape(str(layer.get('name')))}"
        + (
            "<ul>"
            + "".join(f"<li>{html.escape(str(ev))}</li>" for ev in layer.get("evidence") or [])
            + "</ul>"
            if layer.get("evidence")
            else ""
        )
        + "</li>"
        for layer in env.layers
    )
    ref = table.references.get(env.id)
    facts = [
        ("environment key", f"<code>{html.escape(env.key)}</code>"),
        ("CPU", html.escape(f"{env.cpu_model} ({rec.get('cpu_count', '?')} CPUs, {env.arch})")),
        (
            "OS",
            html.escape(
                f"{rec.get('os', '?')} {rec.get('os_release', '')}, {rec.get('kernel', '')}"
            ),
        ),
        ("fastarm backend", html.escape(str(rec.get("backend", "?")))),
        ("Python / NumPy", html.escape(f"{rec.get('python', '?')} / {rec.get('numpy', '?')}")),
        ("runner", html.escape(env.runner_name)),
        (
            "from",
            html.escape(f"{env.source} {env.started_at}")
            + f" <code>{html.escape(str(env.path))}</code>",
        ),
        (
            "ratio reference",
            (f"[{by_id[ref].short}] " if ref else "") + html.escape(table.relations[env.id]),
        ),
    ]
    rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
    return (
        f'<div class="env{"" if env.native else " nonnative"}" id="env-{env.short}">'
        f"<h3>[{env.short}] {html.escape(env.label)} "
        f'<span class="badge" style="background:{color}">{html.escape(text)}</span></h3>'
        f"<table>{rows}</table>"
        + (
            f"<p>Layers, outermost first:</p><ul>{layers}</ul>"
            if env.layers
            else "<p>No layers: runs on the hardware directly.</p>"
        )
        + "</div>"
    )


def _html_table(table: CrossEnvTable, envs: list[Environment], fmt: Any, value: Any) -> str:
    head = "".join(
        f'<th class="{"" if e.native else "nonnative"}">{"" if e.native else "⚠ "}'
        f"[{e.short}]<br>{html.escape(e.kind)}</th>"
        for e in envs
    )
    body = []
    for case in table.cases:
        cells = []
        for env in envs:
            cell = table.cell(case, env.id)
            cells.append(f'<td class="num">{fmt(value(cell) if cell else None)}</td>')
        op, dtype, n = case
        body.append(
            f"<tr><td>{html.escape(op)}</td><td>{html.escape(dtype)}</td>"
            f'<td class="num">{n}</td>{"".join(cells)}</tr>'
        )
    return f"<table><tr><th>op</th><th>dtype</th><th>n</th>{head}</tr>{''.join(body)}</table>"


def render_page(table: CrossEnvTable, *, title: str = "fastarm benchmark report") -> str:
    """The whole page as one string."""
    envs = table.environments
    by_id = {env.id: env for env in envs}
    colors = {env.id: PALETTE[i % len(PALETTE)] for i, env in enumerate(envs)}
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">Generated {generated} from {len(envs)} environment(s). '
        '<span id="image-status"></span></p>',
    ]
    if not envs:
        parts.append(
            "<p>No benchmark results yet. Run <code>python -m fastarm.bench run</code> "
            "(or <code>invoke bench</code>) in each environment, then build this report again.</p>"
        )
    nonnative = [env for env in envs if not env.native]
    if nonnative:
        parts.append(
            '<div class="warning"><b>⚠ Not every environment here is native hardware.</b> '
            "Hatched bars and red-edged columns come from containers, virtual machines or "
            "emulators; the notes at the end say how far each can be trusted. "
            "<b>Emulated environments prove correctness only: their speed numbers mean nothing.</b>"
            "</div>"
        )
    ops = sorted({op for op, _, _ in table.cases})
    if envs:
        parts.append("<h2>fastarm speed-up vs NumPy</h2>")
        parts.append(
            "<p>NumPy time / fastarm time for the same case, measured in the same process, per "
            "environment (log scale; the dashed line is parity with NumPy).</p>"
        )
    for op in ops:
        cases = [case for case in table.cases if case[0] == op]
        png = _bars(
            table,
            envs,
            cases,
            lambda cell: cell.speedup,
            title=f"{op}: speed-up vs NumPy",
            xlabel="NumPy time / fastarm time (log scale)",
            colors=colors,
            suffix="x",
        )
        parts.append(
            f'<figure><img alt="{html.escape(op)}: fastarm speed-up vs NumPy per dtype and size, '
            f'one bar per environment" src="data:image/png;base64,{png}">'
            f"<figcaption>{html.escape(op)}: speed-up vs NumPy. Hatched bars with red edges are "
            "non-native environments.</figcaption></figure>"
        )
    if envs:
        parts.append(_html_table(table, envs, crossenv._fmt_speedup, lambda c: c.speedup))

    compared = [env for env in envs if table.references[env.id] not in (None, env.id)]
    if compared:
        png = _bars(
            table,
            compared,
            table.cases,
            lambda cell: cell.ratio,
            title="fastarm time relative to the reference environment",
            xlabel="fastarm time here / fastarm time in the reference (log scale)",
            colors=colors,
        )
        parts.append("<h2>Cross-environment ratios</h2>")
        parts.append(
            "<p>fastarm's time in each environment divided by its time in the reference "
            "environment (above 1 = slower here). The reference of each environment is named in "
            "its description below.</p>"
        )
        parts.append(
            '<figure><img alt="fastarm time in each environment relative to its reference" '
            f'src="data:image/png;base64,{png}"><figcaption>Right of the dashed line: slower than '
            "the reference.</figcaption></figure>"
        )
        parts.append(_html_table(table, compared, crossenv._fmt_ratio, lambda c: c.ratio))

    if envs:
        parts.append("<h2>Environments</h2>")
        parts.extend(_env_section(env, table, by_id) for env in envs)
    notes = [
        crossenv.NOTES[k] for k in ("emulated", "vm", "container") if any(e.kind == k for e in envs)
    ]
    if notes:
        parts.append(
            "<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"
        )
    if table.skipped:
        parts.append(
            "<h2>Skipped files</h2><ul>"
            + "".join(
                f"<li><code>{html.escape(p)}</code>: {html.escape(r)}</li>"
                for p, r in table.skipped
            )
            + "</ul>"
        )
    parts.append(f"<script>{IMAGE_CHECK}</script></body></html>")
    return "\n".join(parts)


def write_html(source: crossenv.Source, out_dir: Path, *, prefer: str = "results") -> Path:
    """Write ``out_dir/index.html`` atomically and return its path.

    ``source`` is a project root / ``benchmarks`` directory or loaded result documents, as for
    :func:`fastarm.bench.crossenv.collect`.
    """
    table = crossenv.collect(source, prefer=prefer)
    page = render_page(table)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".html.tmp", dir=out_dir)
    except OSError as exc:
        raise ReportError(f"cannot write the HTML report into {out_dir}: {exc.strerror}") from exc
    target = out_dir / "index.html"
    umask = os.umask(0)
    os.umask(umask)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o666 & ~umask)  # a normal file, not mkstemp's 0600
            handle.write(page)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


write_report = write_html  # the name the CLI's ``report --html DIR`` uses
