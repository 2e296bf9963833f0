"""What is measured: benchmark cases (op, dtype, n) x implementations.

A *group* is one (op, dtype, n) with one set of deterministic (seeded) inputs; every implementation
in the group runs on the very same arrays, so their times are comparable side by side.  A *case* is
one implementation in a group; its id is ``op/dtype/n/impl`` (e.g. ``dot/float32/1536/fastarm``).

Implementations:

``numpy``
    The expression a user would write with NumPy alone (see :data:`NUMPY_EXPRESSIONS`).
``simsimd``
    SimSIMD's function of the same name, when the package is importable and supports the dtype.
``fastarm``
    fastarm with its default (best usable) backend.
``fastarm[<backend>]``
    fastarm with one backend forced through ``fastarm.use_backend`` (on request: ``--backends``).

fastarm is imported lazily: when its extension is missing, fastarm cases are omitted and a note says
why; the NumPy (and SimSIMD) cases still run.

Selection (``-k EXPR``) works on case ids, like pytest's ``-k``: words are case-insensitive
substrings of the id, combined with ``and``, ``or``, ``not`` and parentheses, e.g.
``-k "cosine and not float16"``.  A comma-separated list of globs is also accepted, e.g.
``-k "dot/*/1536/*,cosine/int8/*"``: a case is selected when any glob matches its whole id.
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

OPS = ("dot", "sqeuclidean", "cosine", "cdist", "minmax", "mean_var")
VECTOR_DTYPES = ("float64", "float32", "float16", "int8", "uint8")
PROFILES = ("quick", "full")

#: The NumPy expression each op is measured against (what a user without fastarm would write).
#: Integer inputs are widened first, because NumPy's int8/uint8 arithmetic wraps around.
NUMPY_EXPRESSIONS = {
    "dot": "np.dot(a, b)  (int8/uint8: np.dot(a.astype(np.int64), b.astype(np.int64)))",
    "sqeuclidean": "d = a - b; np.dot(d, d)  (int8/uint8: widened to int64 first)",
    "cosine": "1 - np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))  (ints: as float64)",
    "cdist": "((XA[:, None, :] - XB[None, :, :]) ** 2).sum(axis=-1)  (sqeuclidean metric)",
    "minmax": "(a.min(), a.max())",
    "mean_var": "(a.mean(), a.var())",
}

#: Rows of XA and XB for the cdist cases (n is the dimension of each row).
CDIST_ROWS = 32


@dataclass(frozen=True)
class Group:
    """One (op, dtype, n): the unit whose implementations are measured interleaved."""

    op: str
    dtype: str
    n: int

    @property
    def id(self) -> str:
        return f"{self.op}/{self.dtype}/{self.n}"


@dataclass(frozen=True)
class Case:
    group: Group
    impl: str

    @property
    def id(self) -> str:
        return f"{self.group.id}/{self.impl}"


@dataclass
class Plan:
    """The selected cases, grouped, plus notes on what was left out and why."""

    groups: list[tuple[Group, list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def cases(self) -> list[Case]:
        return [Case(g, impl) for g, impls in self.groups for impl in impls]


# ---------------------------------------------------------------------------------------------
# Profiles


def profile_groups(profile: str) -> list[Group]:
    """The (op, dtype, n) groups of a profile."""
    if profile == "quick":
        sizes = (1536, 1_000_000)
        vec = [
            Group(op, dt, n)
            for op in ("dot", "sqeuclidean", "cosine")
            for dt in ("float32", "float16", "int8")
            for n in sizes
        ]
        vec += [Group(op, "float64", 1536) for op in ("dot", "sqeuclidean", "cosine")]
        vec += [Group(op, "uint8", 1536) for op in ("dot", "sqeuclidean", "cosine")]
        other = [
            Group("cdist", "float32", 128),
            Group("minmax", "float32", 1_000_000),
            Group("mean_var", "float32", 1_000_000),
        ]
        return vec + other
    if profile == "full":
        full_sizes = (128, 1536, 65_536, 1_000_000)
        vec = [
            Group(op, dt, n)
            for op in ("dot", "sqeuclidean", "cosine")
            for dt in VECTOR_DTYPES
            for n in full_sizes
        ]
        cd = [
            Group("cdist", dt, d)
            for dt in ("float64", "float32", "float16", "int8")
            for d in (128, 1536)
        ]
        mm = [
            Group("minmax", dt, n)
            for dt in ("float64", "float32", "int8", "uint8")
            for n in (1536, 1_000_000)
        ]
        mv = [Group("mean_var", dt, n) for dt in ("float64", "float32") for n in (1536, 1_000_000)]
        return vec + cd + mm + mv
    raise ValueError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")


# ---------------------------------------------------------------------------------------------
# -k selection

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


class SelectionError(ValueError):
    """A -k expression that cannot be parsed."""


def compile_selection(expr: str | None) -> Callable[[str], bool]:
    """Turn a ``-k`` expression into a predicate over case ids (see the module docstring)."""
    if expr is None or not expr.strip():
        return lambda _id: True
    text = expr.strip()
    words = {w.lower() for w in re.findall(r"[^\s()]+", text)}
    if "," in text or (any(ch in text for ch in "*?[") and not words & {"and", "or", "not"}):
        globs = [g.strip() for g in text.split(",") if g.strip()]
        return lambda cid: any(fnmatch.fnmatchcase(cid.lower(), g.lower()) for g in globs)
    tokens = _TOKEN.findall(text)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        return tok

    def parse_or() -> Callable[[str], bool]:
        left = parse_and()
        while (peek() or "").lower() == "or":
            take()
            right = parse_and()
            left = (lambda a, b: lambda s: a(s) or b(s))(left, right)
        return left

    def parse_and() -> Callable[[str], bool]:
        left = parse_not()
        while (peek() or "").lower() == "and":
            take()
            right = parse_not()
            left = (lambda a, b: lambda s: a(s) and b(s))(left, right)
        return left

    def parse_not() -> Callable[[str], bool]:
        if (peek() or "").lower() == "not":
            take()
            inner = parse_not()
            return lambda s: not inner(s)
        return parse_atom()

    def parse_atom() -> Callable[[str], bool]:
        tok = peek()
        if tok is None:
            raise SelectionError(f"-k {expr!r}: expression ends too early")
        if tok == "(":
            take()
            inner = parse_or()
            if peek() != ")":
                raise SelectionError(f"-k {expr!r}: missing ')'")
            take()
            return inner
        if tok == ")" or tok.lower() in ("and", "or"):
            raise SelectionError(f"-k {expr!r}: unexpected {tok!r}")
        word = take().lower()
        if any(ch in word for ch in "*?["):
            return lambda s: fnmatch.fnmatchcase(s.lower(), f"*{word}*")
        return lambda s: word in s.lower()

    predicate = parse_or()
    if pos != len(tokens):
        raise SelectionError(f"-k {expr!r}: unexpected {tokens[pos]!r}")
    return predicate


# ---------------------------------------------------------------------------------------------
# Implementations


def load_fastarm() -> tuple[Any | None, str | None]:
    """Import fastarm's kernels, or return (None, why) when they are not available."""
    try:
        import fastarm
    except ImportError as exc:  # pragma: no cover - depends on the installation
        return None, f"fastarm is not importable ({exc}); fastarm cases omitted"
    missing = [name for name in (*OPS, "simd_info", "use_backend") if not hasattr(fastarm, name)]
    if missing:
        return None, (
            f"fastarm's extension is not built (missing {', '.join(missing)}); "
            "fastarm cases omitted"
        )
    return fastarm, None


