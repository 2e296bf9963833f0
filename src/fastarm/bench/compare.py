"""What a difference means: per-case verdicts of a run against a baseline, and the exit code.

Per case (matched by id): the ratio of medians ``new / base`` with a seeded bootstrap confidence
interval, and a one-sided Mann-Whitney U test in each direction.  With ``limit = max(threshold,
noise_factor x noise)``, where ``noise`` is the environment's own noise, the largest of

* each run's internal noise (:func:`fastarm.bench.stats.environment_noise`: the median over cases
  of the relative semi-interquartile range, or of the spread between worker processes), and
* the drift between the two runs seen on the *control* cases -- the NumPy ones, which a change to
  fastarm cannot affect (:func:`fastarm.bench.stats.control_drift`),

the verdicts are:

* ``slower``    -- significant (p < alpha) and ``ratio > 1 + limit``: a regression;
* ``faster``    -- significant and ``ratio < 1 / (1 + limit)``;
* ``too-noisy`` -- otherwise, when the data cannot rule out a regression: the interval reaches
  beyond ``1 + limit`` and below 1, or the case is significantly slower by more than the threshold
  but not by more than the environment's noise allows to call;
* ``same``      -- otherwise.

Exit codes: 0 ok, 1 regression, 2 nothing comparable / environments differ, 3 too noisy (some case,
or the environment's noise above ``MAX_NOISE``, which then takes precedence over 1: such an
environment cannot support a verdict), 4 runner or input error.  Two runs from different
environments are refused (2) unless ``allow_cross_env``; such a comparison is then INFORMATIONAL
and never exits 1 (nor 3).  Neither does a comparison involving an emulated run: emulation proves
correctness, never speed.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from . import stats

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_NOT_COMPARABLE = 2
EXIT_TOO_NOISY = 3
EXIT_ERROR = 4
EXIT_INTERRUPTED = 130

DEFAULT_THRESHOLD = 0.05
DEFAULT_ALPHA = 0.01
NOISE_FACTOR = 3.0
#: The implementation whose cases serve as controls: a change to fastarm cannot make NumPy slower.
CONTROL_IMPL = "numpy"
#: An environment whose own noise exceeds this cannot judge anything.
MAX_NOISE = 0.25


class NotComparable(Exception):
    """The two runs cannot be compared (exit code 2)."""


@dataclass
class CaseVerdict:
    id: str
    group: str
    impl: str
    base_median_ns: float
    new_median_ns: float
    ratio: float
    ci_low: float
    ci_high: float
    p_slower: float
    p_faster: float
    verdict: str


@dataclass
class Comparison:
    base_key: str
    new_key: str
    base_kind: str
    new_kind: str
    threshold: float
    noise: float
    noise_within: float
    drift: float
    limit: float
    alpha: float
    informational: bool
    gating: bool
    cases: list[CaseVerdict] = field(default_factory=list)
    only_in_base: list[str] = field(default_factory=list)
    only_in_new: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    base_label: str = "baseline"
    new_label: str = "run"

    def count(self, verdict: str) -> int:
        return sum(1 for c in self.cases if c.verdict == verdict)

    @property
    def too_noisy_overall(self) -> bool:
        return self.noise > MAX_NOISE

    @property
    def exit_code(self) -> int:
        if not self.cases:
            return EXIT_NOT_COMPARABLE
        if not self.gating:
            return EXIT_OK
        if self.too_noisy_overall:
            return EXIT_TOO_NOISY
        if self.count("slower"):
            return EXIT_REGRESSION
        if self.count("too-noisy"):
            return EXIT_TOO_NOISY
        return EXIT_OK

    def summary(self) -> str:
        parts = [f"{self.count(v)} {v}" for v in ("slower", "faster", "same", "too-noisy")]
        line = f"{len(self.cases)} cases compared: " + ", ".join(parts)
        line += f" (limit {self.limit:.1%} = max(threshold {self.threshold:.1%}, "
        line += f"{NOISE_FACTOR:g} x noise {self.noise:.1%}: within runs {self.noise_within:.1%}, "
        line += f"drift of the NumPy cases {self.drift:.1%}))"
        return line

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["exit_code"] = self.exit_code
        doc["summary"] = self.summary()
        return doc


def environments_match(base: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return base["environment"]["key"] == new["environment"]["key"]


def compare(
    new: Mapping[str, Any],
    base: Mapping[str, Any],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    allow_cross_env: bool = False,
    alpha: float = DEFAULT_ALPHA,
    resamples: int = 2000,
    seed: int = 0,
    base_label: str = "baseline",
    new_label: str = "run",
) -> Comparison:
    """Compare run ``new`` against ``base``; raise :class:`NotComparable` for different environments
    (unless ``allow_cross_env``)."""
    if threshold < 0:
        raise ValueError("the threshold must not be negative")
    base_env, new_env = base["environment"], new["environment"]
    same_env = environments_match(base, new)
    if not same_env and not allow_cross_env:
        raise NotComparable(
            "the environments differ, so their timings are not comparable:\n"
            f"  {base_label}: {base_env['key']} ({base_env['kind']})\n"
            f"  {new_label}: {new_env['key']} ({new_env['kind']})\n"
            "Compare against the baseline of the same environment, or pass --allow-cross-env "
            "for an informational comparison that never gates."
        )
    emulated = "emulated" in (base_env["kind"], new_env["kind"])
    base_cases = {c["id"]: c for c in base["cases"]}
    new_cases = {c["id"]: c for c in new["cases"]}
    within = max(stats.environment_noise(base["cases"]), stats.environment_noise(new["cases"]))
    controls = [
        stats.median(nc["samples_ns"]) / stats.median(base_cases[cid]["samples_ns"])
        for cid, nc in new_cases.items()
        if nc["impl"] == CONTROL_IMPL and cid in base_cases
    ]
    drift = stats.control_drift(controls)
    noise = max(within, drift)
    limit = max(threshold, NOISE_FACTOR * noise)
    result = Comparison(
        base_key=base_env["key"],
        new_key=new_env["key"],
        base_kind=base_env["kind"],
        new_kind=new_env["kind"],
        threshold=threshold,
        noise=noise,
        noise_within=within,
        drift=drift,
        limit=limit,
        alpha=alpha,
        informational=not same_env,
        gating=same_env and not emulated,
        base_label=base_label,
        new_label=new_label,
    )
    if not same_env:
        result.notes.append(
            "INFORMATIONAL: the environments differ; this comparison never gates (exit code is "
            "never 1 or 3)."
        )
    if emulated:
        result.notes.append(
            "An emulated run is involved: its timings prove nothing about speed, so this "
            "comparison never gates (exit code is never 1 or 3)."
        )
    if result.too_noisy_overall:
        result.notes.append(
            f"The environment's own noise ({noise:.1%}) exceeds {MAX_NOISE:.0%}: "
            "too noisy to judge."
        )
    result.only_in_base = [cid for cid in base_cases if cid not in new_cases]
    result.only_in_new = [cid for cid in new_cases if cid not in base_cases]
    for cid, nc in new_cases.items():
        bc = base_cases.get(cid)
        if bc is None:
            continue
        result.cases.append(
            judge(
                bc,
                nc,
                limit=limit,
                threshold=threshold,
                alpha=alpha,
                resamples=resamples,
                seed=seed,
            )
        )
    if not result.cases:
        result.notes.append("No case id is common to both runs: nothing to compare.")
    return result


def judge(
    base_case: Mapping[str, Any],
    new_case: Mapping[str, Any],
    *,
    limit: float,
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = DEFAULT_ALPHA,
    resamples: int = 2000,
    seed: int = 0,
) -> CaseVerdict:
    b, n = base_case["samples_ns"], new_case["samples_ns"]
    ratio, lo, hi = stats.bootstrap_ratio_ci(b, n, resamples=resamples, seed=seed)
    _, p_slower = stats.mann_whitney_u(n, b, alternative="greater")
    _, p_faster = stats.mann_whitney_u(n, b, alternative="less")
    if p_slower < alpha and ratio > 1.0 + limit:
        verdict = "slower"
    elif p_faster < alpha and ratio < 1.0 / (1.0 + limit):
        verdict = "faster"
    elif (hi > 1.0 + limit and lo < 1.0) or (p_slower < alpha and ratio > 1.0 + threshold):
        verdict = "too-noisy"
    else:
        verdict = "same"
    return CaseVerdict(
        id=new_case["id"],
        group=new_case["group"],
        impl=new_case["impl"],
        base_median_ns=stats.median(b),
        new_median_ns=stats.median(n),
        ratio=ratio,
        ci_low=lo,
        ci_high=hi,
        p_slower=p_slower,
        p_faster=p_faster,
        verdict=verdict,
    )


def split_ab(
    doc: Mapping[str, Any], a_impl: str, b_impl: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split one interleaved run into an A document and a B document whose cases share ids.

    Cases of implementation ``a_impl`` (resp. ``b_impl``) are kept, with ``impl`` renamed to
    ``A/B`` and ids ``<group>/A/B`` so that the two match for :func:`compare`.
    """
    label = "A/B"

    def pick(impl: str) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in doc.items() if k != "cases"}
        out["cases"] = []
        for case in doc["cases"]:
            if case["impl"] == impl:
                c = copy.deepcopy(case)
                c["measured_impl"] = impl
                c["impl"] = label
                c["id"] = f"{case['group']}/{label}"
                out["cases"].append(c)
        return out

    a, b = pick(a_impl), pick(b_impl)
    if not a["cases"] or not b["cases"]:
        missing = a_impl if not a["cases"] else b_impl
        raise NotComparable(f"the run has no case of implementation {missing!r}")
    return a, b
