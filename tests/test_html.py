"""The HTML report: structure, self-containment, and a real render in headless Chromium."""

from __future__ import annotations

import base64
import html.parser
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import require

# matplotlib comes with the dev extra (the host's test run has it, and it is required there); the
# offline Debian images that run the suite under emulation do not ship it.
pytest.importorskip("matplotlib", reason="the HTML report needs matplotlib (pip install '.[dev]')")

from fastarm.bench import crossenv
from fastarm.bench import html as report_html
from resultfactory import layer, make_result, write_result

CASES = [("cosine", "float16", 1536), ("dot", "float32", 1536), ("dot", "float32", 65536)]
NATIVE = "linux-x86_64-xeon-avx2-py3.11"
DOCKER = "linux-x86_64-xeon-container.docker-avx2-py3.11"
EMULATED = "linux-aarch64-xeon-container.docker+emulated.qemu-user-neon-py3.11"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class PageParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, Any]] = []
        self.external: list[str] = []
        self.badges: list[str] = []
        self._in_badge = False
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes)
        if tag == "script":
            self.scripts += 1
            if attributes.get("src"):
                self.external.append(str(attributes["src"]))
        if tag == "link" and attributes.get("href"):
            self.external.append(str(attributes["href"]))
        if tag == "span" and attributes.get("class") == "badge":
            self._in_badge = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_badge = False

    def handle_data(self, data: str) -> None:
        if self._in_badge:
            self.badges.append(data)


def parse(text: str) -> PageParser:
    parser = PageParser()
    parser.feed(text)
    return parser


@pytest.fixture
def root(tmp_path: Path) -> Path:
    times = {case: (10_000.0 * (i + 1), 1_500.0 * (i + 1)) for i, case in enumerate(CASES)}
    write_result(tmp_path, make_result(NATIVE, "native", "x86_64", times))
    write_result(
        tmp_path,
        make_result(
            DOCKER,
            "container",
            "x86_64",
            {c: (a * 1.1, b * 1.05) for c, (a, b) in times.items()},
            layers=[layer("container", "docker")],
        ),
    )
    write_result(
        tmp_path,
        make_result(
            EMULATED,
            "emulated",
            "aarch64",
            {c: (a * 20, b * 40) for c, (a, b) in list(times.items())[:2]},
            layers=[layer("container", "docker"), layer("emulated", "qemu-user")],
        ),
    )
    return tmp_path


def expected_images(root: Path) -> int:
    table = crossenv.collect(root)
    ops = {op for op, _, _ in table.cases}
    compared = [e for e in table.environments if table.references[e.id] not in (None, e.id)]
    return len(ops) + (1 if compared else 0)


def test_page_is_self_contained_with_one_png_per_op_and_a_ratio_chart(root: Path) -> None:
    page = report_html.write_html(root, root / "report")
    assert page == root / "report" / "index.html"
    parsed = parse(page.read_text(encoding="utf-8"))
    assert len(parsed.images) == expected_images(root) == 3  # cosine, dot, ratios
    for image in parsed.images:
        src = str(image["src"])
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
        assert image.get("alt")
    assert parsed.external == []
    assert [p.name for p in (root / "report").iterdir()] == ["index.html"]  # no temp files left


def test_non_native_environments_are_marked_and_described(root: Path) -> None:
    text = report_html.write_html(root, root / "out").read_text(encoding="utf-8")
    parsed = parse(text)
    kinds = {e.kind for e in crossenv.collect(root).environments}
    assert sorted(parsed.badges) == sorted(report_html.BADGE[k][0] for k in kinds)
    assert "Emulated environments prove correctness only" in text
    for key in (NATIVE, DOCKER, EMULATED):
        assert key in text
    assert "synthetic emulated evidence" in text  # layers come with their evidence
    assert "qemu-user" in text


def test_text_from_results_is_escaped(tmp_path: Path) -> None:
    key = "k<img src=x onerror=alert(1)>"
    result = make_result(
        key, "vm", "x86_64", {CASES[0]: (2.0, 1.0)}, layers=[layer("vm", "<b>kvm")]
    )
    result["environment"]["cpu_model"] = "<script>alert(1)</script>"
    write_result(tmp_path, result, name="x.json")
    text = report_html.write_html(tmp_path, tmp_path / "out").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "&lt;script&gt;alert(1)" in text and "&lt;b&gt;kvm" in text
    parsed = parse(text)
    assert parsed.scripts == 1  # only the page's own image check
    assert all(str(image["src"]).startswith("data:image/png") for image in parsed.images)


def test_no_results_gives_a_page_that_says_so(tmp_path: Path) -> None:
    text = report_html.write_html(tmp_path, tmp_path / "out").read_text(encoding="utf-8")
    assert "No benchmark results yet" in text
    assert parse(text).images == []


def test_rewriting_replaces_the_page(root: Path) -> None:
    out = root / "out"
    first = report_html.write_html(root, out).read_text(encoding="utf-8")
    write_result(
        root,
        make_result(
            "linux-x86_64-other-avx2-py3.11",
            "native",
            "x86_64",
            {("mean_var", "float64", 100): (9.0, 3.0)},
        ),
    )
    second = report_html.write_html(root, out).read_text(encoding="utf-8")
    assert "mean_var" in second and "mean_var" not in first
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]


def test_an_unwritable_destination_is_a_clear_error_and_loses_nothing(root: Path) -> None:
    occupied = root / "report.txt"
    occupied.write_text("keep me", encoding="utf-8")
    with pytest.raises(report_html.ReportError, match="cannot write the HTML report into"):
        report_html.write_html(root, occupied)
    assert occupied.read_text(encoding="utf-8") == "keep me"
    page = report_html.write_html(root, root / "out")
    umask = os.umask(0)
    os.umask(umask)
    assert page.stat().st_mode & 0o777 == 0o666 & ~umask  # like any new file, not mkstemp's 0600


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=10000",
]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    require("chromium", binary is not None, "install Debian's chromium package")
    assert binary is not None
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_page_renders_in_headless_chromium_and_every_chart_loads(
    root: Path, tmp_path: Path
) -> None:
    page = report_html.write_html(root, root / "report")
    url = page.resolve().as_uri()
    dom = chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    parsed = parse(dom.stdout)
    expected = expected_images(root)
    assert len(parsed.images) == expected
    widths = [int(str(image.get("data-natural-width"))) for image in parsed.images]
    assert all(width > 100 for width in widths), widths  # decoded by the browser, not broken
    assert f'data-loaded="{expected}"' in dom.stdout and f'data-total="{expected}"' in dom.stdout
    assert f"{expected} of {expected} charts loaded" in dom.stdout

    shot = tmp_path / "report.png"
    result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert result.returncode == 0, result.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(str(shot))
    assert pixels.shape[:2] == (2000, 1280)
    assert float(pixels[..., :3].std()) > 0.05  # something was drawn, not a blank page
