"""Filesystem layout of embedded services under the data dir."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# sockaddr_un.sun_path is 108 bytes on Linux; keep headroom for the file name.
_MAX_SOCKET_DIR = 80


def socket_dir(data_dir: Path) -> Path:
    """A short directory for unix sockets: ``<data>/run`` or a stable /tmp fallback."""
    preferred = data_dir / "run"
    if len(str(preferred)) <= _MAX_SOCKET_DIR:
        path = preferred
    else:
        digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"agentry-{digest}"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def start_lock(data_dir: Path) -> Iterator[None]:
    """Serialise starting/stopping embedded services between processes sharing a data dir."""
    fd = os.open(data_dir / ".embedded.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
