from pathlib import Path

import pytest
from django.urls import reverse

from crm import jobs
from crm.models import Job
from imports import services
from imports.models import ImportJob, ImportProblem
from leads.models import Lead, LeadSource, RoutingRule
from tests.factories import ContactFactory, LeadFactory
from tests.imports.helpers import map_and_run, problems_csv, upload, uploaded_job

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parent / "files"


def test_salesforce_export_imports_with_a_default_topic(client, rep):
    client.force_login(rep)
    job = uploaded_job(client, (FILES / "salesforce_leads.csv").read_bytes())
    assert job.mapping == {
        "first_name": 0,
        "last_name": 1,
        "company_name": 2,
        "email": 3,
        "lead_source": 4,
        "business_phone": 5,
    }
    job = map_and_run(client, job, default_topic="Dreamforce list")
    assert (job.imported, job.skipped, job.failed) == (3, 0, 1)
    marc = Lead.objects.get(email="marc@sfdemo.example")
    assert (marc.topic, marc.owner, marc.state) == ("Dreamforce list", rep, Lead.State.OPEN)
    assert marc.lead_source == LeadSource.WEB
    assert Lead.objects.get(last_name="Harris").lead_source == LeadSource.TRADE_SHOW
    assert Lead.objects.get(last_name="Lovelace").lead_source == LeadSource.OTHER
    assert marc.history.count() == 1
    [failed] = problems_csv(client, job)
    assert failed["Line"] == "4"
    assert failed["Result"] == "Failed"
    assert "Email" in failed["Reason"] and "valid email" in failed["Reason"]
    assert failed["Email"] == "not-an-email"


def test_hubspot_export_with_quoted_newlines(client, rep):
    client.force_login(rep)
    job = uploaded_job(client, (FILES / "hubspot_contacts.csv").read_bytes())
    assert job.total_rows == 2
    assert job.mapping["email"] == 3 and job.mapping["company_name"] == 2
    assert job.mapping["description"] == 6
    job = map_and_run(client, job, default_topic="HubSpot")
    assert (job.imported, job.failed) == (2, 0)
    jane = Lead.objects.get(last_name="Doe")
    assert jane.description == 'Met at the booth.\r\nWants a demo, "soon".'
    assert jane.email == "JANE.DOE@hub.example"


def test_semicolon_separated_latin1_file(client, rep):
    client.force_login(rep)
    job = uploaded_job(client, (FILES / "latin1_semicolon.csv").read_bytes())
    assert (job.delimiter, job.encoding) == (";", "cp1252")
    job = map_and_run(client, job)
    assert job.imported == 2
    rene = Lead.objects.get(email="rene@energie.example")
    assert (rene.first_name, rene.last_name) == ("René", "Lefèvre")
    assert rene.company_name == "Société Générale d'Énergie"
    assert Lead.objects.get(first_name="Françoise").description == "Übernahme"


def test_utf8_with_bom_and_tabs(client, rep):
    client.force_login(rep)
    content = "\ufeffTopic\tLast Name\tE-mail\nÉtude\tZoë 東京\tzoe@example.com\n".encode()
    job = uploaded_job(client, content)
    assert job.headers == ["Topic", "Last Name", "E-mail"]
    assert job.delimiter == "\t"
    map_and_run(client, job)
    assert Lead.objects.get().last_name == "Zoë 東京"


def test_mapping_page_previews_the_first_five_rows(client, rep):
    client.force_login(rep)
    rows = "".join(f"Topic {i},Name {i}\n" for i in range(1, 9))
    job = uploaded_job(client, f"Topic,Last name\n{rows}".encode())
    response = client.get(reverse("imports:mapping", args=[job.pk]))
    assert [row.line for row in response.context["preview"]] == [2, 3, 4, 5, 6]
    page = response.content.decode()
    assert "Topic 5" in page and "Topic 6" not in page


def test_duplicates_are_skipped_against_leads_contacts_and_the_file(client, rep):
    LeadFactory(email="Taken@Example.com")
    ContactFactory(email="contact@example.com", business_phone="")
    LeadFactory(business_phone="+1 (415) 555-0000", email="")
    client.force_login(rep)
    content = (
        b"Topic,Last name,Email,Phone\n"
        b"A,One,TAKEN@example.com,\n"
        b"B,Two,Contact@Example.com,\n"
        b"C,Three,new@example.com,1-415-555-0000\n"
        b"D,Four,fresh@example.com,\n"
        b"E,Five,FRESH@example.com,\n"
        b"F,Six,,555 123 4567\n"
        b"G,Seven,,(555) 123-4567\n"
    )
    job = map_and_run(client, uploaded_job(client, content))
    assert (job.imported, job.skipped, job.failed) == (2, 5, 0)
    reasons = {p.line: p.reason for p in job.problems.all()}
    assert reasons == {
        2: "Same email as an existing lead.",
        3: "Same email as an existing contact.",
        4: "Same phone as an existing lead.",
        6: "Same email as line 5 of this file.",
        8: "Same phone as line 7 of this file.",
    }
    assert set(Lead.objects.filter(topic__in="ABCDEFG").values_list("topic", flat=True)) == {
        "D",
        "F",
    }
    assert {row["Result"] for row in problems_csv(client, job)} == {"Skipped (duplicate)"}


