"""Remove stored files that nothing needs any more; run it daily.

1. Each app's own clean-up first: an app whose AppConfig has a
   `prune_files(*, dry_run)` method is asked to release the files it no longer
   needs and says what it did (imports: the uploads of jobs nobody finished
   within IMPORT_UNFINISHED_RETENTION, and of ended jobs whose deletion failed).
2. Then every file under MEDIA_ROOT that no FileField of any model refers to:
   a file is written just before its row is saved, so a process that dies in
   between, or a transaction that rolls back, leaves one behind. Files younger
   than --min-age-hours are kept, so uploads in flight are safe.

MEDIA_ROOT holds Leadline's uploads only (notes' attachments, imports' files).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.apps import apps
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db.models import FileField
from django.utils import timezone


def _walk(folder: str) -> Iterator[str]:
    dirs, files = default_storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}" if folder else name
    for name in dirs:
        yield from _walk(f"{folder}/{name}" if folder else name)


def referenced_files() -> set[str]:
    """Every stored file name some row's FileField holds."""
    names: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, FileField):
                names.update(
                    model._default_manager.exclude(**{field.attname: ""}).values_list(
                        field.attname, flat=True
                    )
                )
    return names


class Command(BaseCommand):
    help = (
        "Delete stored files no record refers to (attachments, import uploads) and let each "
        "app release the files it no longer needs (imports past IMPORT_UNFINISHED_RETENTION)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--min-age-hours", type=float, default=24)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, min_age_hours: float, dry_run: bool, **options):
        for config in apps.get_app_configs():
            prune = getattr(config, "prune_files", None)
            if prune is not None:
                for line in prune(dry_run=dry_run):
                    self.stdout.write(line)
        cutoff = timezone.now() - timedelta(hours=min_age_hours)
        needed = referenced_files()
        removed = 0
        for name in _walk("") if default_storage.exists("") else ():
            if name in needed or default_storage.get_modified_time(name) > cutoff:
                continue
            removed += 1
            if not dry_run:
                default_storage.delete(name)
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(f"{verb} {removed} stray file(s).")
