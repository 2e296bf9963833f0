"""``python -m fastarm.bench``: run | compare | ab | baseline save|show|compare | env | report.

Exit codes (the same for every subcommand): 0 ok, 1 regression, 2 nothing comparable / environments
differ, 3 too noisy, 4 runner or input error (including a bad command line), 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn, Sequence

from . import compare as compare_mod
from . import results
from .compare import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_NOT_COMPARABLE, EXIT_OK

#: Modules of the ``bench`` extra, imported lazily by the commands that need them.
BENCH_EXTRA_MODULES = {"numpy", "tabulate", "rich", "simsimd", "threadpoolctl"}


class UserError(Exception):
    """A problem the user can fix; printed without a traceback (exit code 4 unless given)."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line exits with 4 (input error), not 2 (which means
    'nothing comparable' here)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


# ---------------------------------------------------------------------------------------------
# Arguments


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (e.g. 0.05 or 5%)") from None
    if not 0 <= value < 10:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range")
    return value


def add_measure_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("what to measure")
    g.add_argument(
        "--profile", choices=("quick", "full"), default="quick", help="case set (default quick)"
    )
    g.add_argument("-k", dest="select", metavar="EXPR", help="select cases by id (see the README)")
    g.add_argument(
        "--backends",
        metavar="LIST",
        help="also measure fastarm with each of these backends forced ('all' or e.g. scalar,avx2)",
    )
    g.add_argument(
        "--impls", metavar="LIST", help="only these implementations (e.g. numpy,fastarm)"
    )
    g.add_argument("--workers", type=_positive_int, default=1, help="worker processes (default 1)")
    g.add_argument("--samples", type=_positive_int, help="samples per case (profile default)")
    g.add_argument(
        "--min-sample-ms", type=float, help="minimum duration of one sample in ms (profile default)"
    )
    g.add_argument("--seed", type=int, default=0, help="input seed (default 0)")
    g.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: only when stderr is a terminal)",
    )


def measure_args(args: argparse.Namespace) -> list[str]:
    """The measurement options, as a command line for the command every transport moves."""
    out = ["--profile", args.profile, "--seed", str(args.seed), "--workers", str(args.workers)]
    if args.select:
        out += ["-k", args.select]
    if args.backends:
        out += ["--backends", args.backends]
    if args.impls:
        out += ["--impls", args.impls]
    if args.samples:
        out += ["--samples", str(args.samples)]
    if args.min_sample_ms is not None:
        out += ["--min-sample-ms", str(args.min_sample_ms)]
    if args.progress is not None:
        out += ["--progress" if args.progress else "--no-progress"]
    return out


def add_judge_arguments(p: argparse.ArgumentParser, *, cross_env: bool = True) -> None:
    p.add_argument(
        "--threshold",
        type=_fraction,
        default=compare_mod.DEFAULT_THRESHOLD,
        help="smallest slowdown that counts as a regression (default 0.05 = 5%%)",
    )
    if cross_env:
        p.add_argument(
            "--allow-cross-env",
            action="store_true",
            help="compare runs from different environments (informational, never gates)",
        )


def add_output_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    p.add_argument(
        "--root",
        type=Path,
        help="benchmarks directory (default: $FASTARM_BENCH_ROOT or ./benchmarks of the project)",
    )


