"""The pure parts of the load run: reading the app's answers, the figures, the checks.

No Django and no locust here: locustfile.py and run.py both import this module,
and tests/test_load_script.py tests it on plain data.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LEAD_PATH = re.compile(r"^/leads/(\d+)/$")
OPPORTUNITY_PATH = re.compile(r"^/opportunities/(\d+)/$")
# The duplicate warning that lead_qualify renders instead of qualifying.
DUPLICATE_WARNING = 'data-testid="duplicate-warning"'

QUALIFIED, DUPLICATES, REFUSED, UNEXPECTED = "qualified", "duplicates", "refused", "unexpected"
ALL_REQUESTS = "All requests"
# Each user signs in once, at its start; the password hash makes that the dearest request.
SIGN_IN_PAGE, SIGN_IN = "GET /login/", "POST /login/"


# --- Reading the app's answers -----------------------------------------------------------------


def csrf_token(html: str | None) -> str | None:
    """The CSRF token of the first form on a page."""
    match = CSRF_INPUT.search(html or "")
    return match.group(1) if match else None


def _path(location: str | None) -> str:
    return urlsplit(location or "").path


def lead_id_from_location(location: str | None) -> int | None:
    """The lead a create answered with, from its redirect to /leads/<id>/."""
    match = LEAD_PATH.match(_path(location))
    return int(match.group(1)) if match else None


def qualify_outcome(
    *, status: int, location: str | None, body: str | None, lead_id: int
) -> tuple[str, int | None]:
    """What a qualify POST answered, and the opportunity it was sent to if any.

    Qualified: a redirect to the new opportunity. Duplicates: the duplicate
    warning page (nothing was created). Refused: a redirect back to the lead
    with an error message. Anything else is unexpected.
    """
    if status == 302:
        match = OPPORTUNITY_PATH.match(_path(location))
        if match:
            return QUALIFIED, int(match.group(1))
        if lead_id_from_location(location) == lead_id:
            return REFUSED, None
    if status == 200 and DUPLICATE_WARNING in (body or ""):
        return DUPLICATES, None
    return UNEXPECTED, None


# --- What the clients recorded -----------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One request as a load client saw it. status 0: no HTTP answer (connection error)."""

    name: str
    start: float  # seconds since the epoch
    ms: float
    status: int
    ok: bool

    @property
    def end(self) -> float:
        return self.start + self.ms / 1000


@dataclass
class ClientRecord:
    """Everything the load clients recorded in one run (locustfile.py writes it as JSON)."""

    tag: str
    samples: list[Sample] = field(default_factory=list)
    created: dict[int, str] = field(default_factory=dict)  # lead id -> topic
    qualify: dict[int, tuple[str, int | None]] = field(default_factory=dict)  # -> outcome, opp
    user_errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "tag": self.tag,
            "samples": [[s.name, s.start, s.ms, s.status, s.ok] for s in self.samples],
            "created": self.created,
            "qualify": {k: list(v) for k, v in self.qualify.items()},
            "user_errors": self.user_errors,
        }

    @classmethod
    def from_json(cls, data: dict) -> ClientRecord:
        # JSON object keys are strings: the lead ids become ints again here.
        return cls(
            tag=data["tag"],
            samples=[Sample(*row) for row in data["samples"]],
            created={int(k): v for k, v in data["created"].items()},
            qualify={int(k): (v[0], v[1]) for k, v in data["qualify"].items()},
            user_errors=list(data["user_errors"]),
        )


# --- The figures --------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least pct % of the values at
    or below it (so p100 is the maximum and a single value is every percentile)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def run_seconds(samples: list[Sample]) -> float:
    """From the first request's start to the last answer."""
    if not samples:
        return 0.0
    return max(s.end for s in samples) - min(s.start for s in samples)


def after_sign_ins(samples: list[Sample]) -> tuple[list[Sample], float]:
    """The requests started once the last sign-in was answered (when every user is
    working), and how many seconds into the run that was."""
    sign_ins = [s.end for s in samples if s.name in (SIGN_IN_PAGE, SIGN_IN)]
    if not sign_ins:
        return samples, 0.0
    cutoff = max(sign_ins)
    return [s for s in samples if s.start >= cutoff], cutoff - min(s.start for s in samples)


@dataclass
class Row:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    max: float


def summarise(samples: list[Sample]) -> list[Row]:
    """One row per request type (in first-seen order), then all requests together."""
    seconds = run_seconds(samples)
    groups: dict[str, list[Sample]] = {}
    for sample in samples:
        groups.setdefault(sample.name, []).append(sample)
    groups[ALL_REQUESTS] = samples

    def row(name: str, group: list[Sample]) -> Row:
        times = [s.ms for s in group]
        return Row(
            name=name,
            requests=len(group),
            failures=sum(not s.ok for s in group),
            rps=round(len(group) / seconds, 2) if seconds else 0.0,
            p50=round(percentile(times, 50), 1),
            p95=round(percentile(times, 95), 1),
            p99=round(percentile(times, 99), 1),
            max=round(max(times, default=math.nan), 1),
        )

    return [row(name, group) for name, group in groups.items()]