def load_simsimd() -> tuple[Any | None, str | None]:
    try:
        import simsimd
    except ImportError:
        return None, "simsimd is not installed; simsimd cases omitted (pip install simsimd)"
    return simsimd, None


def resolve_backends(request: Sequence[str] | str | None, fastarm: Any | None) -> list[str]:
    """Backends to force, from ``--backends`` (``all``, or a comma-separated list)."""
    if request is None:
        return []
    names = [request] if isinstance(request, str) else list(request)
    flat = [part.strip() for item in names for part in item.split(",") if part.strip()]
    if not flat or fastarm is None:
        return []
    info = fastarm.simd_info()
    usable = list(info.get("usable", []))
    if flat == ["all"]:
        return usable
    unknown = [b for b in flat if b not in usable]
    if unknown:
        raise ValueError(
            f"backend(s) {', '.join(unknown)} not usable here; usable: {', '.join(usable)}"
        )
    return flat


def make_inputs(group: Group, seed: int = 0) -> tuple[Any, ...]:
    """Deterministic inputs for a group (the same seed gives the same arrays everywhere)."""
    import numpy as np

    rng = np.random.default_rng([seed, abs(hash_str(group.id))])
    dt = np.dtype(group.dtype)

    def vec(shape: tuple[int, ...]) -> Any:
        if dt.kind == "f":
            return rng.standard_normal(shape).astype(dt)
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dt)

    if group.op in ("dot", "sqeuclidean", "cosine"):
        return vec((group.n,)), vec((group.n,))
    if group.op == "cdist":
        return vec((CDIST_ROWS, group.n)), vec((CDIST_ROWS, group.n))
    return (vec((group.n,)),)


def hash_str(text: str) -> int:
    """A stable (not per-process randomized) hash for seeding."""
    h = 2166136261
    for byte in text.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def numpy_impl(group: Group, args: tuple[Any, ...]) -> Callable[[], Any]:
    import numpy as np

    integer = np.dtype(group.dtype).kind in "iu"
    op = group.op
    if op in ("dot", "sqeuclidean", "cosine"):
        a, b = args
        if op == "dot":
            if integer:
                return lambda: np.dot(a.astype(np.int64), b.astype(np.int64))
            return lambda: np.dot(a, b)
        if op == "sqeuclidean":
            if integer:

                def sq_int() -> Any:
                    d = a.astype(np.int64) - b.astype(np.int64)
                    return np.dot(d, d)

                return sq_int

            def sq() -> Any:
                d = a - b
                return np.dot(d, d)

            return sq
        if integer:

            def cos_int() -> Any:
                x = a.astype(np.float64)
                y = b.astype(np.float64)
                return 1 - np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y))

            return cos_int
        return lambda: 1 - np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    if op == "cdist":
        xa, xb = args
        if integer:
            xa, xb = xa.astype(np.int64), xb.astype(np.int64)
        return lambda: ((xa[:, None, :] - xb[None, :, :]) ** 2).sum(axis=-1)
    (a,) = args
    if op == "minmax":
        return lambda: (a.min(), a.max())
    if op == "mean_var":
        return lambda: (a.mean(), a.var())
    raise ValueError(f"unknown op {op!r}")


