"""The working tree as a deterministic source archive for the SSH runner.

The archive holds what ``git`` knows (tracked files, including uncommitted edits, and untracked
files that are not ignored), so a run measures exactly the code in the checkout without needing the
network for build dependencies (``python -m build --sdist`` would).  Members are sorted, owned by
0:0, with a fixed mtime and normalised modes, and gzip carries no timestamp: the same tree gives
the same bytes, and its SHA-256 names the build on the remote, so an unchanged tree is not rebuilt
there.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

FIXED_MTIME = 315619200  # 1980-01-02: the earliest time zip-based wheels can represent
ARCHIVE_PREFIX = "fastarm-src"
SKIP_DIRS = {
    ".git",
    ".nox",
    ".venv",
    "venv",
    "build",
    "dist",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".cache",
    "benchmarks/results",
}
SKIP_SUFFIXES = (".pyc", ".pyo", ".so", ".o", ".pyd", ".dylib")


class SourceError(Exception):
    """The source tree cannot be found or packaged."""


@dataclass(frozen=True)
class SourceArchive:
    path: Path
    sha256: str
    files: int
    git_commit: Optional[str]
    git_dirty: Optional[bool]

    @property
    def source_id(self) -> str:
        return self.sha256[:16]


def _is_fastarm_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        return False
    text = pyproject.read_text(encoding="utf-8", errors="replace")
    return 'name = "fastarm"' in text and (path / "src" / "fastarm").is_dir()


def find_source_root(start: Optional[Path] = None) -> Path:
    """The fastarm checkout containing ``start`` (default: the working directory, then the checkout
    the imported package lives in)."""
    candidates = [Path(start or os.getcwd()).resolve()]
    candidates.append(Path(__file__).resolve().parents[4])  # src/fastarm/bench/runners/<this>
    for candidate in candidates:
        for path in (candidate, *candidate.parents):
            if _is_fastarm_root(path):
                return path
    raise SourceError(
        f"no fastarm source checkout found from {candidates[0]} (a directory with pyproject.toml "
        "naming fastarm and src/fastarm/); run from the checkout or pass --source DIR"
    )


def _git(root: Path, *args: str) -> Optional[str]:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


def _skipped(rel: str) -> bool:
    parts = rel.split("/")
    if any(part in SKIP_DIRS for part in parts[:-1]) or rel.endswith(SKIP_SUFFIXES):
        return True
    return any(rel.startswith(d + "/") for d in SKIP_DIRS if "/" in d)


def list_files(root: Path) -> list[str]:
    """Relative POSIX paths to archive: git's view of the tree in a repository, else a walk."""
    listing = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listing is not None:
        names = [n for n in listing.split("\0") if n]
    else:
        names = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
            rel_dir = Path(dirpath).relative_to(root)
            names.extend((rel_dir / f).as_posix() for f in filenames)
    # Deleted-but-tracked files are absent from the tree; symlinks and specials are not packaged.
    return sorted(
        n
        for n in set(names)
        if not _skipped(n) and (root / n).is_file() and not (root / n).is_symlink()
    )


def build_archive(root: Path, dest_dir: Path) -> SourceArchive:
    """Write ``fastarm-src-<sha16>.tar.gz`` into ``dest_dir`` and describe it."""
    files = list_files(root)
    if not any(f == "pyproject.toml" for f in files):
        raise SourceError(f"{root} has no pyproject.toml to package")
    raw = io.BytesIO()
    gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
    with gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in files:
            path = root / rel
            info = tarfile.TarInfo(rel)
            data = path.read_bytes()
            info.size = len(data)
            info.mtime = FIXED_MTIME
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    payload = raw.getvalue()
    digest = hashlib.sha256(payload).hexdigest()
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / f"{ARCHIVE_PREFIX}-{digest[:16]}.tar.gz"
    tmp = path.with_suffix(".part")
    tmp.write_bytes(payload)
    os.replace(tmp, path)
    commit = _git(root, "rev-parse", "HEAD")
    status = _git(root, "status", "--porcelain")  # untracked files are packaged: they count
    return SourceArchive(
        path=path,
        sha256=digest,
        files=len(files),
        git_commit=commit.strip() if commit else None,
        git_dirty=bool(status.strip()) if status is not None else None,
    )


def project_hash(root: Path) -> str:
    """Short stable id of a checkout (host name + absolute path): names the remote cache directory,
    so two checkouts never share (and fight over) one remote venv."""
    ident = f"{os.uname().nodename}:{root.resolve()}"
    return hashlib.sha256(ident.encode()).hexdigest()[:12]


def bench_requirements(root: Path) -> list[str]:
    """The ``bench`` extra's requirements from the checkout's pyproject.toml ([] if unreadable)."""
    try:
        import tomllib as toml  # Python >= 3.11
    except ModuleNotFoundError:  # pragma: no cover - Python 3.9 / 3.10
        try:
            import tomli as toml  # type: ignore[no-redef]
        except ModuleNotFoundError:
            return []
    try:
        data = toml.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    extras = data.get("project", {}).get("optional-dependencies", {})
    return [str(req) for req in extras.get("bench", [])]
