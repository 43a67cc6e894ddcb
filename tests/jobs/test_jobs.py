"""The job machinery (crm.jobs, crm.schedule): sent after commit, run once,
retried, taken over from a dead worker, resent when the queue lost it."""

from datetime import timedelta

import pytest
from django.db import OperationalError, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm import jobs, schedule
from crm.models import Job, ScheduledRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch):
    """A job kind "test.count" whose runs are recorded; `calls.fail` makes the
    next runs raise what it holds."""

    class Calls(list):
        fail: list

    record = Calls()
    record.fail = []

    def count(job):
        record.append(job.arguments)
        if record.fail:
            raise record.fail.pop(0)

    monkeypatch.setitem(jobs.HANDLERS, "test.count", count)
    return record


def test_a_job_is_sent_to_the_backend_only_when_its_transaction_commits(
    calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = jobs.start("test.count", label="Count", n=1)
        assert not DBTaskResult.objects.exists()  # not before the commit
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.sent_at is not None
    sent = DBTaskResult.objects.get()
    assert str(sent.id) == job.task_id and sent.args_kwargs["args"] == [job.pk]


def test_a_rolled_back_request_leaves_no_job(calls, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        jobs.start("test.count", label="Count")
        raise RuntimeError("the request failed")
    assert not Job.objects.exists() and not DBTaskResult.objects.exists()


def test_an_unknown_kind_is_refused():
    with pytest.raises(LookupError):
        jobs.start("no.such.kind", label="Nothing")


def test_a_job_runs_once_even_when_its_message_comes_twice(calls):
    job = jobs.start("test.count", label="Count", n=1)

    assert jobs.run(job.pk) == "done"
    assert jobs.run(job.pk) == "nothing to do"

    job.refresh_from_db()
    assert calls == [{"n": 1}]
    assert (job.status, job.attempts, job.error) == (Job.Status.DONE, 1, "")
    assert job.started_at and job.finished_at and job.worker


def test_a_failed_job_keeps_its_error_and_a_retry_runs_it_again(
    calls, django_capture_on_commit_callbacks
):
    calls.fail.append(ValueError("bad data in row 7"))
    job = jobs.start("test.count", label="Count")

    assert jobs.run(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "bad data in row 7" in job.error

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.retry(job) is True
    assert jobs.retry(job) is False  # queued now, not failed
    assert jobs.run(job.pk) == "done"
    job.refresh_from_db()
    assert (job.status, job.attempts, len(calls)) == (Job.Status.DONE, 2, 2)


def test_a_busy_database_defers_the_job_then_fails_it_after_the_last_attempt(
    calls, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_MAX_ATTEMPTS = 2
    calls.fail += [OperationalError("database is locked")] * 2
    job = jobs.start("test.count", label="Count")

    assert jobs.run(job.pk) == "deferred"
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and "database is locked" in job.error
    later = DBTaskResult.objects.get(id=job.task_id)
    assert later.run_after > timezone.now()  # not before its back-off

    assert jobs.run(job.pk) == "failed"
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.FAILED, 2)


def test_a_job_whose_worker_died_is_sent_again_and_taken_over(calls, settings):
    settings.JOBS_STALE_AFTER = timedelta(minutes=2)
    job = jobs.start("test.count", label="Count")
    # A worker took it and was killed: running, no beat for three minutes.
    dead_at = timezone.now() - timedelta(minutes=3)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, attempts=1, heartbeat_at=dead_at, worker="dead"
    )
    live = jobs.start("test.count", label="Alive")
    Job.objects.filter(pk=live.pk).update(
        status=Job.Status.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )

    assert jobs.sweep() == 1  # the dead one, not the live one
    job.refresh_from_db()
    assert job.task_id and DBTaskResult.objects.filter(id=job.task_id).exists()
    assert jobs.run(live.pk) == "running elsewhere"
    assert jobs.run(job.pk) == "done"
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.DONE, 2)


def test_a_run_given_up_for_dead_stops_at_its_next_beat_and_records_nothing(calls):
    job = jobs.start("test.count", label="Count")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, attempts=1)
    job.refresh_from_db()
    # Another worker took the job over (attempt 2) and finished it.
    Job.objects.filter(pk=job.pk).update(attempts=2, status=Job.Status.DONE)

    with pytest.raises(jobs.Superseded):
        jobs.beat(job)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.DONE, 2)


def test_a_job_the_queue_refused_stays_queued_and_is_sent_when_it_is_back(
    calls, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from crm import tasks

    class Down:
        def enqueue(self, *args):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    real = tasks.run_job
    monkeypatch.setattr(tasks, "run_job", Down())
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start("test.count", label="Count")  # the request itself succeeds
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.task_id == ""

    monkeypatch.setattr(tasks, "run_job", real)
    settings.JOBS_RESEND_AFTER = timedelta(0)
    assert jobs.sweep(now=timezone.now() + timedelta(seconds=1)) == 1
    job.refresh_from_db()
    assert DBTaskResult.objects.filter(id=job.task_id).exists()
    assert jobs.sweep(now=timezone.now() + timedelta(seconds=1)) == 0  # held now


def test_each_scheduled_entry_starts_once_per_period_whatever_the_number_of_workers():
    monday = timezone.now().replace(hour=3, minute=0)
    first = schedule.tick(now=monday)
    assert {job.kind for job in first} == {entry.kind for entry in schedule.SCHEDULE}
    assert schedule.tick(now=monday + timedelta(minutes=1)) == []  # another worker, same day
    assert ScheduledRun.objects.count() == len(schedule.SCHEDULE)
    tuesday = schedule.tick(now=monday + timedelta(days=1))
    assert len(tuesday) == len(schedule.SCHEDULE)


def test_the_scheduled_jobs_run(django_capture_on_commit_callbacks):
    old = jobs.start("crm.prune_files", label="Old")
    Job.objects.filter(pk=old.pk).update(
        status=Job.Status.DONE, created_at=timezone.now() - timedelta(days=60)
    )
    for job in schedule.tick():
        assert jobs.run(job.pk) == "done", Job.objects.get(pk=job.pk).error
    assert not Job.objects.filter(pk=old.pk).exists()  # pruned


def test_managers_see_the_jobs_with_their_errors_and_retry_a_failed_one(
    client, manager, rep, calls, django_capture_on_commit_callbacks
):
    calls.fail.append(ValueError("the mail server said no"))
    failed = jobs.start("test.count", label="Send the welcome email", user=rep)
    jobs.run(failed.pk)
    done = jobs.start("test.count", label="Tidy up")
    jobs.run(done.pk)
    client.force_login(manager)

    page = client.get(reverse("jobs:list"), {"status": "failed"}).content.decode()
    assert "Send the welcome email" in page and "the mail server said no" in page
    assert "Tidy up" not in page
    assert "Tidy up" in client.get(reverse("jobs:list")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("jobs:retry", args=[failed.pk]), follow=True)
    assert "is queued again" in response.content.decode()
    assert jobs.run(failed.pk) == "done"
    response = client.post(reverse("jobs:retry", args=[done.pk]), follow=True)
    assert "only a failed job is retried" in response.content.decode()
