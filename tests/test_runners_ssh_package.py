"""The SSH runner's source archive: what git knows, byte-for-byte reproducible."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

import sshd
from conftest import require
from fastarm.bench.runners import _ssh_package as package

REPO = Path(__file__).resolve().parents[1]


def _git_repo(root: Path) -> Path:
    require("git", shutil.which("git") is not None, "the archive is built from what git tracks")
    sshd.tiny_extension_tree(root)
    (root / ".gitignore").write_text("ignored.txt\n")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    return root


def test_archive_holds_what_git_knows_and_is_deterministic(tmp_path: Path) -> None:
    root = _git_repo(tmp_path / "repo")
    clean = package.build_archive(root, tmp_path / "clean")
    assert clean.git_dirty is False
    (root / "setup.py").write_text((root / "setup.py").read_text() + "# edited\n")
    (root / "untracked.py").write_text("x = 1\n")
    (root / "ignored.txt").write_text("secret\n")
    (root / "src" / "fastarm" / "_probe.cpython-311-x86_64-linux-gnu.so").write_bytes(b"ELF")
    first = package.build_archive(root, tmp_path / "a")
    second = package.build_archive(root, tmp_path / "b")
    assert first.sha256 == second.sha256  # same tree, same bytes
    assert first.path.name == f"fastarm-src-{first.source_id}.tar.gz"
    assert first.git_dirty is True and first.git_commit and len(first.git_commit) == 40
    with tarfile.open(first.path) as tar:
        members = {m.name: m for m in tar.getmembers()}
        edited = tar.extractfile("setup.py").read().decode()  # type: ignore[union-attr]
    assert "untracked.py" in members and "ignored.txt" not in members
    assert not any(name.endswith(".so") for name in members)
    assert edited.endswith("# edited\n")  # the working tree, not the last commit
    assert {(m.uid, m.gid, m.mtime) for m in members.values()} == {(0, 0, package.FIXED_MTIME)}
    (root / "untracked.py").write_text("x = 2\n")
    assert package.build_archive(root, tmp_path / "c").sha256 != first.sha256


def test_archive_of_a_tree_without_git(tmp_path: Path) -> None:
    root = sshd.tiny_extension_tree(tmp_path / "plain")
    (root / "build").mkdir()
    (root / "build" / "junk.o").write_bytes(b"x")
    archive = package.build_archive(root, tmp_path / "out")
    with tarfile.open(archive.path) as tar:
        names = set(tar.getnames())
    assert "pyproject.toml" in names and "src/fastarm/_probe.c" in names
    assert not any(name.startswith("build/") for name in names)
    assert archive.git_commit is None and archive.git_dirty is None


def test_source_root_is_found_from_a_subdirectory_or_refused(tmp_path: Path) -> None:
    assert package.find_source_root(REPO / "tests") == REPO
    other = tmp_path / "elsewhere"
    other.mkdir()
    with pytest.raises(package.SourceError, match="--source"):
        package.find_source_root(other)


def test_project_hash_names_one_checkout(tmp_path: Path) -> None:
    a = package.project_hash(REPO)
    assert a == package.project_hash(REPO) and len(a) == 12
    assert package.project_hash(tmp_path) != a


def test_bench_requirements_come_from_pyproject(tmp_path: Path) -> None:
    reqs = package.bench_requirements(REPO)
    assert any(r.startswith("numpy") for r in reqs)
    (tmp_path / "pyproject.toml").write_text("not toml [")
    assert package.bench_requirements(tmp_path) == []


def test_a_tree_without_pyproject_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("")
    with pytest.raises(package.SourceError, match="pyproject"):
        package.build_archive(tmp_path, tmp_path / "out")
