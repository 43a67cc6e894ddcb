"""Reads for timelines, My Activities and the stakeholder contact search."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Model, Q, QuerySet, Value
from django.utils import timezone

from accounts.models import Contact

from .models import Activity, Connection, Note
from .services import regarding_filter

TIMELINE_PAGE_SIZE = 20


@dataclass
class TimelinePage:
    items: list[Note | Activity] = field(default_factory=list)
    number: int = 1
    has_next: bool = False

    @property
    def has_previous(self) -> bool:
        return self.number > 1


# Beyond any real timeline (two million items); a larger ?timeline_page= shows an empty page.
MAX_TIMELINE_PAGE = 100_000


def timeline(record: Model, *, page: int | str | None = 1, per_page: int = TIMELINE_PAGE_SIZE):
    """One page of a record's notes and activities merged, newest first.

    A fixed number of queries whatever the timeline's length. The first page
    (what a record page shows) is two: the newest notes and the newest
    activities, each with its author or owner joined in, merged here. Later
    pages are three: the merged (kind, id) page from a UNION of two index
    scans, then the notes and the activities on it. Fetching one row more than
    a page tells whether there is an older page without counting.
    """
    try:
        # Capped so that no page number, however large, overflows the OFFSET.
        number = min(max(1, int(page or 1)), MAX_TIMELINE_PAGE)
    except (TypeError, ValueError):
        number = 1
    where = regarding_filter(record)
    notes = Note.objects.filter(**where).select_related("author")
    activities = Activity.objects.filter(**where).select_related("owner")
    if number == 1:
        newest = ("-created_at", "-id")
        items = sorted(
            [
                *notes.order_by(*newest)[: per_page + 1],
                *activities.order_by(*newest)[: per_page + 1],
            ],
            key=lambda item: (item.created_at, item.pk),
            reverse=True,
        )
    else:
        items = _timeline_page(notes, activities, start=(number - 1) * per_page, size=per_page + 1)
    return TimelinePage(items=items[:per_page], number=number, has_next=len(items) > per_page)


def _timeline_page(notes: QuerySet, activities: QuerySet, *, start: int, size: int) -> list:
    """`size` items from `start` of the merged timeline: the page's (kind, id)
    pairs from a UNION, then those notes and activities."""
    # order_by() drops the models' default ordering, which a UNION part may not have.
    rows = list(
        notes.order_by()
        .annotate(kind=Value("note"))
        .values_list("id", "created_at", "kind")
        .union(
            activities.order_by()
            .annotate(kind=Value("activity"))
            .values_list("id", "created_at", "kind"),
            all=True,
        )
        .order_by("-created_at", "-id")[start : start + size]
    )
    note_ids = [pk for pk, _, kind in rows if kind == "note"]
    activity_ids = [pk for pk, _, kind in rows if kind == "activity"]
    found: dict[tuple[str, int], Note | Activity] = {}
    if note_ids:
        found |= {("note", note.pk): note for note in notes.filter(pk__in=note_ids)}
    if activity_ids:
        found |= {("activity", a.pk): a for a in activities.filter(pk__in=activity_ids)}
    return [found[kind, pk] for pk, _, kind in rows if (kind, pk) in found]


def stakeholders(record: Model) -> QuerySet[Connection]:
    kind = record._meta.model_name
    return (
        Connection.objects.filter(**{kind: record})
        .select_related("contact", "contact__account")
        .order_by("created_at", "pk")
    )


def search_contacts(query: str, *, exclude: QuerySet | None = None, limit: int = 10):
    """Active contacts matching every word of `query` by first or last name,
    email or account name (prefix match, so indexes on those columns apply)."""
    words = query.split()[:4]
    if not words:
        return Contact.objects.none()
    contacts = Contact.objects.filter(is_active=True)
    for word in words:
        contacts = contacts.filter(
            Q(first_name__istartswith=word)
            | Q(last_name__istartswith=word)
            | Q(email__istartswith=word)
            | Q(account__name__istartswith=word)
        )
    if exclude is not None:
        contacts = contacts.exclude(pk__in=exclude)
    return contacts.select_related("account").order_by("last_name", "first_name", "pk")[:limit]


# --- My Activities -------------------------------------------------------------------------

DUE_CHOICES = (
    ("overdue", "Overdue"),
    ("today", "Due today"),
    ("week", "Due this week"),
)


def due_range(due: str, *, now=None) -> Q:
    """The due-date condition for 'overdue', 'today' or 'week' (in the current time zone)."""
    now = timezone.localtime(now or timezone.now())
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if due == "overdue":
        return Q(due_at__lt=now, status=Activity.Status.OPEN)
    if due == "today":
        return Q(due_at__gte=start_of_day, due_at__lt=start_of_day + timedelta(days=1))
    if due == "week":
        monday = start_of_day - timedelta(days=start_of_day.weekday())
        return Q(due_at__gte=monday, due_at__lt=monday + timedelta(days=7))
    return Q()


def my_activities(*, user) -> QuerySet[Activity]:
    """The user's activities with what the list shows joined in."""
    return Activity.objects.filter(owner=user).select_related(
        "lead", "account", "contact", "opportunity"
    )
