"""Files and folders the package writes: one atomic write, one commit label, one lock, one
content digest, and folder names that cannot leave their root.

Every result file is written whole or not at all (`write_atomic`); a folder that a long run
writes into is held by one run at a time (`FolderLock`); a name taken from a user's file
becomes a folder name only through `safe_slug`, and `child_folder` refuses anything that
would land outside the chosen root. Digests hash file contents under relative names, so a
byte-identical checkout at another path, or on another machine, gives the same digest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import re
import socket
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_SLUG = 60  # characters of a folder name made from a user's text


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write `data` to a uniquely named hidden file beside `path`, flush it to disk, and
    rename it into place: a reader (or a run after `kill -9` or a power cut) sees the old
    file or the new one, never a part. The new file is readable by everyone (0644)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)  # the rename itself survives a crash


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def cannot_write_in(folder: Path) -> str:
    """'' if a file can be created in `folder` (tried: a hidden file made and removed at
    once, since permissions alone do not tell about /proc, a read-only mount or a full
    quota), else why not, in the system's words."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".simlib-probe-", dir=folder)
    except OSError as error:
        return f"files cannot be created in {folder} ({error.strerror or error})"
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return ""


def nearest_existing(path: Path) -> Path:
    """`path` itself if it exists, else its nearest ancestor that does."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def git_commit(root: Path = PROJECT_ROOT) -> str:
    """The checked-out commit (12 hex digits), with `-dirty` if a tracked file differs from
    it, or 'unknown' outside a git checkout (a copied or installed package)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def digest_files(files: Iterable[Path], root: Path, extra: Any = None) -> str:
    """A hash of the files' contents under their names relative to `root` (never the
    absolute path), and of `extra` (anything JSON can write)."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        name = path.relative_to(root).as_posix().encode()
        content = path.read_bytes()
        digest.update(len(name).to_bytes(8, "big") + name)
        digest.update(len(content).to_bytes(8, "big") + content)
    if extra is not None:
        digest.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


# --- folder names from a user's text ----------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_slug(text: str) -> str:
    """A folder name made from `text`: letters, digits, `-`, `_` and `.` only, no leading dot
    or dash, at most MAX_SLUG characters. A name that had to change gets a short hash of the
    original, so two names never share a folder ('a b' and 'a-b' differ)."""
    slug = _UNSAFE.sub("-", str(text)).strip("-.")[:MAX_SLUG].strip("-.")
    if slug == text:
        return slug
    tag = hashlib.sha256(str(text).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug}-{tag}" if slug else f"x-{tag}"


def child_folder(root: str | Path, name: str) -> Path:
    """root/<safe_slug(name)>, checked to lie inside `root` once links are resolved."""
    root = Path(root)
    folder = root / safe_slug(name)
    if not folder.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"{folder} resolves outside {root}")  # a link planted in root
    return folder


# --- one run at a time per folder --------------------------------------------------------------


class FolderBusy(Exception):
    """Another live run holds the folder; `holder` says who (host, pid, start time)."""

    def __init__(self, folder: Path, holder: dict[str, Any]):
        self.folder, self.holder = folder, holder
        super().__init__(f"{folder} is in use by {describe_holder(holder)}")


def describe_holder(holder: dict[str, Any]) -> str:
    if not holder:
        return "another run (which has not yet written who it is)"
    return (
        f"{holder.get('command', 'a run')} on host {holder.get('host', '?')}, "
        f"pid {holder.get('pid', '?')}, started {holder.get('started', '?')}"
    )


class FolderLock:
    """An advisory lock on a folder, held from `acquire()` to `release()` (or the process's
    end: the kernel drops it when the process dies, so a killed run never blocks the next).

    The lock file `<folder>/.lock` records the holder (host, pid, start time, command) so a
    refused run can say who has the folder; a holder record found when the lock is free was
    left by a run that died, and `stale` then describes it. The file is emptied, never
    deleted, on release: deleting it would let two runs lock two different files.
    `fcntl.flock` also locks across machines on NFS v4 and most cluster file systems.
    """

    NAME = ".lock"

    def __init__(self, folder: str | Path, command: str = "simlib"):
        self.folder = Path(folder)
        self.path = self.folder / self.NAME
        self.command = command
        self.stale: dict[str, Any] | None = None
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise FolderBusy(self.folder, self._read_holder()) from None
            raise
        self._fd = fd
        self.stale = self._read_holder() or None
        holder = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "command": self.command,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        os.fsync(fd)
        return self

    def _read_holder(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
            holder = json.loads(text) if text else {}
        except (OSError, ValueError):
            return {"command": "a run whose lock record cannot be read"}
        return holder if isinstance(holder, dict) else {}

    def release(self) -> None:
        import fcntl

        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()
