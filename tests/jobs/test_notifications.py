"""Notifications: who is told what, the bell, the page, and emails sent once by
a job after commit."""

import pytest
from django.core import mail
from django.urls import reverse

from crm import events, jobs
from crm.models import Job, Notification
from imports.models import ImportJob
from leads import services as lead_services
from leads.models import Lead, RoutingRule
from leads.web_to_lead import create_web_lead
from opportunities import services as opportunity_services
from tests.factories import LeadFactory, OpportunityFactory
from tests.imports.helpers import map_and_run, uploaded_job

pytestmark = pytest.mark.django_db


def told(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("text", flat=True))


def test_a_lead_routed_to_a_rep_tells_them_and_nobody_else(rep, rep2, manager):
    RoutingRule.objects.create(name="Web", order=1, lead_source="web", assign_to=rep2)

    lead = lead_services.create_lead(
        user=manager, topic="Kiosks", last_name="Ng", lead_source="web"
    )

    assert lead.owner == rep2
    giver = manager.get_full_name() or manager.get_username()
    assert told(rep2) == [f"{giver} assigned you the lead “{lead}”."]
    assert told(manager) == [] and told(rep) == []
    assert Notification.objects.get(user=rep2).url == lead.get_absolute_url()


def test_nobody_is_told_of_what_they_gave_themselves(rep):
    lead_services.create_lead(user=rep, topic="Mine", last_name="Ng")
    OpportunityFactory(owner=rep)
    assert not Notification.objects.exists()


def test_a_managers_reassignment_tells_the_new_owner(rep, rep2, manager):
    lead = LeadFactory(owner=rep)
    opportunity = OpportunityFactory(owner=rep)

    lead_services.update_lead(lead=lead, user=manager, owner=rep2)
    opportunity_services.update_opportunity(opportunity=opportunity, user=manager, owner=rep2)
    lead_services.update_lead(lead=lead, user=manager, topic="Renamed")  # no new owner

    texts = told(rep2)
    assert len(texts) == 2
    assert "the lead “" in texts[1] and "the opportunity “" in texts[0]
    assert told(rep) == []


def test_a_web_form_lead_tells_its_routed_owner(rep):
    from leads.models import WebToLeadForm

    RoutingRule.objects.create(name="All", order=1, assign_to=rep)
    form = WebToLeadForm.objects.create(name="Contact us")
    lead = create_web_lead(
        form=form, data={"topic": "Enquiry", "last_name": "Ng", "email": "ng@example.com"}
    )

    assert told(rep) == [f"The lead “{lead}” was routed to you."]


def test_an_import_tells_the_importer_and_each_owner_once(client, rep, rep2, settings):
    settings.IMPORT_BATCH_SIZE = 2
    RoutingRule.objects.create(name="Web", order=1, lead_source="web", assign_to=rep2)
    client.force_login(rep)
    rows = b"".join(b"T%d,N%d,Web\n" % (i, i) for i in range(5)) + b"T9,N9,Partner\n"
    job = uploaded_job(client, b"Topic,Last name,Lead source\n" + rows, "spring.csv")

    job = map_and_run(client, job)

    assert (job.status, job.imported) == (ImportJob.Status.DONE, 6)
    assert told(rep) == ["Your import of spring.csv finished: 6 imported, 0 skipped, 0 failed."]
    assert told(rep2) == ["5 leads from the import of spring.csv were assigned to you."]
    assert Lead.objects.filter(owner=rep2).count() == 5


def test_a_cancelled_import_says_so(client, rep, settings):
    settings.IMPORT_BATCH_SIZE = 2
    client.force_login(rep)
    rows = b"".join(b"T%d,N%d\n" % (i, i) for i in range(6))
    job = uploaded_job(client, b"Topic,Last name\n" + rows)
    client.post(
        reverse("imports:mapping", args=[job.pk]),
        {"topic": "0", "last_name": "1", "duplicates": "skip"},
    )
    from imports import services

    services.import_next_batch(job=job, user=rep)  # the worker's first batch

    response = client.post(reverse("imports:cancel", args=[job.pk]), follow=True)

    assert "The import was cancelled" in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.imported, job.failed, job.rows_done) == ("cancelled", 2, 4, 6)
    assert job.file == "" and "Cancelled by" in job.error
    jobs.run_queued()  # the worker's loop finds it cancelled and stops
    assert Lead.objects.count() == 2
    assert "ended early (cancelled): 2 imported, 0 skipped, 4 failed." in told(rep)[0]
    response = client.post(reverse("imports:cancel", args=[job.pk]), follow=True)
    assert "already finished" in response.content.decode()


def test_an_email_is_sent_by_a_job_after_commit_and_only_once(
    rep, manager, settings, django_capture_on_commit_callbacks
):
    settings.LEADLINE_BASE_URL = "https://crm.example.com"
    rep.email = "rep@example.com"
    rep.save()
    events.set_email_kinds(user=rep, kinds=[Notification.Kind.ASSIGNED])
    lead = LeadFactory(owner=manager)

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.update_lead(lead=lead, user=manager, owner=rep)
    assert mail.outbox == []  # not in the request: a job sends it

    job = Job.objects.get(kind="crm.email_notification")
    jobs.run(job.pk)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)
    jobs.run(job.pk)  # delivered twice: sent once

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rep@example.com"]
    assert f"https://crm.example.com{lead.get_absolute_url()}" in mail.outbox[0].body
    assert Notification.objects.get(user=rep).emailed_at is not None


def test_no_email_without_the_preference_or_an_address(rep, manager):
    events.set_email_kinds(user=rep, kinds=[Notification.Kind.IMPORT_DONE])
    lead_services.update_lead(lead=LeadFactory(owner=manager), user=manager, owner=rep)
    assert not Job.objects.filter(kind="crm.email_notification").exists()
    assert Notification.objects.filter(user=rep).count() == 1


def test_the_bell_counts_unread_and_the_page_marks_them_read(client, rep, rep2):
    lead = LeadFactory(owner=rep)
    for text in ("One", "Two"):
        events.notify(rep, Notification.Kind.ASSIGNED, text, lead.get_absolute_url())
    events.notify(rep2, Notification.Kind.ASSIGNED, "Someone else's")
    client.force_login(rep)

    bell = client.get(reverse("notifications:bell")).content.decode()
    assert 'data-testid="bell-count">2<' in bell and "2 unread" in bell

    first = Notification.objects.get(text="One")
    response = client.post(reverse("notifications:open", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == lead.get_absolute_url()
    assert 'bell-count">1<' in client.get(reverse("notifications:bell")).content.decode()

    page = client.get(reverse("notifications:list")).content.decode()
    assert "One" in page and "Two" in page and "Someone else" not in page
    client.post(reverse("notifications:mark_all_read"))
    assert "bell-count" not in client.get(reverse("notifications:bell")).content.decode()
    assert Notification.objects.filter(user=rep2, read_at=None).count() == 1


def test_email_preferences_are_saved_from_the_page(client, rep):
    client.force_login(rep)
    client.post(reverse("notifications:email"), {"kinds": ["import_done", "assigned"]})
    assert events.email_kinds(rep) == ["assigned", "import_done"]
    response = client.post(reverse("notifications:email"), {"kinds": ["nonsense"]}, follow=True)
    assert "nothing was changed" in response.content.decode()
    assert events.email_kinds(rep) == ["assigned", "import_done"]