def simsimd_impl(simsimd: Any, group: Group, args: tuple[Any, ...]) -> Callable[[], Any] | None:
    """SimSIMD's function for the group, or None when it has none (or rejects the dtype)."""
    op = group.op
    if op in ("dot", "sqeuclidean", "cosine"):
        fn = getattr(simsimd, op, None)
        if fn is None:
            return None
        a, b = args
        call: Callable[[], Any] = lambda: fn(a, b)  # noqa: E731
    elif op == "cdist":
        xa, xb = args
        call = lambda: simsimd.cdist(xa, xb, metric="sqeuclidean")  # noqa: E731
    else:
        return None
    try:
        call()
    except Exception:  # SimSIMD rejects some dtypes with various exception types
        return None
    return call


def fastarm_impl(fastarm: Any, group: Group, args: tuple[Any, ...]) -> Callable[[], Any] | None:
    fn = getattr(fastarm, group.op)
    if group.op == "cdist":
        xa, xb = args
        call: Callable[[], Any] = lambda: fn(xa, xb, "sqeuclidean")  # noqa: E731
    elif len(args) == 2:
        a, b = args
        call = lambda: fn(a, b)  # noqa: E731
    else:
        (a,) = args
        call = lambda: fn(a)  # noqa: E731
    try:
        call()
    except (TypeError, ValueError):  # the op does not support this dtype
        return None
    return call


@contextlib.contextmanager
def forced_backend(fastarm: Any, backend: str | None) -> Iterator[None]:
    """Run the body with ``backend`` forced (None: leave the default alone)."""
    if backend is None or fastarm is None:
        yield
        return
    previous = fastarm.simd_info().get("active")
    fastarm.use_backend(backend)
    try:
        yield
    finally:
        if previous:
            fastarm.use_backend(previous)


def impl_backend(impl: str) -> str | None:
    """``fastarm[avx2]`` -> ``avx2``; anything else -> None."""
    if impl.startswith("fastarm[") and impl.endswith("]"):
        return impl[len("fastarm[") : -1]
    return None


# ---------------------------------------------------------------------------------------------
# Planning


def plan(
    profile: str = "quick",
    select: str | None = None,
    backends: Sequence[str] | str | None = None,
    *,
    include_simsimd: bool = True,
    include_fastarm: bool = True,
) -> Plan:
    """Decide which cases to run (without allocating inputs)."""
    predicate = compile_selection(select)
    result = Plan()
    fastarm, why = load_fastarm() if include_fastarm else (None, None)
    if why:
        result.notes.append(why)
    simsimd, why_s = load_simsimd() if include_simsimd else (None, None)
    if why_s:
        result.notes.append(why_s)
    forced = resolve_backends(backends, fastarm)
    for group in profile_groups(profile):
        impls = ["numpy"]
        if simsimd is not None and group.op in ("dot", "sqeuclidean", "cosine", "cdist"):
            impls.append("simsimd")
        if fastarm is not None:
            impls.append("fastarm")
            impls.extend(f"fastarm[{b}]" for b in forced)
        chosen = [impl for impl in impls if predicate(f"{group.id}/{impl}")]
        if chosen:
            result.groups.append((group, chosen))
    return result


def build_callables(
    group: Group, impls: Sequence[str], seed: int = 0
) -> tuple[dict[str, Callable[[], Any]], list[str]]:
    """The zero-argument callables of a group's implementations, plus notes on omitted ones.

    A ``fastarm[<backend>]`` callable forces its backend around every call batch via the
    ``backend_of`` attribute the timing loop honours (see :func:`impl_backend`).
    """
    args = make_inputs(group, seed)
    calls: dict[str, Callable[[], Any]] = {}
    notes: list[str] = []
    fastarm, _ = load_fastarm() if any(i.startswith("fastarm") for i in impls) else (None, None)
    simsimd, _ = load_simsimd() if "simsimd" in impls else (None, None)
    for impl in impls:
        fn: Callable[[], Any] | None
        if impl == "numpy":
            fn = numpy_impl(group, args)
        elif impl == "simsimd":
            fn = simsimd_impl(simsimd, group, args) if simsimd is not None else None
        elif impl.startswith("fastarm") and fastarm is not None:
            with forced_backend(fastarm, impl_backend(impl)):
                fn = fastarm_impl(fastarm, group, args)
        else:
            fn = None
        if fn is None:
            notes.append(f"{group.id}/{impl}: not supported, omitted")
        else:
            calls[impl] = fn
    return calls, notes
