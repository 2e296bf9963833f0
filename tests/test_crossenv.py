"""The cross-environment table, from synthetic result files written per the schema."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from fastarm.bench import crossenv
from resultfactory import GRAVITON_CPU, HOST_CPU, layer, make_result, write_baseline, write_result

CASES = [("cosine", "float16", 1536), ("dot", "float32", 1536), ("sqeuclidean", "int8", 4096)]

NATIVE_X86 = "linux-x86_64-xeon-avx2-py3.11"
DOCKER_X86_KEY = "linux-x86_64-xeon-container.docker-avx2-py3.11"
EMULATED_ARM_KEY = "linux-aarch64-xeon-container.docker+emulated.qemu-user-neon-py3.11"
# a column is the environment key, plus the transport when that is not the native one
DOCKER_X86 = f"{DOCKER_X86_KEY} via docker"
EMULATED_ARM = f"{EMULATED_ARM_KEY} via docker"
NATIVE_ARM = "linux-aarch64-neoverse-v1-neon-py3.11"


def random_times(seed: int, cases: list[tuple[str, str, int]]) -> dict[Any, tuple[float, float]]:
    rng = random.Random(seed)
    return {case: (rng.uniform(1e3, 1e6), rng.uniform(1e2, 1e6)) for case in cases}


@pytest.fixture
def four(tmp_path: Path) -> dict[str, dict[Any, tuple[float, float]]]:
    """native x86, docker x86, emulated arm64 in docker on the x86 host, native arm64 (Graviton)."""
    times = {
        key: random_times(i, CASES)
        for i, key in enumerate([NATIVE_X86, DOCKER_X86, EMULATED_ARM, NATIVE_ARM])
    }
    times[NATIVE_ARM].pop(CASES[2])  # one case the Graviton run did not measure
    write_result(tmp_path, make_result(NATIVE_X86, "native", "x86_64", times[NATIVE_X86]))
    write_result(
        tmp_path,
        make_result(
            DOCKER_X86_KEY,
            "container",
            "x86_64",
            times[DOCKER_X86],
            layers=[layer("container", "docker")],
            runner="docker",
        ),
    )
    write_result(
        tmp_path,
        make_result(
            EMULATED_ARM_KEY,
            "emulated",
            "aarch64",
            times[EMULATED_ARM],
            layers=[layer("container", "docker"), layer("emulated", "qemu-user")],
            runner="docker",
            record_speedup=False,  # computed from the medians when a result lacks the field
        ),
    )
    write_baseline(
        tmp_path,
        make_result(NATIVE_ARM, "native", "aarch64", times[NATIVE_ARM], cpu_model=GRAVITON_CPU),
    )
    return times


def test_collect_speedups_and_ratios_follow_from_the_inputs(
    tmp_path: Path, four: dict[str, Any]
) -> None:
    table = crossenv.collect(tmp_path)
    assert {env.id for env in table.environments} == set(four)
    assert table.references == {
        NATIVE_X86: NATIVE_X86,
        DOCKER_X86: NATIVE_X86,
        EMULATED_ARM: NATIVE_ARM,  # a native arm64 environment exists: that is the reference
        NATIVE_ARM: NATIVE_ARM,
    }
    sources = {env.id: env.source for env in table.environments}
    assert sources[NATIVE_ARM] == "baseline" and sources[NATIVE_X86] == "result"
    assert table.cases == sorted(CASES)
    for key, times in four.items():
        ref = table.references[key]
        for case in CASES:
            cell = table.cell(case, key)
            if case not in times:
                assert cell is None
                continue
            numpy_ns, fastarm_ns = times[case]
            assert cell is not None
            assert cell.speedup == pytest.approx(numpy_ns / fastarm_ns)
            assert cell.fastarm_ns == pytest.approx(fastarm_ns)
            if case in four[ref]:
                assert cell.ratio == pytest.approx(fastarm_ns / four[ref][case][1])
            else:
                assert cell.ratio is None


def test_emulated_without_native_arm64_is_compared_with_its_host(tmp_path: Path) -> None:
    host = make_result(NATIVE_X86, "native", "x86_64", {CASES[0]: (1000.0, 100.0)})
    emulated = make_result(
        EMULATED_ARM_KEY,
        "emulated",
        "aarch64",
        {CASES[0]: (30000.0, 4000.0)},
        layers=[layer("container", "docker"), layer("emulated", "qemu-user")],
        cpu_model=HOST_CPU,  # qemu-user shows the host's CPU
        runner="docker",
    )
    write_result(tmp_path, host)
    write_result(tmp_path, emulated)
    table = crossenv.collect(tmp_path)
    assert table.references[EMULATED_ARM] == NATIVE_X86
    assert "host" in table.relations[EMULATED_ARM]
    assert table.cell(CASES[0], EMULATED_ARM).ratio == pytest.approx(4000.0 / 100.0)  # type: ignore[union-attr]


def test_without_any_native_the_least_virtualized_is_the_reference(tmp_path: Path) -> None:
    in_vm = "linux-x86_64-vm.kvm-avx2-py3.11"
    in_vm_docker = "linux-x86_64-vm.kvm+container.docker-avx2-py3.11"
    write_result(
        tmp_path,
        make_result(
            in_vm_docker,
            "vm",
            "x86_64",
            {CASES[1]: (900.0, 300.0)},
            layers=[layer("vm", "kvm"), layer("container", "docker")],
        ),
    )
    write_result(
        tmp_path,
        make_result(in_vm, "vm", "x86_64", {CASES[1]: (800.0, 200.0)}, layers=[layer("vm", "kvm")]),
    )
    table = crossenv.collect(tmp_path)
    assert table.references == {in_vm: in_vm, in_vm_docker: in_vm}
    assert "no native x86_64" in table.relations[in_vm_docker]
    assert table.cell(CASES[1], in_vm_docker).ratio == pytest.approx(300.0 / 200.0)  # type: ignore[union-attr]


def test_latest_result_wins_and_baseline_is_the_fallback(tmp_path: Path) -> None:
    old = make_result(
        NATIVE_X86,
        "native",
        "x86_64",
        {CASES[0]: (1000.0, 500.0)},
        started_at="2026-11-25T10:00:00Z",
    )
    new = make_result(
        NATIVE_X86,
        "native",
        "x86_64",
        {CASES[0]: (1000.0, 250.0)},
        started_at="2026-11-26T10:00:00Z",
    )
    base = make_result(
        NATIVE_X86,
        "native",
        "x86_64",
        {CASES[0]: (1000.0, 125.0)},
        started_at="2026-11-01T10:00:00Z",
    )
    write_result(tmp_path, new, name="b.json")
    write_result(tmp_path, old, name="z.json")  # sorts last by name, but is older
    write_baseline(tmp_path, base)
    latest = crossenv.collect(tmp_path).cell(CASES[0], NATIVE_X86)
    assert latest is not None and latest.speedup == pytest.approx(1000.0 / 250.0)
    baseline = crossenv.collect(tmp_path, prefer="baselines").cell(CASES[0], NATIVE_X86)
    assert baseline is not None and baseline.speedup == pytest.approx(1000.0 / 125.0)
    # the benchmarks directory itself is accepted as the root too
    assert crossenv.collect(tmp_path / "benchmarks").cell(CASES[0], NATIVE_X86) == latest


def test_unusable_files_are_reported_and_the_rest_still_shown(
    tmp_path: Path, four: dict[str, Any]
) -> None:
    bad_dir = tmp_path / "benchmarks" / "results" / "broken-key"
    bad_dir.mkdir(parents=True)
    (bad_dir / "truncated.json").write_text(
        '{"schema_version": 1, "environment": {', encoding="utf-8"
    )
    future = make_result("future-key", "native", "x86_64", {CASES[0]: (1.0, 1.0)})
    future["schema_version"] = 99
    write_result(tmp_path, future)
    table = crossenv.collect(tmp_path)
    assert {env.id for env in table.environments} == set(four)
    reasons = dict(table.skipped)
    assert "corrupt or truncated" in reasons[str(bad_dir / "truncated.json")]
    assert any("schema_version 99" in reason for reason in reasons.values())
    text = crossenv.render(tmp_path)
    assert "Skipped 2 unusable file(s)" in text and "truncated.json" in text


def _markdown_table(text: str, heading: str) -> tuple[list[str], list[list[str]]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("###") and heading in line)
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[0], rows[2:]


def test_markdown_cells_match_the_inputs(tmp_path: Path, four: dict[str, Any]) -> None:
    text = crossenv.render(tmp_path, fmt="markdown")
    table = crossenv.collect(tmp_path)
    headers, rows = _markdown_table(text, "speed-up vs NumPy")
    assert headers[:3] == ["op", "dtype", "n"]
    column = {env.id: 3 + i for i, env in enumerate(table.environments)}
    for env in table.environments:
        header = headers[column[env.id]]
        assert f"[{env.short}]" in header
        assert header.startswith("⚠") == (not env.native)
    for row in rows:
        case = (row[0], row[1], int(row[2]))
        for key, times in four.items():
            expected = times[case][0] / times[case][1] if case in times else None
            assert row[column[key]] == crossenv._fmt_speedup(expected)
    ratio_headers, ratio_rows = _markdown_table(text, "relative to the reference")
    assert "reference" in ratio_headers[column[NATIVE_X86]]
    by_id = {env.id: env for env in table.environments}
    assert f"vs [{by_id[NATIVE_X86].short}]" in ratio_headers[column[DOCKER_X86]]
    for row in ratio_rows:
        case = (row[0], row[1], int(row[2]))
        if case in four[NATIVE_ARM]:
            expected = four[EMULATED_ARM][case][1] / four[NATIVE_ARM][case][1]
            assert row[column[EMULATED_ARM]] == crossenv._fmt_ratio(expected)
        else:
            assert row[column[EMULATED_ARM]] == "—"


def test_text_table_marks_non_native_columns_and_explains_emulation(
    tmp_path: Path, four: dict[str, Any]
) -> None:
    text = crossenv.render(tmp_path)
    assert crossenv.NOTES["emulated"] in text
    assert crossenv.NOTES["container"] in text
    assert crossenv.NOTES["vm"] not in text  # no VM among these environments
    assert "⚠ emulated" in text and "emulated aarch64 (qemu-user)" in text
    for column in four:
        assert column.split(" via ")[0] in text  # the legend lists every full key


def test_json_format_round_trips_the_table(tmp_path: Path, four: dict[str, Any]) -> None:
    data = json.loads(crossenv.render(tmp_path, fmt="json"))
    envs = {env["id"]: env for env in data["environments"]}
    assert (
        envs[EMULATED_ARM]["key"] == EMULATED_ARM_KEY and envs[EMULATED_ARM]["runner"] == "docker"
    )
    assert envs[EMULATED_ARM]["native"] is False and envs[EMULATED_ARM]["kind"] == "emulated"
    assert envs[EMULATED_ARM]["reference"] == NATIVE_ARM
    for entry in data["cases"]:
        case = (entry["op"], entry["dtype"], entry["n"])
        for key, times in four.items():
            if case not in times:
                assert key not in entry["environments"]
                continue
            cell = entry["environments"][key]
            assert cell["speedup_vs_numpy"] == pytest.approx(times[case][0] / times[case][1])
            assert cell["numpy_median_ns"] == pytest.approx(times[case][0])
    assert crossenv.NOTES["emulated"] in data["notes"]


def test_no_results_says_what_to_do(tmp_path: Path) -> None:
    text = crossenv.render(tmp_path)
    assert "No benchmark results" in text and "python -m fastarm.bench run" in text
    assert json.loads(crossenv.render(tmp_path, fmt="json"))["environments"] == []


def test_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(crossenv.CrossEnvError, match="unknown format 'html'"):
        crossenv.render(tmp_path, fmt="html")
    with pytest.raises(crossenv.CrossEnvError, match="prefer"):
        crossenv.collect(tmp_path, prefer="newest")


def test_loaded_documents_give_the_same_table_as_the_files(
    tmp_path: Path, four: dict[str, Any]
) -> None:
    from fastarm.bench import results

    docs = [results.load(path) for path in sorted((tmp_path / "benchmarks").rglob("*.json"))]
    from_files = json.loads(crossenv.render(tmp_path, fmt="json"))
    from_docs = json.loads(crossenv.render(docs, fmt="json"))
    assert from_docs["cases"] == from_files["cases"]
    strip = ("path", "source")
    assert [{k: v for k, v in e.items() if k not in strip} for e in from_docs["environments"]] == [
        {k: v for k, v in e.items() if k not in strip} for e in from_files["environments"]
    ]
    broken = dict(docs[0], schema_version=2)
    table = crossenv.collect([broken])
    assert table.environments == [] and "schema_version 2" in table.skipped[0][1]
    assert "No benchmark results given" in crossenv.render([])


def test_two_transports_in_one_key_stay_two_columns(tmp_path: Path) -> None:
    # a container started from inside a container can fingerprint like its host: same key
    key = "linux-x86_64-xeon-vm.kvm+container.docker-avx2-py3.11"
    vm_layers = [layer("vm", "kvm"), layer("container", "docker")]
    here = make_result(key, "vm", "x86_64", {CASES[1]: (900.0, 300.0)}, layers=vm_layers)
    inner = make_result(
        key,
        "vm",
        "x86_64",
        {CASES[1]: (950.0, 330.0)},
        layers=vm_layers,
        runner="docker",
        started_at="2026-11-26T13:00:00Z",  # newer: must not hide the native-transport run
    )
    write_result(tmp_path, here)
    write_result(tmp_path, inner)
    table = crossenv.collect(tmp_path)
    assert [env.id for env in table.environments] == [key, f"{key} via docker"]
    assert table.references[f"{key} via docker"] == key
    cell = table.cell(CASES[1], f"{key} via docker")
    assert cell is not None and cell.ratio == pytest.approx(330.0 / 300.0)
    assert "via docker" in crossenv.render(tmp_path)
