"""Files and situations that used to break an import: very wide files, NUL
characters, other people's imports, files kept forever, failures part way.
Each gets a clear answer, changes nothing it should not and loses no row."""

import csv
import io
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from django.db import DataError, OperationalError
from django.urls import reverse

from crm import jobs
from imports import services
from imports.models import ImportJob, ImportProblem
from leads import services as lead_services
from leads.models import Lead
from tests.faults import FullDisk
from tests.imports.helpers import map_and_run, problems_csv, run_in_worker, upload, uploaded_job

pytestmark = pytest.mark.django_db


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


def refused(client, content: bytes, name: str = "leads.csv") -> str:
    response = upload(client, content, name)
    assert response.status_code == 200
    assert not ImportJob.objects.exists()
    return " ".join(response.context["form"].errors["file"])


def run_all(client, job: ImportJob) -> ImportJob:
    job = run_in_worker(job)
    response = client.get(reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "1"})
    assert response.status_code == 200
    return job


# --- 1. Wide files and long lines are refused at upload ----------------------------------


def test_a_file_with_a_hundred_thousand_columns_is_refused_at_upload(client, rep, media):
    client.force_login(rep)
    header = ",".join(f"c{i}" for i in range(100_000))
    content = f"{header}\n{',' * 99_999}x\n".encode()
    assert len(content) < 1_048_576
    message = refused(client, content)
    assert "100,000 columns" in message and "at most 200" in message
    assert stored_files(media) == []


def test_the_column_limit_is_a_setting_and_applies_to_every_line(client, rep, settings):
    settings.IMPORT_MAX_COLUMNS = 3
    client.force_login(rep)
    assert "4 columns" in refused(client, b"Topic,Last name,A,B\nx,y,z,w\n")
    message = refused(client, b"Topic,Last name\nx,y\nx,y,z,w,v\n")
    assert "Line 3 has 5 columns" in message
    uploaded_job(client, b"Topic,Last name,Email\nx,y,z@example.com\n")


def test_an_absurdly_long_line_is_refused_with_its_number(client, rep, settings):
    settings.IMPORT_MAX_LINE_CHARS = 1_000
    client.force_login(rep)
    content = b"Topic,Last name\nShort,Row\n" + b"Long," + b"x" * 2_000 + b"\n"
    message = refused(client, content)
    assert "Line 3 is 2,006 characters long" in message and "at most 1,000" in message


def test_a_single_huge_value_is_refused_not_a_500(client, rep):
    client.force_login(rep)
    content = b'Topic,Last name\n"' + b"x" * 200_000 + b'",Name\n'
    assert "Line 2" in refused(client, content)


def test_the_mapping_page_stays_small_for_the_widest_file_allowed(client, rep):
    client.force_login(rep)
    headers = ",".join(f"{'A very long column heading ' * 4}{i}" for i in range(200))
    rows = "".join(",".join("v" * 100 for _ in range(200)) + "\n" for _ in range(10))
    job = uploaded_job(client, f"{headers}\n{rows}".encode())
    response = client.get(reverse("imports:mapping", args=[job.pk]))
    assert response.status_code == 200
    size = len(response.content)
    # 20 fields x 201 columns of short labels, and 5 preview rows of short cells.
    assert size < 600_000, f"the mapping page is {size:,} bytes"


# --- 2. NUL characters and encodings ----------------------------------------------------


def nul_file(rows: int, nul_row: int) -> bytes:
    """Leads with a NUL in one row's last name, far past the first 64 KB."""
    lines = ["Topic,Last name,Email"]
    for i in range(1, rows + 1):
        name = f"Na\x00me {i}" if i == nul_row else f"Name {i}"
        lines.append(f"Topic {i} {'pad' * 20},{name},lead{i}@example.com")
    content = ("\n".join(lines) + "\n").encode()
    assert content.index(b"\x00") > 65_536
    return content


def test_a_nul_past_the_first_64_kb_fails_its_row_alone(
    client, rep, settings, media, django_capture_on_commit_callbacks
):
    settings.IMPORT_BATCH_SIZE = 500
    client.force_login(rep)
    with django_capture_on_commit_callbacks(execute=True):
        job = map_and_run(client, uploaded_job(client, nul_file(2_000, 1_500)))
    assert (job.status, job.imported, job.failed, job.skipped) == ("done", 1_999, 1, 0)
    assert Lead.objects.count() == 1_999
    assert not any("\x00" in name for name in Lead.objects.values_list("last_name", flat=True))
    [row] = problems_csv(client, job)
    assert row["Line"] == "1501"
    assert "NUL character" in row["Reason"]
    assert row["Last name"] == "Na\ufffdme 1500"
    assert stored_files(media) == []  # the job is done: its file is deleted