def add_transport_arguments(p: argparse.ArgumentParser) -> None:
    from . import runners

    group = p.add_argument_group("where to run (default: natively, here)")
    runners.add_all_arguments(group)  # type: ignore[arg-type]
    for flags, kwargs in (
        (("--docker",), {"action": "store_true", "help": "run in a Docker container"}),
        (("--vm",), {"metavar": "HOST", "help": "run on HOST over SSH"}),
    ):
        # unless the runner module defines the flag itself
        with contextlib.suppress(argparse.ArgumentError):
            group.add_argument(*flags, **kwargs)  # type: ignore[arg-type]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m fastarm.bench",
        description="fastarm's benchmark harness: every number keeps the environment it came from.",
        epilog="exit codes: 0 ok, 1 regression, 2 nothing comparable, 3 too noisy, 4 error",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    run = sub.add_parser(
        "run", help="measure (natively, in Docker or over SSH), store, compare, report"
    )
    add_measure_arguments(run)
    run.add_argument(
        "--json",
        type=Path,
        metavar="OUT",
        help="measure here and write the result JSON to OUT only",
    )
    run.add_argument("--save", action="store_true", help="make this run the environment's baseline")
    run.add_argument(
        "--compare",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="compare with the environment's baseline (default: when one exists)",
    )
    add_judge_arguments(run)
    add_output_arguments(run)
    add_transport_arguments(run)

    cmp_ = sub.add_parser("compare", help="compare a result with a baseline")
    cmp_.add_argument(
        "result", nargs="?", type=Path, help="result file (default: latest of this env)"
    )
    cmp_.add_argument("baseline", nargs="?", type=Path, help="baseline file (default: its env's)")
    add_judge_arguments(cmp_)
    add_output_arguments(cmp_)

    ab = sub.add_parser(
        "ab", help="A/B: two backends interleaved in one session, or two result files"
    )
    ab.add_argument("files", nargs="*", type=Path, help="A.json B.json (instead of measuring)")
    ab.add_argument(
        "--a-backend", default="default", help="backend of A (default: fastarm's default)"
    )
    ab.add_argument("--b-backend", help="backend of B")
    add_measure_arguments(ab)
    add_judge_arguments(ab)
    add_output_arguments(ab)

    base = sub.add_parser("baseline", help="per-environment baselines")
    bsub = base.add_subparsers(dest="baseline_command", metavar="ACTION", parser_class=Parser)
    bsub.required = True
    bsave = bsub.add_parser("save", help="make a result its environment's baseline")
    bsave.add_argument(
        "result", nargs="?", type=Path, help="result file (default: latest of this env)"
    )
    add_output_arguments(bsave)
    bshow = bsub.add_parser("show", help="show a baseline (default: this environment's)")
    bshow.add_argument("key", nargs="?", help="environment key (default: this environment)")
    add_output_arguments(bshow)
    bcmp = bsub.add_parser("compare", help="compare a result with its environment's baseline")
    bcmp.add_argument(
        "result", nargs="?", type=Path, help="result file (default: latest of this env)"
    )
    add_judge_arguments(bcmp)
    add_output_arguments(bcmp)

    env = sub.add_parser("env", help="show this environment's fingerprint")
    env.add_argument("--json", action="store_true", help="print the fingerprint as JSON")

    rep = sub.add_parser("report", help="report results (default: the latest of every environment)")
    rep.add_argument("results", nargs="*", type=Path, help="result files")
    rep.add_argument("--envs", action="store_true", help="cross-environment table")
    rep.add_argument(
        "--html", type=Path, metavar="DIR", help="write an HTML report with charts to DIR"
    )
    add_output_arguments(rep)
    return parser


# ---------------------------------------------------------------------------------------------
# Commands


def _root(args: argparse.Namespace) -> Path:
    return args.root if getattr(args, "root", None) else results.default_root()


def _environment() -> dict[str, Any]:
    try:
        from .environment import fingerprint
    except ImportError as exc:  # pragma: no cover - shipped with the package
        raise UserError(f"the environment fingerprint is unavailable: {exc}") from None
    return fingerprint()


def _sampling(args: argparse.Namespace) -> Any:
    from . import timing

    base = dict(timing.PROFILE_SAMPLING[args.profile])
    if args.samples:
        base["samples"] = args.samples
    if args.min_sample_ms is not None:
        if args.min_sample_ms <= 0:
            raise UserError("--min-sample-ms must be positive")
        base["min_sample_ns"] = int(args.min_sample_ms * 1e6)
    return timing.Sampling(**base)


