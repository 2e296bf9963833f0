from __future__ import annotations

import json

from bench_helpers import case, doc, environment, run_doc, samples
from fastarm.bench import compare, report


def two_impl_doc(kind: str = "native") -> dict:
    d = doc(
        [
            case("dot/float32/1536/numpy", samples(4000.0)),
            case("dot/float32/1536/fastarm", samples(500.0, seed=1)),
        ],
        env=environment(kind=kind),
    )
    d["cases"][0]["speedup_vs_numpy"] = 1.0
    d["cases"][1]["speedup_vs_numpy"] = 8.0
    return d


def test_format_ns() -> None:
    assert report.format_ns(12.34) == "12.3 ns"
    assert report.format_ns(4300) == "4.30 µs"
    assert report.format_ns(14.6e6) == "14.60 ms"
    assert report.format_ns(2.5e9) == "2.50 s"
    assert report.format_ns(None) == "-"


def test_run_table_starts_with_the_environment() -> None:
    text = report.render_run(two_impl_doc(), "table")
    first = text.splitlines()[0]
    assert "linux-x86_64-testcpu-native-avx2-py3.11" in first
    assert "WARNING" not in text
    for header in ("case", "impl", "median time", "spread", "speed-up vs NumPy"):
        assert header in text
    assert "8.00x" in text and "500" in text


def test_non_native_run_carries_a_warning() -> None:
    for kind in ("container", "vm", "emulated"):
        text = report.render_run(two_impl_doc(kind), "table")
        head = text.split("case")[0]
        assert "not representative of native hardware" in head, kind


def test_markdown_table() -> None:
    text = report.render_run(two_impl_doc("emulated"), "markdown")
    assert "| case" in text and "|---" in text.replace(":", "-").replace(" ", "")
    assert "> **" in text  # the warning stands out in Markdown


def test_json_report_is_the_document() -> None:
    d = two_impl_doc()
    assert json.loads(report.render_run(d, "json")) == json.loads(json.dumps(d))


def test_comparison_report() -> None:
    base = run_doc({"dot/float32/1536/fastarm": 500.0})
    new = run_doc({"dot/float32/1536/fastarm": 700.0}, seed=5)
    result = compare.compare(new, base)
    text = report.render_comparison(result, new, "table")
    assert "SLOWER" in text and "exit code 1: regression" in text
    assert text.splitlines()[0] == "run vs baseline"
    md = report.render_comparison(result, new, "markdown")
    assert md.startswith("### run vs baseline")
    assert json.loads(report.render_comparison(result, new, "json"))["exit_code"] == 1


def test_informational_comparison_is_labelled() -> None:
    base = run_doc({"dot/float32/1536/fastarm": 500.0}, env=environment("a"))
    new = run_doc({"dot/float32/1536/fastarm": 700.0}, env=environment("b", kind="vm"), seed=5)
    result = compare.compare(new, base, allow_cross_env=True)
    text = report.render_comparison(result, new, "table")
    assert text.startswith("INFORMATIONAL")
    assert "not representative" in text
    assert "exit code 0" in text