def test_phone_numbers_match_however_they_are_written(client, rep):
    """Dots, slashes, a country code's plus: only the digits count, on both sides."""
    LeadFactory(business_phone="415.555.0101", email="")
    ContactFactory(mobile_phone="+44 20/7946-0958", business_phone="")
    client.force_login(rep)
    content = (
        b"Topic,Last name,Phone,Mobile\n"
        b"A,One,(415) 555 0101,\n"
        b"B,Two,,442079460958\n"
        b"C,Three,415 555 0199,\n"
    )
    job = map_and_run(client, uploaded_job(client, content))
    reasons = {p.line: p.reason for p in job.problems.all()}
    assert reasons == {
        2: "Same phone as an existing lead.",
        3: "Same phone as an existing contact.",
    }
    imported = Lead.objects.get(topic="C")
    assert imported.business_phone_key == "4155550199"  # the next import will find it
    assert imported.history.get().business_phone == "415 555 0199"


def test_duplicates_can_be_imported_anyway(client, rep):
    LeadFactory(email="taken@example.com")
    client.force_login(rep)
    content = b"Topic,Last name,Email\nA,One,taken@example.com\nB,Two,taken@example.com\n"
    job = map_and_run(client, uploaded_job(client, content), duplicates="import")
    assert (job.imported, job.skipped) == (2, 0)
    assert Lead.objects.filter(email="taken@example.com").count() == 3


def test_rows_are_validated_with_their_line_numbers(client, rep):
    client.force_login(rep)
    content = (
        b"Topic,First name,Last name,Company,Rating,Budget,Website\n"
        b'Ok,Ann,Able,,Hot,"1,500.50",https://able.example\n'
        b",Ben,Baker,,,,\n"
        b"No name,Cid,,,,,\n"
        b"Bad rating,,Dunn,,Scorching,,\n"
        b"Bad budget,,Eve,,,lots,\n"
        b"Ragged,,Fay\n"
        b"Bad site,,Gil,,,,not a url\n"
    )
    job = map_and_run(client, uploaded_job(client, content))
    assert (job.imported, job.failed) == (2, 5)
    reasons = {p.line: p.reason for p in job.problems.all()}
    assert "Topic" in reasons[3]
    assert reasons[5] == "Rating: 'Scorching' is not one of the choices."
    assert reasons[6] == "Budget amount: 'lots' is not a number."
    assert reasons[7] == "This line has 3 columns; the header line has 7."
    assert "URL" in reasons[8]
    able = Lead.objects.get(last_name="Able")
    assert (able.rating, str(able.budget_amount)) == ("hot", "1500.50")
    assert Lead.objects.filter(first_name="Cid").exists()  # a first name is enough


def test_the_owner_column_is_used_only_for_a_manager(client, rep, rep2, manager):
    content = b"Topic,Last name,Owner\nA,One,rep2\nB,Two,nobody\n"
    client.force_login(rep)
    job = uploaded_job(client, content)
    assert "owner" not in job.mapping
    map_and_run(client, job)
    assert set(Lead.objects.values_list("owner__username", flat=True)) == {"rep"}

    Lead.objects.all().delete()
    ImportJob.objects.all().delete()
    client.force_login(manager)
    job = map_and_run(client, uploaded_job(client, content))
    assert Lead.objects.get(topic="A").owner == rep2
    assert job.problems.get().reason == "Owner: no active user is called 'nobody'."


