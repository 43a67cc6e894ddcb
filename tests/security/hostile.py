"""Hostile input for the fuzz tests: Hypothesis strategies, and `submit`, the
check every fuzzed request goes through.

`submit` sends one request and fails the test, with the request that did it,
when the server raised or answered 5xx, or when it refused the input but
changed the database anyway (a row added or removed, a watched record
changed, a file written).
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import constants as message_levels
from django.db import transaction
from django.db.models import Model
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from accounts.models import Account, Contact
from activities.models import Activity, Connection, Note
from leads.models import Lead
from opportunities.models import Opportunity

# Examples per fuzzed form or page: the whole suite runs in about a minute on
# SQLite with 30. For a longer hunt: FUZZ_EXAMPLES=1000 .venv/bin/pytest tests/security
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))

ON_SQLITE = django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
ON_POSTGRESQL = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")

# No example database: it would be written into the work tree (.hypothesis/).
# A failure prints its @reproduce_failure blob instead.
fuzz = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

WATCHED_MODELS: tuple[type[Model], ...] = (
    Lead,
    Account,
    Contact,
    Opportunity,
    Note,
    Activity,
    Connection,
)

# --- Strategies ----------------------------------------------------------------------------

# Any code point a form can carry: lone surrogates cannot be encoded in a request.
ANY_CHARACTER = st.characters(blacklist_categories=("Cs",))
# What a person may type: no control characters (NUL among them).
TYPED_CHARACTER = st.characters(blacklist_categories=("Cs", "Cc"))

NASTY_STRINGS = [
    "\x00",
    "a\x00b",
    "\x00" * 20,
    "\u202egnp.exe\u202c",  # right-to-left override
    "\u200f\u200e\u200b\u2060",  # direction marks, zero-width space and joiner
    "\ufeffBOM",
    "😀",
    "👩🏽‍💻🏳️‍🌈",
    "שלום עולם",
    "مرحبا بالعالم",
    "𝕳𝖊𝖑𝖑𝖔",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    "İıßẞﬁ",
    "\r\n\r\n",
    "\t \u00a0\u3000",
    "' OR 1=1 --",
    '"; DROP TABLE leads_lead; --',
    "%s %d %n {0} {}",
    "<script>window.__xss=1</script>",
    '"><img src=x onerror="window.__xss=1">',
    "{{7*7}} {% now 'Y' %}",
    "javascript:alert(1)",
    "../../etc/passwd",
    "%00%2e%2e%2f",
]
# 10,000 characters, built by a map so the strategy's repr stays short.
long_strings = st.sampled_from(["x", "😀", "\u202e", "a\x00", "ש"]).map(
    lambda unit: unit * (10_000 // len(unit))
)
# Wrong types for number, decimal, date, choice and foreign key fields.
MALFORMED = [
    "1e309",
    "-1e309",
    "1e-309",
    "NaN",
    "-nan",
    "Infinity",
    "-Infinity",
    "-1",
    "-0",
    "0",
    "1.5",
    "1,000.00",
    "1_000",
    "0x1F",
    "99999999999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "²",
    "١٢٣",
    "Ⅻ",
    "2026-02-30",
    "2026-13-01",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30T25:61",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "yes",
    "on",
    "true",
    "null",
    "None",
    "[]",
    "{}",
    "",
    " ",
]

# Ids (of rows that mostly do not exist) and page numbers that a 64-bit column
# can hold; overflowing ones are the subject of test_query_params.py.
int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str)

texts = st.one_of(
    st.text(ANY_CHARACTER, max_size=40),
    st.sampled_from(NASTY_STRINGS),
    long_strings,
)
malformed = st.sampled_from(MALFORMED)
# A value for any field: text, a wrong type, the id of no row, or a list where
# one value is expected.
hostile = st.one_of(
    texts,
    malformed,
    int64s,
    st.lists(st.one_of(texts, malformed, int64s), min_size=2, max_size=3),
)
# The same without the 10,000-character strings, for the sign-in form (an
# over-long username is a known 500 on PostgreSQL: test_query_params.py).
short_hostile = st.one_of(
    st.text(ANY_CHARACTER, max_size=40), st.sampled_from(NASTY_STRINGS), malformed, int64s
)
# The same, without the numbers past a 64-bit integer, for the values a view
# turns into an int itself (the overflow is test_query_params.py's subject).
OUT_OF_INT64 = {"99999999999999999999999999", "9223372036854775808", "-9223372036854775809"}
malformed_in_range = st.sampled_from([v for v in MALFORMED if v not in OUT_OF_INT64])
hostile_in_range = st.one_of(
    texts,
    malformed_in_range,
    int64s,
    st.lists(st.one_of(texts, malformed_in_range, int64s), min_size=2, max_size=3),
)


def typed_text(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    """Text a person could type into a field of this size (RTL, emoji, combining marks)."""
    return st.text(TYPED_CHARACTER, min_size=min_size, max_size=max_size)


def choice_of(choices, *, blank: bool = True) -> st.SearchStrategy[str]:
    """One of `choices`' values (TextChoices.choices or plain values), or ''
    ('none chosen') when `blank`."""
    values = [c[0] if isinstance(c, tuple) else c for c in choices]
    return st.sampled_from(["", *values] if blank else values)


emails = st.one_of(
    st.sampled_from(["", "ana@example.com", "ünïcødé@example.com", "a+b@sub.example.org"]),
    st.emails().map(str),
)
urls = st.sampled_from(
    [
        "",
        "https://example.com",
        "example.com/path?q=1",
        "http://xn--bcher-kva.example/",
        "https://例え.テスト/パス",
    ]
)
dates = st.dates().map(lambda d: d.isoformat())
datetimes = st.datetimes().map(lambda d: d.isoformat(timespec="minutes"))
money = st.decimals(min_value=0, max_value=10**11, places=2, allow_nan=False).map(str)


def ids(*existing: int) -> st.SearchStrategy[str]:
    """The id of one of the `existing` rows (the ids of no row are in `hostile`)."""
    return st.sampled_from([str(pk) for pk in existing])


# `next` values a view may be handed, including junk a redirect would take
# for a URL name.
next_urls = st.sampled_from(
    [
        "",
        "foo",
        "0",
        "/leads/",
        "//evil.example/",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "http:evil.example",
        "/%0d%0aSet-Cookie:x=1",
        " https://evil.example",
    ]
)


@st.composite
def form_data(
    draw,
    fields: dict[str, st.SearchStrategy],
    *,
    corrupt_at_most: int = 3,
    junk: st.SearchStrategy = hostile,
    fixed: dict[str, st.SearchStrategy] | None = None,
) -> dict:
    """A form's data: each field valid, except a few chosen ones that get hostile
    values (`junk`); a few fields left out, and sometimes an unexpected field
    added. `fixed` fields are always drawn from their own strategy.

    Mostly-valid data is what gets past the form into the services, where the
    half-saved records would be.
    """
    names = sorted(fields)
    corrupt = draw(st.sets(st.sampled_from(names), max_size=min(corrupt_at_most, len(names))))
    missing = draw(st.sets(st.sampled_from(names), max_size=2))
    data = {
        name: draw(junk if name in corrupt else fields[name])
        for name in names
        if name not in missing
    }
    for name, strategy in (fixed or {}).items():
        data[name] = draw(strategy)
    if draw(st.booleans()):
        data[draw(st.sampled_from(["id", "pk", "state", "owner_id", "created_at", "csrf"]))] = draw(
            junk
        )
    return data


# --- The check -----------------------------------------------------------------------------


def counts() -> dict[str, int]:
    return {model.__name__: model._base_manager.count() for model in WATCHED_MODELS}


def state(record: Model) -> dict | None:
    """Every stored column of `record` (None once it is deleted)."""
    fresh = type(record)._base_manager.filter(pk=record.pk).first()
    if fresh is None:
        return None
    return {field.attname: getattr(fresh, field.attname) for field in fresh._meta.concrete_fields}


def media_files() -> list[str]:
    root = Path(django_settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def messages_of(response) -> list:
    """The messages the request added: queued for the next page on a redirect,
    or already moved to the loaded ones when the response rendered them (the
    messages cookie is dropped after each request, so nothing older is there)."""
    storage = getattr(response.wsgi_request, "_messages", None)
    return [*getattr(storage, "_loaded_data", []), *getattr(storage, "_queued_messages", [])]


def succeeded(response) -> bool:
    """Whether the view said it did what was asked (a success message)."""
    return any(m.level == message_levels.SUCCESS for m in messages_of(response))


def submit(
    client,
    method: str,
    url: str,
    data: dict | None = None,
    *,
    watch: tuple[Model, ...] = (),
    created: dict[str, int] | None = None,
    urlencoded: bool = False,
    success=succeeded,
):
    """Send one request and check what the server did with it.

    - The server must not raise (the test client re-raises a view's exception)
      nor answer 5xx.
    - A refusal (no success message, see `success`) must leave every watched
      table's row count, every record in `watch` and MEDIA_ROOT unchanged.
    - A success must change the row counts by exactly `created` (when given):
      no stray rows from a half-done write.

    The request runs in a savepoint, so a database error it causes does not
    poison the test's transaction for the next examples (PostgreSQL).
    """
    data = data or {}
    before = (counts(), [state(r) for r in watch], media_files())
    kwargs = {}
    if method == "post" and urlencoded:
        kwargs = {
            "data": urlencode(data, doseq=True),
            "content_type": "application/x-www-form-urlencoded",
        }
    else:
        kwargs = {"data": data}
    try:
        with transaction.atomic():
            response = getattr(client, method)(url, **kwargs)
    except Exception:
        pytest.fail(
            f"{method.upper()} {url} raised for data={data!r}\n{traceback.format_exc()}",
            pytrace=False,
        )
    finally:
        # Messages are not shown (no redirect is followed): drop them so they do
        # not pile up in the cookie across examples.
        client.cookies.pop("messages", None)
    assert response.status_code < 500, (
        f"{method.upper()} {url} answered {response.status_code} for data={data!r}"
    )
    after = (counts(), [state(r) for r in watch], media_files())
    if currently_in_test_context():
        # How often the examples got through: --hypothesis-show-statistics.
        event(f"{response.status_code} {'done' if success(response) else 'refused'}")
    if not success(response):
        assert after[0] == before[0], f"refused but rows changed: {before[0]} -> {after[0]}"
        assert after[1] == before[1], f"refused but a record changed: {before[1]} -> {after[1]}"
        assert after[2] == before[2], f"refused but files written: {after[2]}"
    elif created is not None:
        delta = {name: after[0][name] - before[0][name] for name in before[0]}
        expected = {name: created.get(name, 0) for name in before[0]}
        assert delta == expected, f"a success changed rows by {delta}, expected {expected}"
    return response


def assert_local_redirect(response) -> None:
    """A redirect, if any, stays on this site (no open redirect through `next`)."""
    if response.status_code in (301, 302, 303, 307, 308):
        location = response["Location"]
        # A path of this site, possibly relative (Django's login view keeps next=foo).
        parts = urlsplit(location)
        assert not parts.scheme and not parts.netloc, location
        assert not location.startswith(("//", "/\\", "\\")), location
