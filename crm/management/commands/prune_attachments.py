"""Remove stored files that nothing needs any more; run it daily.

- Note attachments that no note refers to: a file is written just before its
  note row is saved; if the process dies in between, or an enclosing
  transaction rolls back, the file is left behind.
- Import uploads: the file of an import nobody finished within
  IMPORT_UNFINISHED_RETENTION (default 7 days; the job is marked Abandoned),
  the file of an ended import whose deletion failed, and upload files no
  import refers to.

Stray files younger than --min-age-hours are kept so uploads in flight are safe.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.utils import timezone

from activities.models import Note
from imports import services as imports

NOTES, IMPORTS = "notes", "imports"


def _walk(folder: str):
    dirs, files = default_storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for name in dirs:
        yield from _walk(f"{folder}/{name}")


class Command(BaseCommand):
    help = (
        "Delete attachment files no note refers to, and import uploads that are no longer "
        "needed (ended imports, and unfinished ones past IMPORT_UNFINISHED_RETENTION)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--min-age-hours", type=float, default=24)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, min_age_hours: float, dry_run: bool, **options):
        cutoff = timezone.now() - timedelta(hours=min_age_hours)
        verb = "Would remove" if dry_run else "Removed"
        removed = self._strays(
            NOTES,
            cutoff,
            dry_run,
            lambda name: Note.objects.filter(attachment=name).exists(),
        )
        self.stdout.write(f"{verb} {removed} stray attachment file(s).")
        if not dry_run:
            abandoned, deleted = imports.prune_imports()
            self.stdout.write(
                f"Abandoned {abandoned} unfinished import(s) and deleted their files; "
                f"deleted the files of {deleted} ended import(s)."
            )
        needed = imports.referenced_files()
        removed = self._strays(IMPORTS, cutoff, dry_run, needed.__contains__)
        self.stdout.write(f"{verb} {removed} stray import file(s).")

    def _strays(self, root: str, cutoff, dry_run: bool, is_needed) -> int:
        if not default_storage.exists(root):
            return 0
        removed = 0
        for name in _walk(root):
            if default_storage.get_modified_time(name) > cutoff or is_needed(name):
                continue
            removed += 1
            if not dry_run:
                default_storage.delete(name)
        return removed