def test_a_worker_runs_every_batch_while_the_page_only_watches(client, rep, settings):
    settings.IMPORT_BATCH_SIZE = 2
    client.force_login(rep)
    content = b"Topic,Last name\n" + b"".join(b"T%d,N%d\n" % (i, i) for i in range(5))
    job = uploaded_job(client, content)
    client.post(
        reverse("imports:mapping", args=[job.pk]),
        {"topic": "0", "last_name": "1", "duplicates": "skip"},
    )
    job.refresh_from_db()
    assert job.job.kind == "imports.run" and job.job.status == Job.Status.QUEUED
    # Watching the page imports nothing: it asks again every two seconds.
    for _ in range(3):
        page = client.get(reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "1"})
    page = page.content.decode()
    assert 'max="5" value="0"' in page and 'hx-trigger="every 2s"' in page
    assert "you can close this page" in page and "style=" not in page
    assert not Lead.objects.exists()

    assert jobs.run_queued() == 1  # one job runs every batch

    job.refresh_from_db()
    assert (job.status, job.imported, Lead.objects.count()) == ("done", 5, 5)
    assert job.job.status == Job.Status.DONE
    page = client.get(reverse("imports:progress", args=[job.pk])).content.decode()
    assert "Done." in page and "every 2s" not in page
    # The job run again (a message delivered twice) changes nothing.
    Job.objects.filter(pk=job.job_id).update(status=Job.Status.QUEUED)
    jobs.run(job.job_id)
    assert Lead.objects.count() == 5


def test_another_rep_cannot_map_or_cancel_an_import(client, rep, rep2):
    client.force_login(rep)
    job = uploaded_job(client, b"Topic,Last name\nA,B\n")
    client.force_login(rep2)
    assert client.get(reverse("imports:mapping", args=[job.pk])).status_code == 403
    assert client.post(reverse("imports:cancel", args=[job.pk])).status_code == 403


# --- Files that cannot be imported: a message, never a 500 ------------------------------


def refused(client, content: bytes) -> str:
    response = upload(client, content)
    assert response.status_code == 200
    assert not ImportJob.objects.exists()
    return " ".join(response.context["form"].errors["file"])


def test_an_empty_file_is_refused(client, rep):
    client.force_login(rep)
    assert "empty" in refused(client, b"")
    assert "empty" in refused(client, b"\n\n  \n")


def test_a_header_without_rows_is_refused(client, rep):
    client.force_login(rep)
    assert "no rows" in refused(client, b"Topic,Last name\n")


def test_a_binary_file_is_refused(client, rep):
    client.force_login(rep)
    xlsx = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)) * 4
    assert "not a text file" in refused(client, xlsx)


def test_bytes_that_are_not_utf8_are_read_as_latin1(client, rep):
    client.force_login(rep)
    # 0x81 and 0x8d are undefined in Windows-1252: only Latin-1 reads them.
    job = uploaded_job(client, b"Topic,Last name\nCaf\xe9\x81,N\x8d\n")
    assert job.encoding == "latin-1"
    map_and_run(client, job)
    assert Lead.objects.get().topic == "Café\x81"


def test_a_broken_quote_is_refused_with_its_line(client, rep):
    client.force_login(rep)
    message = refused(client, b'Topic,Last name\nA,B\n"C,D\n')
    assert "Line 3" in message


def test_missing_required_columns_are_named(client, rep):
    client.force_login(rep)
    job = uploaded_job(client, b"Nickname,Email\nBob,bob@example.com\n")
    response = client.post(
        reverse("imports:mapping", args=[job.pk]), {"email": "1", "duplicates": "skip"}
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "Topic" in errors and "Last name or Company" in errors
    job.refresh_from_db()
    assert job.status == ImportJob.Status.MAPPING


def test_the_default_limit_takes_a_million_rows_and_the_page_says_it(client, rep):
    client.force_login(rep)
    assert services.max_bytes() == 200 * 1024 * 1024  # a million Salesforce rows: ~150 MB
    assert "Files up to 200 MB" in client.get(reverse("imports:upload")).content.decode()


def test_the_limit_is_configurable(client, rep, settings):
    settings.IMPORT_MAX_BYTES = 20
    client.force_login(rep)
    assert "the limit is 0 MB" in refused(client, b"Topic,Last name\nA,B\nC,D\n")


def test_failed_rows_csv_neutralises_formulas(client, rep):
    client.force_login(rep)
    job = map_and_run(client, uploaded_job(client, b"Topic,Last name,Rating\n=1+1,X,Boiling\n"))
    [row] = problems_csv(client, job)
    assert row["Topic"] == "'=1+1"
    assert ImportProblem.objects.get().values == ["=1+1", "X", "Boiling"]


def test_leads_without_an_owner_column_are_routed(client, rep, rep2):
    rule = RoutingRule.objects.create(name="Hot leads", order=1, rating="hot", assign_to=rep2)
    client.force_login(rep)
    content = b"Topic,Last name,Rating\nA,One,Hot\nB,Two,Cold\n"
    map_and_run(client, uploaded_job(client, content))
    a, b = Lead.objects.get(topic="A"), Lead.objects.get(topic="B")
    assert (a.owner, a.routed_by_rule) == (rep2, rule)
    assert (b.owner, b.routed_by_rule) == (rep, None)
    assert a.history.get().history_user == rep
