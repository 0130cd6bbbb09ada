"""`worldloom backup DIR` and `worldloom restore DIR`: the database and its image blobs, copied safely.

backup: SQLite's online backup API copies a consistent snapshot of the database while the bot
keeps writing (WAL readers never block writers), then the blobs are copied. Blobs are written
before any row names them and never change or go away, so every blob the snapshot names is on
disk before the copying starts: DIR/worldloom.db and DIR/blobs/ always belong together.

restore: refuses (DatabaseInUse) while a running worldloom holds the database. Every process that
opens the app holds a shared lock on `<database>.lock` (flock; the OS drops it when the process
dies, even on SIGKILL); restore takes it exclusively, so neither can start while the other runs.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; restore then trusts the operator
    fcntl = None  # type: ignore[assignment]

DB_NAME = "worldloom.db"
BLOBS = "blobs"


class DatabaseInUse(Exception):
    """A running worldloom holds the database (or a restore is writing it)."""


class BadBackup(Exception):
    """The folder holds no usable backup."""


@dataclass(frozen=True)
class Copied:
    database: Path
    integrity: str  # what PRAGMA integrity_check said about the copy
    blobs: int  # blob files copied this time (the ones already there are kept)
    blobs_total: int


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


@contextmanager
def _locked(db: Path, exclusive: bool) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(db), "a+b") as f:
        try:
            fcntl.flock(f.fileno(), (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(
                f"a running worldloom holds {db}: stop it first (its lock is {lock_path(db)})" if exclusive
                else f"{db} is being restored: start worldloom again when `worldloom restore` has finished") from None
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def holding(db: str | os.PathLike[str]) -> AbstractContextManager[None]:
    """Held by every running worldloom on its database (shared: several may run)."""
    return _locked(Path(db), exclusive=False)


def _integrity(conn: sqlite3.Connection) -> str:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows)


def _copy_db(source: Path, target: Path) -> str:
    """The online backup of `source` into `target`; returns the copy's integrity_check."""
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)  # all pages in one step: one read transaction, one consistent snapshot
        result = _integrity(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
    return result


def _copy_blobs(source: Path, target: Path) -> tuple[int, int]:
    """Blob files missing (or of another size) under `target`; returns (copied, total)."""
    copied = total = 0
    if not source.is_dir():
        return 0, 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.suffix == ".tmp":
            continue
        total += 1
        dest = target / path.relative_to(source)
        if dest.is_file() and dest.stat().st_size == path.stat().st_size:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".tmp")
        shutil.copyfile(path, partial)
        os.replace(partial, dest)
        copied += 1
    return copied, total


def backup(db: str | os.PathLike[str], folder: str | os.PathLike[str]) -> Copied:
    """Copies the database (consistently, while the bot runs) and its blobs into `folder`. Blocking."""
    source, out = Path(db), Path(folder)
    if not source.is_file():
        raise BadBackup(f"there is no database at {source}")
    out.mkdir(parents=True, exist_ok=True)
    partial = out / (DB_NAME + ".partial")
    partial.unlink(missing_ok=True)
    integrity = _copy_db(source, partial)
    if integrity != "ok":
        raise BadBackup(f"the copy of {source} failed its integrity check: {integrity}")
    os.replace(partial, out / DB_NAME)
    copied, total = _copy_blobs(source.parent / BLOBS, out / BLOBS)
    return Copied(out / DB_NAME, integrity, copied, total)


def restore(folder: str | os.PathLike[str], db: str | os.PathLike[str]) -> Copied:
    """Puts a backup folder back as the database `db` and its blobs. Blocking. Raises DatabaseInUse
    while a worldloom runs on `db`, BadBackup when the folder holds no sound backup."""
    source, target = Path(folder), Path(db)
    saved = source / DB_NAME
    if not saved.is_file():
        raise BadBackup(f"{source} holds no {DB_NAME}: is it a folder made by `worldloom backup`?")
    try:
        with closing(sqlite3.connect(f"file:{saved}?mode=ro", uri=True)) as check:
            integrity = _integrity(check)
    except sqlite3.DatabaseError as e:
        raise BadBackup(f"{saved} is not a readable database: {e}") from None
    if integrity != "ok":
        raise BadBackup(f"{saved} failed its integrity check: {integrity}")
    with _locked(target, exclusive=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(saved)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
            integrity = _integrity(dst)
        copied, total = _copy_blobs(source / BLOBS, target.parent / BLOBS)
    return Copied(target, integrity, copied, total)
