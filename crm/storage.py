"""File storage shared by every app: uploads that never leave a partial file,
and deletions that wait for the commit."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable

from django.core.files.storage import FileSystemStorage, default_storage
from django.db import router, transaction
from django.db.models import FileField, Model
from django.db.models.deletion import Collector

logger = logging.getLogger(__name__)


class FileStorageError(Exception):
    """A file could not be written to storage (disk full, no permission, storage
    down); the message says so for the user. Nothing is left behind."""

    message = (
        "The file could not be stored: the server's file storage is full or unavailable. "
        "Try again later."
    )

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.message
        super().__init__(self.message)


class MediaStorage(FileSystemStorage):
    """Django's file-system storage, except that a write that fails part way (a
    full disk, a lost volume) removes what it wrote instead of leaving a
    zero-byte or truncated file under the name.

    Every upload gets a fresh random folder (notes, imports), so the name is
    not taken before the write starts: the file at it is this write's own.
    """

    def _save(self, name: str, content) -> str:
        full_path = self.path(name)
        existed = os.path.lexists(full_path)
        try:
            return super()._save(name, content)
        except BaseException:
            if not existed:
                with contextlib.suppress(OSError):
                    os.remove(full_path)
                self._remove_empty_folder(full_path)
            raise

    def delete(self, name: str) -> None:
        super().delete(name)
        self._remove_empty_folder(self.path(name))

    def _remove_empty_folder(self, full_path: str) -> None:
        """The upload's own folder goes with its file (rmdir refuses a folder
        that still holds anything, and the storage root is never removed)."""
        folder = os.path.dirname(full_path)
        if os.path.abspath(folder) != os.path.abspath(self.location):
            with contextlib.suppress(OSError):
                os.rmdir(folder)


def save_file(field_file, name: str, content) -> str:
    """Write `content` through a model's FieldFile (without saving the row) and
    return the stored name; a storage failure raises FileStorageError with
    nothing written."""
    try:
        field_file.save(name, content, save=False)
    except OSError as exc:
        logger.warning("Could not store %s: %s", name, exc)
        raise FileStorageError() from exc
    return field_file.name


def delete_files_on_commit(names: Iterable[str]) -> None:
    """Delete stored files once the current transaction commits (never on rollback)."""
    names = [n for n in names if n]
    if not names:
        return

    def remove() -> None:
        # The rows are gone and the user was told so: a file that cannot be
        # removed now is logged and left for `manage.py prune_attachments`.
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("Could not delete stored file %s; prune_attachments will", name)

    transaction.on_commit(remove)


def delete_with_files(record: Model) -> None:
    """Delete a record with all the database cascades to (a lead's notes,
    activities, connections), and remove from storage, once the transaction
    commits, the file of every FileField among the deleted rows (notes'
    attachments): a rollback keeps both the rows and the files.

    It is Model.delete(), done with Django's deletion Collector so the rows the
    delete reaches are known without knowing their models.
    """
    collector = Collector(using=router.db_for_write(type(record), instance=record), origin=record)
    collector.collect([record])
    names: list[str] = []
    for model, instances in collector.data.items():
        for field in _file_fields(model):
            names += [getattr(obj, field.attname) for obj in instances]
    for rows in collector.fast_deletes:
        fields = _file_fields(rows.model)
        if fields:
            # Deleted without being loaded: read just their file names first.
            for values in rows.values_list(*(f.attname for f in fields)):
                names += list(values)
    collector.delete()
    delete_files_on_commit(str(name) for name in names if name)


def _file_fields(model: type[Model]) -> list[FileField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, FileField)]
