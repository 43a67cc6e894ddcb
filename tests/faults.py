"""Faults injected into real code paths: a storage volume that fills up part way
through a write, and the errors a busy or broken database driver raises."""

from __future__ import annotations

import errno
import sqlite3

from django.core.files.storage import FileSystemStorage
from django.db import OperationalError


class FullDisk:
    """From now on every storage write writes its first chunk, then fails as a
    full volume does (ENOSPC), through Django's own file-system storage code."""

    def __init__(self, monkeypatch):
        real = FileSystemStorage._save
        self.calls = 0

        def save(storage, name, content):
            self.calls += 1
            chunks = content.chunks

            def failing_chunks(chunk_size=None):
                yield next(iter(chunks()))
                raise OSError(errno.ENOSPC, "No space left on device")

            content.chunks = failing_chunks
            return real(storage, name, content)

        monkeypatch.setattr(FileSystemStorage, "_save", save)


def sqlite_error(message: str) -> OperationalError:
    """What Django raises for an SQLite driver error with `message` (wrapped, with
    the driver's exception as its cause)."""
    try:
        try:
            raise sqlite3.OperationalError(message)
        except sqlite3.OperationalError as driver:
            raise OperationalError(message) from driver
    except OperationalError as exc:
        return exc