def test_a_utf16_file_with_a_nul_in_its_header_is_refused_and_leaves_no_file(client, rep, media):
    client.force_login(rep)
    content = "Topic,Last\x00name\nA,B\n".encode("utf-16")
    message = refused(client, content)
    assert "NUL character" in message and "first line" in message
    assert stored_files(media) == []


def test_a_utf16_file_with_a_nul_in_a_row_fails_that_row(client, rep):
    client.force_login(rep)
    content = "Topic,Last name\nA,One\nB,T\x00wo\nC,Three\n".encode("utf-16")
    job = map_and_run(client, uploaded_job(client, content))
    assert (job.imported, job.failed) == (2, 1)
    assert job.problems.get().line == 3


def test_control_characters_in_the_file_name_are_dropped(client, rep):
    client.force_login(rep)
    job = uploaded_job(client, b"Topic,Last name\nA,B\n", name="le\x00ads\x07.csv")
    assert job.file_name == "leads.csv"


def test_a_row_the_database_refuses_fails_alone(client, rep, monkeypatch):
    """Whatever the checks miss, the database has the last word, one row at a time."""
    client.force_login(rep)
    job = uploaded_job(client, b"Topic,Last name\nA,One\nB,Refused\nC,Three\n")

    def bulk_create(*args, **kwargs):
        raise DataError("value too long for type character varying(80)")

    create_lead = lead_services.create_lead

    def one_lead(**fields):
        if fields["last_name"] == "Refused":
            raise DataError("invalid byte sequence for encoding UTF8\nCONTEXT: ...")
        return create_lead(**fields)

    monkeypatch.setattr(Lead.objects, "bulk_create", bulk_create)
    monkeypatch.setattr(lead_services, "create_lead", one_lead)
    job = map_and_run(client, job)
    assert (job.status, job.imported, job.failed) == ("done", 2, 1)
    assert set(Lead.objects.values_list("last_name", flat=True)) == {"One", "Three"}
    problem = job.problems.get()
    assert problem.line == 3
    assert problem.reason == (
        "The database refused this row: invalid byte sequence for encoding UTF8"
    )


def test_an_unexpected_error_stops_the_job_and_lists_every_row_left(
    client, rep, settings, monkeypatch, media, django_capture_on_commit_callbacks
):
    settings.IMPORT_BATCH_SIZE = 2
    client.force_login(rep)
    content = b"Topic,Last name\n" + b"".join(b"T%d,N%d\n" % (i, i) for i in range(1, 6))
    job = uploaded_job(client, content)
    client.post(
        reverse("imports:mapping", args=[job.pk]),
        {"topic": "0", "last_name": "1", "duplicates": "skip"},
    )
    services.import_next_batch(job=job, user=rep)  # rows 1-2 imported

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "_duplicates", broken)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.run_queued()
    response = client.get(reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "1"})
    assert response.status_code == 200
    job.refresh_from_db()
    assert (job.status, job.imported, job.failed, job.rows_done) == ("stopped", 2, 3, 5)
    assert "unexpected error" in job.error
    assert "Stopped." in response.content.decode()
    assert [r["Line"] for r in problems_csv(client, job)] == ["4", "5", "6"]
    assert [r["Topic"] for r in problems_csv(client, job)] == ["T3", "T4", "T5"]
    assert Lead.objects.count() == 2
    assert stored_files(media) == []


def test_a_missing_file_stops_the_job_with_a_message(client, rep):
    client.force_login(rep)
    job = uploaded_job(client, b"Topic,Last name\nA,B\n")
    client.post(
        reverse("imports:mapping", args=[job.pk]),
        {"topic": "0", "last_name": "1", "duplicates": "skip"},
    )
    default_storage.delete(job.file.name)
    job = run_all(client, job)
    assert job.status == "stopped"
    assert "could not be read" in job.error


def test_a_busy_database_leaves_the_batch_for_later(client, rep, monkeypatch):
    client.force_login(rep)
    job = uploaded_job(client, b"Topic,Last name\nA,B\n")
    client.post(
        reverse("imports:mapping", args=[job.pk]),
        {"topic": "0", "last_name": "1", "duplicates": "skip"},
    )

    def busy(*args, **kwargs):
        raise OperationalError("database is locked")

    with monkeypatch.context() as patched:
        patched.setattr(Lead.objects, "bulk_create", busy)
        with pytest.raises(OperationalError):
            services.import_next_batch(job=job, user=rep)
    job.refresh_from_db()
    assert (job.status, job.rows_done, Lead.objects.count()) == ("running", 0, 0)
    assert run_all(client, job).imported == 1


# --- 3. Only the uploader and managers see an import -------------------------------------


