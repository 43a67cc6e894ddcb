from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from activities import services
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_prune_removes_only_files_no_note_refers_to(settings, tmp_path, rep):
    settings.MEDIA_ROOT = tmp_path
    note = services.create_note(
        user=rep,
        regarding=LeadFactory(owner=rep),
        text="x",
        attachment=SimpleUploadedFile("kept.pdf", b"kept"),
    )
    stray = default_storage.save("notes/2026/01/abc/stray.pdf", ContentFile(b"stray"))

    out = StringIO()
    call_command("prune_attachments", "--min-age-hours=0", "--dry-run", stdout=out)
    assert "Would remove 1" in out.getvalue()
    assert default_storage.exists(stray)

    call_command("prune_attachments", "--min-age-hours=0", stdout=out)
    assert not default_storage.exists(stray)
    assert Path(note.attachment.path).exists()


def test_prune_keeps_recent_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fresh = default_storage.save("notes/2026/01/abc/fresh.pdf", ContentFile(b"x"))
    call_command("prune_attachments", stdout=StringIO())
    assert default_storage.exists(fresh)