def measure_here(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``run --json OUT``: measure in this process (or its workers) and write the result."""
    from . import suite, timing

    sampling = _sampling(args)
    started = results.utc_now()
    environment = _environment()
    progress = args.progress if args.progress is not None else timing.default_progress()
    if args.workers > 1:
        forwarded = [a for a in measure_args(args) if a]
        i = forwarded.index("--workers")
        del forwarded[i : i + 2]
        try:
            cases, notes = timing.run_workers(args.workers, forwarded)
        except RuntimeError as exc:
            raise UserError(str(exc)) from None
    else:
        try:
            plan = suite.plan(args.profile, args.select, args.backends)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if args.impls:
            wanted = [s.strip() for s in args.impls.split(",") if s.strip()]
            plan.groups = [(g, [i for i in impls if i in wanted]) for g, impls in plan.groups]
            plan.groups = [(g, impls) for g, impls in plan.groups if impls]
        if not plan.groups:
            raise UserError(
                "no case selected"
                + (f" by -k {args.select!r}" if args.select else "")
                + ("; " + "; ".join(plan.notes) if plan.notes else "")
            )
        cases, notes = timing.measure_plan(plan, sampling, seed=args.seed, progress=progress)
        notes = plan.notes + notes
    doc = results.make_result(
        command=["python", "-m", "fastarm.bench", *argv],
        started_at=started,
        finished_at=results.utc_now(),
        profile=args.profile,
        environment=environment,
        cases=cases,
        notes=notes,
        extra={
            "sampling": {
                "samples": sampling.samples,
                "min_sample_ns": sampling.min_sample_ns,
                "warmup": sampling.warmup,
                "workers": args.workers,
                "seed": args.seed,
            }
        },
    )
    results.validate(doc, args.json)
    results.write_atomic(args.json, doc)
    return EXIT_OK


def _selected_runner(args: argparse.Namespace) -> str:
    chosen = []
    if getattr(args, "docker", None):
        chosen.append("docker")
    if getattr(args, "vm", None):
        chosen.append("ssh")
    if len(chosen) > 1:
        raise UserError("choose one transport: --docker or --vm HOST")
    return chosen[0] if chosen else "native"


def cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    if args.json is not None:
        if _selected_runner(args) != "native":
            raise UserError("--json measures here; it cannot be combined with --docker or --vm")
        return measure_here(args, argv)
    from . import runners, session

    name = _selected_runner(args)
    try:
        runner = runners.create(name, args)
    except runners.RunnerError as exc:
        raise UserError(str(exc)) from None
    return session.bench(
        runner,
        measure_args(args),
        save=args.save,
        compare=args.compare,
        threshold=args.threshold,
        fmt=args.format,
        allow_cross_env=args.allow_cross_env,
        root=_root(args),
    )


def _load(path: Path) -> dict[str, Any]:
    try:
        return results.load(path)
    except results.ResultError as exc:
        raise UserError(str(exc)) from None


def _latest_result(root: Path) -> Path:
    key = _environment()["key"]
    latest = results.latest_result(root, key)
    if latest is None:
        raise UserError(
            f"no stored result for this environment ({key}) under {root / 'results'}; "
            "run `python -m fastarm.bench run` first, or name a result file",
            EXIT_NOT_COMPARABLE,
        )
    return latest


def _compare_and_print(
    new: dict[str, Any],
    base: dict[str, Any],
    args: argparse.Namespace,
    *,
    base_label: str = "baseline",
    new_label: str = "run",
    paired: bool = False,
) -> int:
    from . import report

    try:
        comparison = compare_mod.compare(
            new,
            base,
            threshold=args.threshold,
            allow_cross_env=getattr(args, "allow_cross_env", False),
            base_label=base_label,
            new_label=new_label,
            paired=paired,
        )
    except compare_mod.NotComparable as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_NOT_COMPARABLE
    print(report.render_comparison(comparison, new, args.format), end="")
    return comparison.exit_code


def cmd_compare(args: argparse.Namespace) -> int:
    root = _root(args)
    result_file = args.result or _latest_result(root)
    new = _load(result_file)
    baseline_file = args.baseline or results.baseline_path(root, new["environment"]["key"])
    if not baseline_file.is_file():
        print(
            f"no baseline for environment {new['environment']['key']} ({baseline_file}); "
            "save one with `python -m fastarm.bench baseline save`",
            file=sys.stderr,
        )
        return EXIT_NOT_COMPARABLE
    return _compare_and_print(new, _load(baseline_file), args)


def cmd_ab(args: argparse.Namespace, argv: Sequence[str]) -> int:
    if args.files:
        if len(args.files) != 2:
            raise UserError("ab takes two result files (A then B), or --a-backend/--b-backend")
        a, b = (_load(p) for p in args.files)
        return _compare_and_print(b, a, args, base_label="A", new_label="B")
    if not args.b_backend:
        raise UserError(
            "ab needs --b-backend NAME (and optionally --a-backend), or two result files"
        )
    from .runners.native import NativeRunner

    def impl(backend: str) -> str:
        return "fastarm" if backend == "default" else f"fastarm[{backend}]"

    a_impl, b_impl = impl(args.a_backend), impl(args.b_backend)
    if a_impl == b_impl:
        raise UserError("A and B are the same backend")
    forced = [b for b in (args.a_backend, args.b_backend) if b != "default"]
    args.backends = ",".join(forced)
    args.impls = f"{a_impl},{b_impl}"
    root = _root(args)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fastarm-ab-") as tmp:
        out = Path(tmp) / "ab.json"
        from .runners import RunnerError

        try:
            NativeRunner().execute(measure_args(args), out)
        except RunnerError as exc:
            raise UserError(str(exc)) from None
        doc = _load(out)
    stored = results.store_result(root, doc)
    print(f"A/B result stored: {stored}", file=sys.stderr)
    try:
        doc_a, doc_b = compare_mod.split_ab(doc, a_impl, b_impl)
    except compare_mod.NotComparable as exc:
        raise UserError(str(exc), EXIT_NOT_COMPARABLE) from None
    return _compare_and_print(
        doc_b, doc_a, args, base_label=f"A={a_impl}", new_label=f"B={b_impl}", paired=True
    )


def cmd_baseline(args: argparse.Namespace) -> int:
    from . import report

    root = _root(args)
    if args.baseline_command == "save":
        result_file = args.result or _latest_result(root)
        doc = _load(result_file)
        target = results.baseline_path(root, doc["environment"]["key"])
        results.write_atomic(target, doc)
        print(f"baseline saved: {target} (from {result_file})")
        return EXIT_OK
    if args.baseline_command == "show":
        key = args.key or _environment()["key"]
        path = results.baseline_path(root, key)
        if not path.is_file():
            known = results.baseline_keys(root)
            listing = ("; baselines exist for: " + ", ".join(known)) if known else ""
            print(f"no baseline for environment {key} ({path}){listing}", file=sys.stderr)
            return EXIT_NOT_COMPARABLE
        print(report.render_run(_load(path), args.format, title=f"baseline {path}"), end="")
        return EXIT_OK
    args.baseline = None
    return cmd_compare(args)


def cmd_env(args: argparse.Namespace) -> int:
    env = _environment()
    if args.json:
        print(json.dumps(env, indent=1))
    else:
        from . import report

        print(report.describe_environment(env))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from . import report

    root = _root(args)
    if args.results:
        paths = list(args.results)
    else:
        paths = list(results.latest_per_environment(root).values())
        if not paths:
            raise UserError(f"no stored results under {root / 'results'}", EXIT_NOT_COMPARABLE)
    docs = [_load(p) for p in paths]
    # named files: exactly those; otherwise the whole store (one column per key and transport,
    # baselines for keys without results)
    source = docs if args.results else root
    if args.html is not None:
        try:
            from . import html  # type: ignore[attr-defined,unused-ignore]
        except ImportError as exc:
            raise UserError(
                f"the HTML report is not available ({exc}); pip install 'fastarm[report]'"
            ) from None
        try:
            written = html.write_report(source, args.html)
        except html.ReportError as exc:
            raise UserError(str(exc)) from None
        print(f"HTML report written: {written}")
    if args.envs:
        try:
            from . import crossenv  # type: ignore[attr-defined,unused-ignore]
        except ImportError as exc:
            raise UserError(f"the cross-environment report is not available ({exc})") from None
        print(crossenv.render(source, fmt=args.format), end="")
        return EXIT_OK
    if args.html is not None:
        return EXIT_OK
    if args.format == "json":
        print(json.dumps(docs if len(docs) > 1 else docs[0], indent=1))
        return EXIT_OK
    for path, doc in zip(paths, docs):
        print(report.render_run(doc, args.format, title=str(path)), end="\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args, argv)
        if args.command == "compare":
            return cmd_compare(args)
        if args.command == "ab":
            return cmd_ab(args, argv)
        if args.command == "baseline":
            return cmd_baseline(args)
        if args.command == "env":
            return cmd_env(args)
        if args.command == "report":
            return cmd_report(args)
        parser.error(f"unknown command {args.command!r}")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except ModuleNotFoundError as exc:
        if exc.name not in BENCH_EXTRA_MODULES:
            raise
        print(
            f"error: this command needs {exc.name}, from the bench extra: "
            "pip install 'fastarm[bench]'",
            file=sys.stderr,
        )
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted; nothing was half-written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # e.g. `... | head`; keep quiet and do not let the interpreter complain at exit either
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:  # e.g. an unwritable --json path or --root, a full disk
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
