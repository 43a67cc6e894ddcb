"""Webhooks to a receiver on 127.0.0.1: signed (Standard Webhooks), a record's
events in order, retried after a 500, nothing before or without a commit, an
endpoint that keeps failing switched off."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from api.models import WebhookDelivery, WebhookEndpoint
from crm import jobs
from crm.models import Job, Notification
from leads import services
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


class Receiver:
    """An HTTP server in a thread that answers the queued statuses (then 200)
    and keeps what it was sent."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append({"headers": headers, "body": body})
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"server error")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, secret: str) -> list[str]:
        """The event types received, each signature checked."""
        hook = Webhook(secret)
        return [hook.verify(r["body"], r["headers"])["type"] for r in self.received]


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.server.shutdown()


def test_a_records_events_arrive_signed_and_in_order(receiver, rep):
    endpoint = WebhookEndpoint.objects.create(url=receiver.url)
    lead = services.create_lead(user=rep, topic="Hooked", last_name="Ng", company_name="Ng Ltd")
    services.update_lead(lead=lead, user=rep, topic="Hooked again")
    services.qualify_lead(
        lead=lead, user=rep, create_account=True, create_contact=True, create_opportunity=True
    )
    assert receiver.received == []  # nothing in the request: jobs send them

    jobs.run_queued()

    assert receiver.events(endpoint.secret) == [
        "lead.created",
        "lead.updated",
        "opportunity.created",
        "lead.qualified",
    ]
    first = receiver.received[0]
    assert first["headers"]["webhook-id"].startswith("msg_")
    qualified = json.loads(receiver.received[-1]["body"])
    assert qualified["data"]["id"] == lead.pk and qualified["data"]["state"] == "qualified"
    assert WebhookDelivery.objects.filter(status="delivered").count() == 4


def test_a_failed_delivery_is_tried_again_and_its_records_next_event_waits(receiver, rep, settings):
    settings.WEBHOOK_BACKOFF_SECONDS = 0
    endpoint = WebhookEndpoint.objects.create(
        url=receiver.url, events=["lead.created", "lead.updated"]
    )
    receiver.answers = [500]
    first = services.create_lead(user=rep, topic="Retry me", last_name="Ng")
    services.update_lead(lead=first, user=rep, topic="Retried")
    services.create_lead(user=rep, topic="Other lead", last_name="Ok")

    jobs.run_queued()

    created = WebhookDelivery.objects.order_by("pk").first()
    assert (created.status, created.attempts, created.last_status_code) == ("delivered", 2, 200)
    assert created.last_response == "ok"
    topics = [
        (json.loads(r["body"])["type"], json.loads(r["body"])["data"]["topic"])
        for r in receiver.received
    ]
    of_first = [t for t in topics if t[1] in ("Retry me", "Retried")]
    # Tried twice (the 500, then the retry with the same webhook-id), then its update.
    assert of_first == [
        ("lead.created", "Retry me"),
        ("lead.created", "Retry me"),
        ("lead.updated", "Retried"),
    ]
    ids = [r["headers"]["webhook-id"] for r in receiver.received]
    assert ids.count(created.message_id) == 2
    assert len(receiver.events(endpoint.secret)) == 4


def test_a_rolled_back_change_sends_nothing(receiver, rep):
    WebhookEndpoint.objects.create(url=receiver.url)
    lead = LeadFactory(owner=rep)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.qualify_lead(lead=lead, user=rep, create_opportunity=False)
        raise RuntimeError("the request failed after the qualify")
    assert not WebhookDelivery.objects.exists() and not Job.objects.exists()
    jobs.run_queued()
    assert receiver.received == []


def test_an_endpoint_that_keeps_failing_is_switched_off_and_admins_told(receiver, rep, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    settings.WEBHOOK_DISABLE_AFTER = 2
    admin = UserFactory(is_superuser=True, is_staff=True)
    endpoint = WebhookEndpoint.objects.create(url=receiver.url)
    receiver.answers = [500] * 10
    for i in range(3):
        services.create_lead(user=rep, topic=f"Lost {i}", last_name="Ng")

    jobs.run_queued()

    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == [
        "pending",
        "failed",
        "failed",
    ]  # the newest waits: its endpoint is off
    notice = Notification.objects.get(user=admin)
    assert notice.kind == "webhook_off" and receiver.url in notice.text


def test_an_endpoint_gets_only_the_events_it_chose_and_a_replay(receiver, rep):
    from api import webhooks

    endpoint = WebhookEndpoint.objects.create(url=receiver.url, events=["lead.disqualified"])
    lead = services.create_lead(user=rep, topic="Quiet", last_name="Ng")
    services.disqualify_lead(lead=lead, user=rep, reason="lost")
    jobs.run_queued()
    assert receiver.events(endpoint.secret) == ["lead.disqualified"]

    webhooks.replay(WebhookDelivery.objects.get())
    jobs.run_queued()
    assert receiver.events(endpoint.secret) == ["lead.disqualified"] * 2
    assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1
