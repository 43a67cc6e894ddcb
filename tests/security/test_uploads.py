"""Hostile note attachments, posted over HTTP as a browser or a crafted client
would: blocked types, disguised types, over-size and empty files, and file
names that try to leave MEDIA_ROOT.

The requests are raw multipart bodies, so the file name reaches Django's
multipart parser exactly as written (the test client would reduce it to its
base name itself). tests/activities/test_services.py covers the same rules at
the service; this file covers them through the views, add and edit, and what
ends up on disk.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from activities.models import Note
from crm.filetypes import DEFAULT_BLOCKED_EXTENSIONS, DYNAMICS_DEFAULT
from crm.models import OrganizationSettings
from tests.factories import LeadFactory, NoteFactory
from tests.faults import FullDisk

from .hostile import counts, media_files

pytestmark = pytest.mark.django_db

BOUNDARY = "----LeadlineSecurityBoundary7MA4YWxk"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """An empty MEDIA_ROOT inside tmp_path: anything written beside it escaped."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def as_rep(rep):
    client = Client()
    client.force_login(rep)
    return client


@pytest.fixture
def lead(rep):
    return LeadFactory(owner=rep, topic="Fifty laptops")


def multipart(fields: dict[str, str], filename: str, content: bytes, content_type: str) -> bytes:
    """A multipart/form-data body with one file part named exactly `filename`."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
    parts.append(
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="attachment"; filename="{quoted}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def post_file(
    client,
    url: str,
    filename: str,
    content: bytes = b"%PDF-1.4 data",
    content_type: str = "application/octet-stream",
    **fields: str,
):
    # No text: a file the server drops or refuses leaves an empty note, which
    # is refused too, so "nothing saved" is what every refusal looks like.
    body = multipart({"title": "", "text": "", **fields}, filename, content, content_type)
    return client.post(url, body, content_type=f"multipart/form-data; boundary={BOUNDARY}")


def note_add_url(record) -> str:
    return reverse("activities:note_add", args=[record._meta.model_name, record.pk])


def files_outside(media: Path) -> list[Path]:
    return [p for p in media.parent.rglob("*") if p.is_file() and media not in p.parents]


def assert_refused(response, media: Path, message: str, before: dict) -> None:
    """The form came back with `message` on the attachment; nothing was saved or written."""
    assert response.status_code == 200, "the upload was accepted"
    errors = response.context["form"].errors
    assert message in " ".join(errors.get("attachment", [])), errors
    assert counts() == before
    assert media_files() == []
    assert files_outside(media) == []


# --- Blocked types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    [
        "setup.exe",
        "SETUP.EXE",
        "report.pdf.exe",
        "report.PDF.Exe",
        "page.html",
        "page.htm",
        "page.xhtml",
        "logo.svg",
        "logo.SVGZ",
        "run.js",
        "install.bat",
        "deploy.sh",
        "tool.ps1",
        "shortcut.lnk",
        "\u202egpj.exe",  # right-to-left override: shows as "exe.jpg"
        "report.exe\u200b",  # zero-width space after the extension
        "report .exe",
    ],
)
def test_blocked_file_type_is_refused_and_nothing_is_written(as_rep, lead, media, filename):
    before = counts()
    response = post_file(as_rep, note_add_url(lead), filename, b"MZ\x90\x00")
    assert_refused(response, media, "cannot be attached", before)


@pytest.mark.parametrize("filename", ["report.exe.", "page.html.", "logo.svg.", "run.js. ."])
def test_blocked_file_type_with_a_trailing_dot_is_refused(as_rep, lead, media, filename):
    before = counts()
    response = post_file(as_rep, note_add_url(lead), filename)
    assert_refused(response, media, "", before)


def test_blocked_file_type_does_not_replace_an_attachment(as_rep, rep, lead, media):
    note = NoteFactory(lead=lead, author=rep, text="")
    post_file(as_rep, note_add_url(lead), "brief.pdf")
    note = Note.objects.exclude(pk=note.pk).get()
    stored = media_files()
    before = (note.attachment.name, note.attachment_name, note.attachment_size, note.modified_at)

    response = post_file(as_rep, reverse("activities:note_edit", args=[note.pk]), "brief.exe")

    assert response.status_code == 200 and response.context["form"].errors
    note.refresh_from_db()
    after = (note.attachment.name, note.attachment_name, note.attachment_size, note.modified_at)
    assert after == before
    assert media_files() == stored


def test_file_type_is_taken_from_the_name_and_download_never_renders(as_rep, lead):
    # An HTML page uploaded as "invoice.pdf" with a text/html type is stored, but
    # only ever sent back as an opaque download.
    post_file(
        as_rep,
        note_add_url(lead),
        "invoice.pdf",
        b"<html><script>alert(1)</script></html>",
        "text/html",
    )
    note = Note.objects.get()
    download = as_rep.get(note.download_url)
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


# Named in the hardening review: Dynamics 365's own defaults, and other risky types.
NAMED_IN_REVIEW = [
    "shtml", "shtm", "stm", "asmx", "ashx", "config", "class", "mdb", "tmp",
    "docm", "xlsm", "iso", "settingcontent-ms",
]  # fmt: skip


def test_the_default_list_is_microsofts_with_the_risky_types_added():
    assert set(DYNAMICS_DEFAULT) <= set(DEFAULT_BLOCKED_EXTENSIONS)
    assert len(DYNAMICS_DEFAULT) == 96  # as Microsoft publishes it for Dataverse
    assert set(NAMED_IN_REVIEW) <= set(DEFAULT_BLOCKED_EXTENSIONS)
    assert OrganizationSettings.load().blocked_extensions() == set(DEFAULT_BLOCKED_EXTENSIONS)


@pytest.mark.parametrize("ext", DEFAULT_BLOCKED_EXTENSIONS)
def test_every_default_blocked_type_is_refused(as_rep, lead, media, ext):
    before = counts()
    for name in (f"file.{ext}", f"FILE.{ext.upper()}"):
        response = post_file(as_rep, note_add_url(lead), name, b"MZ\x90\x00")
        assert_refused(response, media, "cannot be attached", before)


def test_an_admin_edits_the_blocked_list(as_rep, lead, media, org_settings):
    org_settings.blocked_attachment_extensions = ".PDF; *.txt,\ncsv"
    org_settings.save()
    before = counts()
    response = post_file(as_rep, note_add_url(lead), "quote.pdf")
    assert_refused(response, media, "Files of type .pdf cannot be attached", before)
    response = post_file(as_rep, note_add_url(lead), "tool.exe")
    assert response.status_code == 302  # no longer on the list


def test_a_type_blocked_after_upload_is_not_downloaded(as_rep, lead, media, org_settings):
    post_file(as_rep, note_add_url(lead), "macro.pdf")
    note = Note.objects.get()
    assert as_rep.get(note.download_url).status_code == 200
    org_settings.blocked_attachment_extensions += ";pdf"
    org_settings.save()
    assert as_rep.get(note.download_url).status_code == 403


# --- A full or failing volume ---------------------------------------------------------------


@pytest.fixture
def full_disk(monkeypatch):
    FullDisk(monkeypatch)


def test_a_full_disk_refuses_the_file_keeps_the_text_and_leaves_no_file(
    as_rep, lead, media, full_disk
):
    before = counts()
    response = post_file(
        as_rep, note_add_url(lead), "brief.pdf", b"x" * 200_000, text="Called, wants a quote"
    )
    assert_refused(response, media, "file storage is full or unavailable", before)
    form = response.context["form"]
    assert form["text"].value() == "Called, wants a quote"
    assert "Called, wants a quote" in response.content.decode()


def test_a_full_disk_does_not_lose_the_attachment_a_note_has(as_rep, rep, lead, media, monkeypatch):
    post_file(as_rep, note_add_url(lead), "v1.pdf", b"v1")
    note = Note.objects.get()
    stored = media_files()
    FullDisk(monkeypatch)
    response = post_file(as_rep, reverse("activities:note_edit", args=[note.pk]), "v2.pdf", b"v2")
    assert response.status_code == 200 and response.context["form"].errors
    note.refresh_from_db()
    assert note.attachment_name == "v1.pdf"
    assert media_files() == stored


# --- Size ----------------------------------------------------------------------------------


def test_file_at_the_size_limit_is_accepted_and_one_byte_more_is_refused(
    as_rep, lead, media, settings
):
    settings.NOTE_ATTACHMENT_MAX_BYTES = 16
    before = counts()
    response = post_file(as_rep, note_add_url(lead), "big.pdf", b"x" * 17)
    assert_refused(response, media, "attachments may be at most", before)

    response = post_file(as_rep, note_add_url(lead), "fits.pdf", b"x" * 16)
    assert response.status_code == 302
    assert Note.objects.get().attachment_size == 16


def test_over_size_file_does_not_replace_an_attachment(as_rep, rep, lead, media, settings):
    settings.NOTE_ATTACHMENT_MAX_BYTES = 16
    post_file(as_rep, note_add_url(lead), "v1.pdf", b"v1")
    note = Note.objects.get()
    stored = media_files()

    response = post_file(
        as_rep, reverse("activities:note_edit", args=[note.pk]), "v2.pdf", b"x" * 17
    )

    assert response.status_code == 200 and response.context["form"].errors
    note.refresh_from_db()
    assert (note.attachment_name, note.attachment_size) == ("v1.pdf", 2)
    assert media_files() == stored


def test_empty_file_is_refused_and_nothing_is_written(as_rep, lead, media):
    before = counts()
    response = post_file(as_rep, note_add_url(lead), "empty.pdf", b"")
    assert response.status_code == 200 and response.context["form"].errors
    assert counts() == before
    assert media_files() == []


# --- Names that try to leave MEDIA_ROOT ----------------------------------------------------

TRAVERSAL_NAMES = [
    "../../etc/passwd",
    "../../../../tmp/evil.pdf",
    "..\\..\\win.ini",
    "..\\..\\..\\Windows\\System32\\evil.pdf",
    "/etc/passwd",
    "/tmp/evil.pdf",
    "C:\\Windows\\evil.pdf",
    "\\\\server\\share\\evil.pdf",
    "notes/../../../evil.pdf",
    "..",
    ".",
    "...",
    "evil\x00.pdf",
    "evil.pdf\x00.exe",
    "&#x2e;&#x2e;&#x2f;&#x2e;&#x2e;&#x2f;evil.pdf",
    "%2e%2e%2f%2e%2e%2fevil.pdf",
    "..%c0%afevil.pdf",
    "😀" * 300 + ".pdf",
]


@pytest.mark.parametrize("filename", TRAVERSAL_NAMES)
def test_file_name_cannot_leave_media_root(as_rep, lead, media, filename):
    """Such a name is refused, or reduced to a plain base name stored under
    MEDIA_ROOT (what Django's multipart parser does with a path); either way
    nothing is written anywhere else, and no stored name carries a path."""
    response = post_file(as_rep, note_add_url(lead), filename)

    # 400: the multipart parser refused a part header it could not read.
    assert response.status_code in (200, 302, 400)
    assert files_outside(media) == []
    note = Note.objects.first()
    if response.status_code != 302:
        assert response.status_code == 400 or response.context["form"].errors
        assert note is None and media_files() == []
        return
    assert note is not None and note.attachment
    for name in (note.attachment_name, note.attachment.name.rsplit("/", 1)[-1]):
        assert "/" not in name and "\\" not in name and "\x00" not in name
        assert ".." not in name and name not in ("", ".")
    assert Path(note.attachment.path).resolve().is_relative_to(Path(media).resolve())
    assert len(note.attachment_name) <= 255 and not note.attachment_name.endswith(".exe")