@pytest.mark.parametrize("page", ["imports:progress", "imports:problems", "imports:mapping"])
def test_another_rep_cannot_see_an_import(client, rep, rep2, manager, page):
    client.force_login(rep)
    job = uploaded_job(client, b"Topic,Last name\nA,B\n")
    client.force_login(rep2)
    response = client.get(reverse(page, args=[job.pk]))
    assert response.status_code == 403
    client.force_login(manager)
    assert client.get(reverse(page, args=[job.pk])).status_code == 200


def test_rows_not_imported_keep_only_the_mapped_columns(client, rep):
    client.force_login(rep)
    content = (
        b"National ID,Topic,Salary,Last name,Rating\n"
        b"AB123456C,Deal,85000,Smith,Scorching\n"
        b"ZZ999999Z,Other,99000,Jones,Hot\n"
    )
    job = uploaded_job(client, content)
    assert set(job.mapping) == {"topic", "last_name", "rating"}
    job = map_and_run(client, job)
    [row] = problems_csv(client, job)
    assert list(row) == ["Line", "Result", "Reason", "Topic", "Last name", "Rating"]
    assert row["Rating"] == "Scorching"
    assert ImportProblem.objects.get().values == ["Deal", "Smith", "Scorching"]
    stored = str(list(ImportProblem.objects.values_list("values", "reason")))
    assert "AB123456C" not in stored and "85000" not in stored


def test_the_migration_drops_unmapped_values_of_earlier_imports(rep):
    job = ImportJob.objects.create(
        created_by=rep,
        file_name="old.csv",
        delimiter=",",
        headers=["National ID", "Topic", "Last name"],
        mapping={"topic": 1, "last_name": 2},
        status="done",
    )
    ImportProblem.objects.create(job=job, line=2, kind="failed", reason="x", values=["ID", "T"])
    migration = __import__(
        "imports.migrations.0002_file_retention_and_stopped", fromlist=["keep_only_mapped_values"]
    )
    migration.keep_only_mapped_values(apps, None)
    assert ImportProblem.objects.get().values == ["T", ""]


# --- 4. Uploaded files are not kept ------------------------------------------------------


def test_the_file_is_deleted_when_the_import_is_done(
    client, rep, media, django_capture_on_commit_callbacks
):
    client.force_login(rep)
    job = uploaded_job(client, b"Topic,Last name\nA,B\n")
    [path] = stored_files(media)
    with django_capture_on_commit_callbacks(execute=True):
        job = map_and_run(client, job)
    assert job.file.name == ""
    assert not path.exists()


def test_a_full_disk_at_upload_gives_a_message_and_leaves_no_file(client, rep, media, monkeypatch):
    disk = FullDisk(monkeypatch)
    client.force_login(rep)
    message = refused(client, b"Topic,Last name\n" + b"A,B\n" * 20_000)
    assert disk.calls == 1
    assert "could not be stored" in message
    assert stored_files(media) == []


def test_a_database_error_after_the_upload_is_written_leaves_no_file(rep, media, monkeypatch):
    def fail(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(ImportJob, "save", fail)
    with pytest.raises(OperationalError):
        services.start_import(user=rep, name="leads.csv", raw=b"Topic,Last name\nA,B\n")
    assert stored_files(media) == []


def test_rows_not_imported_csv_is_plain_csv(client, rep):
    """The download is a CSV a spreadsheet opens: BOM, header, one row per problem."""
    client.force_login(rep)
    job = map_and_run(client, uploaded_job(client, b"Topic,Last name\n,B\n"))
    response = client.get(reverse("imports:problems", args=[job.pk]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body)))[0] == [
        "Line",
        "Result",
        "Reason",
        "Topic",
        "Last name",
    ]


def test_a_stray_nul_early_in_a_short_file_fails_only_its_row(client, rep):
    """Not taken for a binary file: a spreadsheet has zero bytes everywhere."""
    client.force_login(rep)
    content = b"Topic,Last name\nA,One\nB,T\x00wo\nC,Three\n"
    job = map_and_run(client, uploaded_job(client, content))
    assert (job.imported, job.failed) == (2, 1)
    assert "NUL character" in job.problems.get().reason


def test_the_refusal_page_says_who_may_see_an_import(client, rep, rep2):
    client.force_login(rep)
    job = uploaded_job(client, b"Topic,Last name\nA,B\n")
    client.force_login(rep2)
    response = client.get(reverse("imports:progress", args=[job.pk]))
    assert response.status_code == 403
    assert "Only the person who uploaded this file or a sales manager" in response.content.decode()


def test_a_failed_write_leaves_no_empty_folder_either(client, rep, media, monkeypatch):
    FullDisk(monkeypatch)
    client.force_login(rep)
    refused(client, b"Topic,Last name\n" + b"A,B\n" * 20_000)
    # The upload's own folder went with its partial file; the imports folder stays.
    assert [p.relative_to(media) for p in media.rglob("*")] == [Path("imports")]