def format_table(rows: list[Row]) -> str:
    header = (
        f"{'request':<30} {'requests':>8} {'fails':>6} {'req/s':>7} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        if r.name == ALL_REQUESTS:
            lines.append("-" * len(header))
        lines.append(
            f"{r.name:<30} {r.requests:>8} {r.failures:>6} {r.rps:>7.1f} "
            f"{r.p50:>8.0f} {r.p95:>8.0f} {r.p99:>8.0f} {r.max:>8.0f}"
        )
    return "\n".join(lines)


# --- Nothing lost -------------------------------------------------------------------------------


@dataclass
class DatabaseRecord:
    """What the database holds for the leads carrying the run's tag, read after the run."""

    leads: dict[int, dict]  # lead id -> state, qualified_account/contact/opportunity ids
    opportunities: dict[int, list[int]]  # lead id -> opportunities whose originating lead it is
    accounts: dict[int, list[int]]  # lead id -> accounts named as the lead's (unique) company
    contacts: dict[int, list[int]]  # lead id -> contacts with the lead's (unique) email


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _ids(ids, limit: int = 10) -> str:
    ids = sorted(ids)
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(map(str, ids[:limit])) + more


def verify(client: ClientRecord, db: DatabaseRecord) -> list[Check]:
    """Compare what the clients were told with what the database holds."""
    checks = []
    samples = client.samples

    server_errors = Counter(s.name for s in samples if s.status >= 500)
    checks.append(
        Check(
            "no 5xx answers",
            not server_errors,
            f"{sum(server_errors.values())} 5xx answers"
            + (f": {dict(server_errors)}" if server_errors else ""),
        )
    )
    failed = Counter(f"{s.name} -> {s.status or 'no answer'}" for s in samples if not s.ok)
    checks.append(
        Check(
            "no failed requests (4xx, no answer, unexpected answer)",
            not failed and not client.user_errors,
            f"{sum(failed.values())} failed"
            + (f": {dict(failed.most_common(5))}" if failed else "")
            + (
                f"; {len(client.user_errors)} errors in the load script"
                if client.user_errors
                else ""
            ),
        )
    )

    in_db, answered = set(db.leads), set(client.created)
    checks.append(
        Check(
            "leads in the database = successful create answers",
            in_db == answered,
            f"{len(in_db)} tagged leads in the database, {len(answered)} create answers "
            "redirected to their new lead"
            + (f"; not in the database: {_ids(answered - in_db)}" if answered - in_db else "")
            + (f"; never answered: {_ids(in_db - answered)}" if in_db - answered else ""),
        )
    )

    qualified = {
        lead: opp for lead, (outcome, opp) in client.qualify.items() if outcome == QUALIFIED
    }
    wrong_opportunity = {
        lead
        for lead, opp in qualified.items()
        if db.opportunities.get(lead, []) != [opp]
        or db.leads.get(lead, {}).get("qualified_opportunity") != opp
    }
    checks.append(
        Check(
            "each qualified lead has exactly one opportunity",
            not wrong_opportunity,
            f"{len(qualified) - len(wrong_opportunity)} of {len(qualified)} qualified leads have "
            "exactly one opportunity, the one the client was sent to"
            + (f"; wrong: {_ids(wrong_opportunity)}" if wrong_opportunity else ""),
        )
    )

    def one_linked(lead: int, found: dict[int, list[int]], link: str) -> bool:
        linked = db.leads.get(lead, {}).get(link)
        return linked is not None and found.get(lead, []) == [linked]

    wrong_records = {
        lead
        for lead in qualified
        if not one_linked(lead, db.accounts, "qualified_account")
        or not one_linked(lead, db.contacts, "qualified_contact")
    }
    checks.append(
        Check(
            "each qualified lead has one account and one contact",
            not wrong_records,
            f"{len(qualified) - len(wrong_records)} of {len(qualified)} qualified leads have "
            "exactly one account and one contact, linked from the lead"
            + (f"; wrong: {_ids(wrong_records)}" if wrong_records else ""),
        )
    )

    qualified_in_db = {pk for pk, lead in db.leads.items() if lead["state"] == "qualified"}
    untouched = in_db - set(qualified)
    left_records = {
        lead
        for lead in untouched
        if db.opportunities.get(lead) or db.accounts.get(lead) or db.contacts.get(lead)
    }
    checks.append(
        Check(
            "no lead qualified or half-qualified without a qualified answer",
            qualified_in_db == set(qualified) and not left_records,
            f"{len(qualified_in_db)} leads qualified in the database, {len(qualified)} qualified "
            f"answers; {len(untouched)} other tagged leads, "
            f"{len(left_records)} of them with an opportunity, account or contact"
            + (f": {_ids(left_records)}" if left_records else "")
            + (
                f"; qualified without an answer: {_ids(qualified_in_db - set(qualified))}"
                if qualified_in_db - set(qualified)
                else ""
            ),
        )
    )

    checks.append(
        Check(
            "the run created and qualified leads",
            bool(answered) and bool(qualified),
            f"{len(answered)} created, {len(qualified)} qualified",
        )
    )
    return checks


def qualify_outcomes(client: ClientRecord) -> dict[str, int]:
    return dict(Counter(outcome for outcome, _ in client.qualify.values()))


def server_log_check(log: str) -> Check:
    """gunicorn logs a worker that timed out, crashed or was killed at level ERROR or above."""
    errors = [line for line in log.splitlines() if "[ERROR]" in line or "[CRITICAL]" in line]
    return Check(
        "gunicorn logged no errors (worker timeouts or crashes)",
        not errors,
        f"{len(errors)} error lines" + (f", first: {errors[0]}" if errors else ""),
    )
