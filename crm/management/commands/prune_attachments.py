"""Remove stored note attachments that no note refers to.

A file is written just before its note row is saved; if the process dies in
between, or an enclosing transaction rolls back, the file is left behind.
Files younger than --min-age-hours are kept so uploads in flight are safe.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.utils import timezone

from activities.models import Note

ROOT = "notes"


def _walk(folder: str):
    dirs, files = default_storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for name in dirs:
        yield from _walk(f"{folder}/{name}")


class Command(BaseCommand):
    help = "Delete attachment files under MEDIA_ROOT/notes/ that no note refers to."

    def add_arguments(self, parser):
        parser.add_argument("--min-age-hours", type=float, default=24)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, min_age_hours: float, dry_run: bool, **options):
        if not default_storage.exists(ROOT):
            self.stdout.write("No attachments stored.")
            return
        cutoff = timezone.now() - timedelta(hours=min_age_hours)
        removed = 0
        for name in _walk(ROOT):
            if default_storage.get_modified_time(name) > cutoff:
                continue
            if Note.objects.filter(attachment=name).exists():
                continue
            removed += 1
            if not dry_run:
                default_storage.delete(name)
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(f"{verb} {removed} stray attachment file(s).")
