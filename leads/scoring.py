"""Predictive lead scoring, explained: naive Bayes over the organisation's own
qualified and disqualified leads.

Training counts, per feature and value, how many leads closed in the window were
qualified and how many disqualified, with GROUP BY queries (no Python loop over
the leads); a number falls into a quantile bucket. A lead's score is 100 x the
sigmoid of the calibrated sum of its features' terms, each the log ratio of the
smoothed frequency of its value among qualified and among disqualified leads:

    logit = scale * (ln(Q/D) + sum over features of ln(P(value | Q) / P(value | D))) + shift

The explanation shows those same terms: a reason's points are its term's share of
the distance from the base score (nothing known of the lead) to the score, so the
base and the reasons add up to the score. Quality is the AUC on the latest closed
leads, held out of a first training; a model that is not ready is not published.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Now
from django.utils import timezone

from activities.models import Activity, Note
from crm import jobs
from crm.choices import Industry, PurchaseProcess, PurchaseTimeframe
from crm.models import OrganizationSettings

from .models import Lead, LeadSource, Rating, ScoreHistory, ScoringModel, ScoringSettings

logger = logging.getLogger(__name__)

MIN_EACH = 40  # qualified and disqualified leads a model needs
HOLDOUT_SHARE, HOLDOUT_MAX = 0.2, 50_000  # the latest closed leads, kept out to test on
READY_AUC, OK_AUC = 0.75, 0.65
ALPHA = 1.0  # Laplace smoothing of the influence figures
PRIOR_LEADS = 20  # pseudo-leads at the overall odds that each value's own odds start from
CHUNK = 2_000  # leads scored per query
TREND_STEP = 5  # points a score must move to be improving or declining
NONE = "none"
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)

FREE_MAIL = (
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mail.com",
    "gmx.com",
    "gmx.de",
    "web.de",
    "proton.me",
    "protonmail.com",
    "yandex.com",
    "qq.com",
    "163.com",
)
# Job title words by level, checked in this order: the first level with a whole
# word (or phrase) in the title wins, so "Vice President" is not read as
# "President", nor "Director of IT" as a CTO. One case-blind regular expression per
# level, which SQLite (Django's REGEXP) and PostgreSQL (~*) read alike.
SENIORITY = (
    ("head", ("vice.?president", "vp", "svp", "evp", "head of")),
    ("executive", ("chief", "ceo", "cfo", "cto", "coo", "cio", "cmo", "president", "founder")),
    ("director", ("director",)),
    ("manager", ("manager", "lead", "supervisor")),
)


def whole_words(words) -> str:
    """A pattern for any of `words` standing as a word of its own."""
    return "(^|[^a-z])(" + "|".join(words) + ")([^a-z]|$)"


# --- Features ------------------------------------------------------------------------------


@dataclass
class Feature:
    """One thing the model reads of a lead. `sql(now)` is its SQL: a category,
    or a number for a `numeric` feature (bucketed by the training leads'
    quartiles; a `discrete` one, a small count, from its histogram). `labels`
    name the categories; `who(value)` names the leads with a value for the
    explanation ("leads from the web")."""

    name: str
    label: str
    expression: Any
    numeric: bool = False
    discrete: bool = False
    unit: str = ""  # "money" or "days": how a bucket's bounds read
    labels: dict[str, str] | None = None
    who: str = "leads whose {label} is {value_lower}"
    who_by_value: dict[str, str] | None = None  # for a value the pattern reads badly with
    lower: bool = False  # its labels read lower-case in a sentence ("is a company address")

    def sql(self, now: datetime):
        return self.expression(now) if callable(self.expression) else self.expression

    def value_label(self, key: str, edges: list[float], currency: str = "") -> str:
        if self.numeric:
            return bucket_label(key, edges, self, currency)
        labels = self.labels or {}
        if key == NONE and key not in labels:
            return "Not given"
        return labels.get(key, key)

    def in_sentence(self, key: str, value: str) -> str:
        """The value's label as it reads after "Email is": "a company address"."""
        return value[:1].lower() + value[1:] if self.lower or key == NONE else value

    def describe(self, key: str, edges: list[float], currency: str = "") -> str:
        """The leads with this value, in words: "leads from the web"."""
        if self.who_by_value and key in self.who_by_value:
            return self.who_by_value[key]
        if key == NONE:
            return f"leads without a {self.label.lower()}"
        value = self.value_label(key, edges, currency)
        return self.who.format(label=self.label.lower(), value=value, value_lower=value.lower())


def _choices(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value("yes")), default=Value("no"))


def _email_kind() -> Case:
    free = Q()
    for domain in FREE_MAIL:
        free |= Q(email__iendswith=f"@{domain}")
    return Case(
        When(email="", then=Value(NONE)), When(free, then=Value("free")), default=Value("company")
    )


def _seniority() -> Case:
    whens = [When(job_title="", then=Value(NONE))]
    for level, words in SENIORITY:
        whens.append(When(job_title__iregex=whole_words(words), then=Value(level)))
    return Case(*whens, default=Value("staff"))


def _count_before_closing(model):
    """How many of `model` (activities, notes) regard the lead, up to its closing."""

    def sql(now):
        closing = Coalesce(OuterRef("qualified_at"), OuterRef("disqualified_at"), Value(FAR_FUTURE))
        counted = (
            model.objects.filter(lead=OuterRef("pk"), created_at__lte=closing)
            .order_by()
            .values("lead")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(counted, output_field=models.IntegerField()), Value(0))

    return sql


def _days_open(now: datetime):
    """Days from creation to closing (to now, the database's clock, while the
    lead is open: no parameter, so the single-lead query compiles once)."""
    until = Coalesce("qualified_at", "disqualified_at", Now())
    return models.ExpressionWrapper(until - F("created_at"), output_field=models.DurationField())


def _budget_in_base(now: datetime):
    """The budget in the base currency (a currency's rate is its units per base unit)."""
    rate = Cast(Coalesce(F("currency__exchange_rate"), Value(1)), FloatField())
    return models.ExpressionWrapper(Cast("budget_amount", FloatField()) / rate, FloatField())


YES_NO = {"yes": "Yes", "no": "No"}

BUILT_IN = [
    Feature(
        "lead_source",
        "Lead source",
        F("lead_source"),
        labels=_choices(LeadSource.choices),
        who="leads from {value_lower}",
        who_by_value={
            "web": "leads from the web",
            "advertisement": "leads from advertisements",
            "employee_referral": "leads referred by employees",
            "external_referral": "leads referred from outside",
            "partner": "leads from partners",
            "seminar": "leads from seminars",
            "trade_show": "leads from trade shows",
            "word_of_mouth": "leads by word of mouth",
            "other": "leads from other sources",
        },
    ),
    Feature(
        "industry",
        "Industry",
        F("industry"),
        labels=_choices(Industry.choices),
        who="leads in {value_lower}",
    ),
    Feature(
        "rating", "Rating", F("rating"), labels=_choices(Rating.choices), who="{value_lower} leads"
    ),
    Feature(
        "budget",
        "Budget",
        _budget_in_base,
        numeric=True,
        unit="money",
        who="leads with a budget of {value}",
    ),
    Feature(
        "purchase_timeframe",
        "Purchase timeframe",
        F("purchase_timeframe"),
        labels=_choices(PurchaseTimeframe.choices),
        who="leads with a purchase timeframe of {value_lower}",
    ),
    Feature(
        "purchase_process",
        "Purchase process",
        F("purchase_process"),
        labels=_choices(PurchaseProcess.choices),
        who="leads with a purchase process of {value_lower}",
    ),
    Feature(
        "decision_maker",
        "Decision maker identified",
        _flag(Q(decision_maker_identified=True)),
        labels=YES_NO,
        who_by_value={
            "yes": "leads with the decision maker identified",
            "no": "leads without the decision maker identified",
        },
    ),
    Feature(
        "phone",
        "Phone number",
        _flag(~Q(business_phone="") | ~Q(mobile_phone="")),
        labels={"yes": "Given", "no": "Missing"},
        lower=True,
        who_by_value={"yes": "leads with a phone number", "no": "leads without a phone number"},
    ),
    Feature(
        "email",
        "Email",
        _email_kind(),
        labels={"company": "A company address", "free": "A free-mail address", NONE: "Missing"},
        lower=True,
        who_by_value={
            "company": "leads with a company email address",
            "free": "leads with a free-mail address",
            NONE: "leads without an email address",
        },
    ),
    Feature(
        "seniority",
        "Job title",
        _seniority(),
        labels={
            "executive": "An executive",
            "head": "A vice president or head of department",
            "director": "A director",
            "manager": "A manager",
            "staff": "Another role",
            NONE: "Not given",
        },
        who="leads whose job title is {value_lower}",
        lower=True,
        who_by_value={"staff": "leads with another job title", NONE: "leads without a job title"},
    ),
    Feature(
        "activities",
        "Activities",
        _count_before_closing(Activity),
        numeric=True,
        discrete=True,
        who="leads with {value} activities",
    ),
    Feature(
        "notes",
        "Notes",
        _count_before_closing(Note),
        numeric=True,
        discrete=True,
        who="leads with {value} notes",
    ),
    Feature(
        "days_open",
        "Days open",
        _days_open,
        numeric=True,
        unit="days",
        who="leads open {value} days",
    ),
]
# Lead fields the built-in features already read: an admin cannot add them again.
READ_BY_BUILT_IN = frozenset(
    {
        "lead_source",
        "industry",
        "rating",
        "budget_amount",
        "purchase_timeframe",
        "purchase_process",
        "decision_maker_identified",
        "business_phone",
        "mobile_phone",
        "email",
        "job_title",
    }
)
ADDABLE = (
    models.BooleanField,
    models.CharField,
    models.IntegerField,
    models.FloatField,
    models.DecimalField,
)


def extra_feature(name: str) -> Feature:
    """An admin's added lead field: yes/no, a category, or a number in buckets."""
    model_field = Lead._meta.get_field(name)
    label = str(model_field.verbose_name)
    label = label[0].upper() + label[1:]
    if isinstance(model_field, models.BooleanField):
        marked = label.lower()
        return Feature(
            name,
            label,
            _flag(Q(**{name: True})),
            labels=YES_NO,
            who_by_value={"yes": f"leads marked {marked}", "no": f"leads not marked {marked}"},
            lower=True,
        )
    if isinstance(model_field, models.IntegerField | models.FloatField | models.DecimalField):
        return Feature(name, label, Cast(name, FloatField()), numeric=True)
    return Feature(
        name, label, Coalesce(F(name), Value("")), labels=_choices(model_field.choices or [])
    )


def check_extra_fields(names) -> list[str]:
    """The admin's added field names, or ValidationError saying what is wrong."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValidationError('A list of lead field names, e.g. ["do_not_call"].')
    for name in names:
        try:
            model_field = Lead._meta.get_field(name)
        except FieldDoesNotExist:
            raise ValidationError(f"A lead has no field “{name}”.") from None
        if (
            not isinstance(model_field, ADDABLE)
            or model_field.is_relation
            or not model_field.editable
            or name in READ_BY_BUILT_IN
        ):
            raise ValidationError(
                f"“{name}” cannot be added: the model reads it already, or it is not a "
                "yes/no, choice, text or number field of a lead."
            )
    return list(dict.fromkeys(names))


def features_of(settings: ScoringSettings) -> list[Feature]:
    return [*BUILT_IN, *(extra_feature(name) for name in settings.extra_fields)]


# --- Buckets -------------------------------------------------------------------------------


def as_number(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds() / 86_400
    return float(value)


def key_of(feature: Feature, raw, edges: list[float]) -> str:
    """The value's key in the model: its category, or its bucket's number."""
    if feature.numeric:
        number = as_number(raw)
        return NONE if number is None else str(bisect_right(edges, number))
    return str(raw) if raw not in (None, "") else NONE


def _format(number: float, feature: Feature, currency: str) -> str:
    if feature.unit == "money":
        return f"{number:,.0f} {currency}".rstrip()
    if feature.discrete or feature.unit == "days" or float(number).is_integer():
        return f"{number:,.0f}"
    return f"{number:,.2f}"


def bucket_label(key: str, edges: list[float], feature: Feature, currency: str = "") -> str:
    """A bucket in words; a budget's bounds in `currency`, the base currency's code."""
    if key == NONE:
        return "Not given"
    i = int(key)
    if not edges:
        return "any number"
    if i == 0:
        return f"under {_format(edges[0], feature, currency)}"
    if i >= len(edges):
        return f"{_format(edges[-1], feature, currency)} or more"
    low, high = edges[i - 1], edges[i]
    if feature.discrete and high - low == 1:
        return _format(low, feature, currency)
    return f"{_format(low, feature, currency)} to under {_format(high, feature, currency)}"


def base_currency_code() -> str:
    base = OrganizationSettings.load().base_currency
    return base.code if base else ""


def _quartiles(histogram: dict[float, int]) -> list[float]:
    """The distinct quartile edges of a histogram {value: how many}."""
    total = sum(histogram.values())
    if not total:
        return []
    targets = [total * q for q in (0.25, 0.5, 0.75)]
    edges, seen = [], 0
    values = sorted(histogram)
    t = 0
    for value in values:
        seen += histogram[value]
        while t < len(targets) and seen > targets[t]:
            edges.append(value)
            t += 1
    # An edge starts a bucket ("value or more"): the lowest value needs none.
    return sorted({e for e in edges if e > values[0]})


def _continuous_quartiles(rows: models.QuerySet, n: int) -> list[float]:
    """Quartile edges of the annotated `v` of `rows` (n of them not null):
    three ordered reads, each at its offset."""
    edges = []
    for q in (0.25, 0.5, 0.75):
        found = rows.order_by("v").values_list("v", flat=True)[int(n * q) : int(n * q) + 1]
        value = next(iter(found), None)
        if value is not None:
            edges.append(as_number(value))
    return sorted(set(edges))


# --- Training ------------------------------------------------------------------------------


@dataclass
class Training:
    """What a training found: the counts and edges of each feature, whole and
    without the held-out leads."""

    features: list[Feature]
    edges: dict[str, list[float]]
    full: dict[str, dict[str, list[int]]]
    early: dict[str, dict[str, list[int]]]


def _closed(settings: ScoringSettings, now: datetime) -> models.QuerySet:
    start = now - timedelta(days=settings.window_days)
    return (
        Lead.objects.filter(state__in=[Lead.State.QUALIFIED, Lead.State.DISQUALIFIED])
        .annotate(closed_at=_closed_at())
        .filter(closed_at__gte=start, closed_at__lte=now)
    )


def _closed_at():
    return Coalesce("qualified_at", "disqualified_at")


def _edges(feature: Feature, rows: models.QuerySet, now: datetime) -> list[float]:
    if not feature.numeric:
        return []
    annotated = rows.annotate(v=feature.sql(now)).filter(v__isnull=False)
    if feature.discrete:
        histogram = dict(annotated.order_by().values_list("v").annotate(n=Count("pk")))
        return _quartiles({as_number(k): n for k, n in histogram.items()})
    return _continuous_quartiles(annotated, annotated.count())


def _bucket_sql(feature: Feature, edges: list[float], now: datetime):
    """The feature's key in SQL: its category, or the number of its bucket."""
    value = feature.sql(now)
    if not feature.numeric:
        return value
    whens = [When(v__isnull=True, then=Value(NONE))]
    for i, edge in enumerate(edges):
        bound = timedelta(days=edge) if feature.unit == "days" else edge
        whens.append(When(v__lt=bound, then=Value(str(i))))
    return Case(*whens, default=Value(str(len(edges))), output_field=models.CharField())


def count(settings: ScoringSettings, now: datetime, split_at: datetime) -> Training:
    """Per feature and value: [qualified, disqualified] over the window, and over
    its leads closed before `split_at` (the held-out ones are the later)."""
    rows = _closed(settings, now)
    found = Training(features_of(settings), {}, {}, {})
    for feature in found.features:
        edges = found.edges[feature.name] = _edges(feature, rows, now)
        counted = rows.annotate(late=Case(When(closed_at__gte=split_at, then=1), default=0))
        if feature.discrete:
            # A small count: grouped by its value (one evaluation of the subquery
            # per lead), then bucketed here.
            grouped = counted.annotate(raw=feature.sql(now)).values_list("raw", "late", "state")
        else:
            if feature.numeric:
                counted = counted.annotate(v=feature.sql(now))
            grouped = counted.annotate(raw=_bucket_sql(feature, edges, now)).values_list(
                "raw", "late", "state"
            )
        full, early = {}, {}
        for raw, late, state, n in grouped.annotate(n=Count("pk")).order_by():
            key = key_of(feature, raw, edges) if feature.discrete else (raw or NONE)
            slot = 0 if state == Lead.State.QUALIFIED else 1
            full.setdefault(key, [0, 0])[slot] += n
            if not late:
                early.setdefault(key, [0, 0])[slot] += n
        found.full[feature.name], found.early[feature.name] = full, early
    return found


@dataclass
class Model:
    """A trained model, ready to score: its terms by feature and value."""

    features: list[Feature]
    edges: dict[str, list[float]]
    counts: dict[str, dict[str, list[int]]]
    qualified: int
    disqualified: int
    scale: float = 1.0
    shift: float = 0.0
    grades: tuple[int, int, int] = (70, 50, 30)  # A, B and C from (the settings at training)

    def __post_init__(self):
        q, d = max(self.qualified, 1), max(self.disqualified, 1)
        self.prior = math.log(q / d)
        # A value's odds of qualifying, from its own leads plus PRIOR_LEADS
        # pseudo-leads at the overall odds; its term, how far those odds are from
        # the overall ones. Many leads: the plain naive Bayes term
        # ln(P(value | Q) / P(value | D)). Few: near 0 (a handful of leads proves
        # little). None: 0.
        share = q / (q + d)
        pseudo_q, pseudo_d = PRIOR_LEADS * share, PRIOR_LEADS * (1 - share)
        self.terms: dict[str, dict[str, float]] = {
            feature.name: {
                key: math.log((qv + pseudo_q) / (dv + pseudo_d)) - self.prior
                for key, (qv, dv) in self.counts.get(feature.name, {}).items()
            }
            for feature in self.features
        }

    def grade(self, score: int) -> str:
        a, b, c = self.grades
        return "A" if score >= a else "B" if score >= b else "C" if score >= c else "D"

    def term(self, feature: Feature, key: str) -> float:
        # A value no training lead had says nothing either way.
        return self.terms[feature.name].get(key, 0.0)

    def logit(self, keys: dict[str, str]) -> float:
        total = self.prior + sum(self.term(f, keys[f.name]) for f in self.features)
        return self.scale * total + self.shift

    def influence(self) -> list[tuple[Feature, float]]:
        """Each feature's information value (how far its values' qualified and
        disqualified shares differ), most influential first."""
        q, d = max(self.qualified, 1), max(self.disqualified, 1)
        found = []
        for feature in self.features:
            iv = 0.0
            for qv, dv in self.counts.get(feature.name, {}).values():
                pq, pd = (qv + ALPHA) / q, (dv + ALPHA) / d
                iv += (pq - pd) * math.log(pq / pd)
            found.append((feature, iv))
        return sorted(found, key=lambda pair: -pair[1])


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    z = math.exp(x)
    return z / (1 + z)


def auc(pairs: list[tuple[float, bool]]) -> float | None:
    """Area under the ROC curve of (score, was qualified): the chance a qualified
    lead scores above a disqualified one (ties count half)."""
    positives = sum(1 for _, good in pairs if good)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return None
    ranked = sorted(pairs, key=lambda pair: pair[0])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average_rank = (i + 1 + j) / 2
        rank_sum += average_rank * sum(1 for _, good in ranked[i:j] if good)
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def calibrate(pairs: list[tuple[float, bool]]) -> tuple[float, float]:
    """Platt scaling: scale and shift making sigmoid(scale * logit + shift) the
    chance of qualifying on the held-out leads (Newton's method, 25 steps).
    Naive Bayes is overconfident: its features are not independent."""
    a, b = 1.0, 0.0
    for _ in range(25):
        ga = gb = haa = hab = hbb = 0.0
        for x, good in pairs:
            p = sigmoid(a * x + b)
            error = p - (1.0 if good else 0.0)
            weight = max(p * (1 - p), 1e-9)
            ga += error * x
            gb += error
            haa += weight * x * x
            hab += weight * x
            hbb += weight
        det = haa * hbb - hab * hab
        if abs(det) < 1e-12:
            break
        a -= (hbb * ga - hab * gb) / det
        b -= (haa * gb - hab * ga) / det
    if not math.isfinite(a) or a <= 0:
        return 1.0, 0.0
    return a, b


def _feature_rows(queryset: models.QuerySet, model_features: list[Feature], now: datetime):
    """(lead id, {feature: raw value}, other columns...) of each lead of `queryset`."""
    names = {f"f_{f.name}": f.sql(now) for f in model_features}
    return queryset.annotate(**names), list(names)


def train(*, user=None, now: datetime | None = None) -> ScoringModel:
    """Train a model on the leads closed in the settings' window, test it on the
    latest of them held out of a first training, and publish it when it is
    ready. Returns the stored model (published or not)."""
    started = time.monotonic()
    settings = ScoringSettings.load()
    now = now or timezone.now()
    rows = _closed(settings, now)
    totals = dict(rows.order_by().values_list("state").annotate(n=Count("pk")))
    q, d = totals.get(Lead.State.QUALIFIED, 0), totals.get(Lead.State.DISQUALIFIED, 0)
    stored = ScoringModel(
        trained_by=user,
        window_start=now - timedelta(days=settings.window_days),
        qualified=q,
        disqualified=d,
        quality=ScoringModel.Quality.NOT_READY,
    )
    if q < MIN_EACH or d < MIN_EACH:
        stored.reason = (
            f"Training needs at least {MIN_EACH} qualified and {MIN_EACH} disqualified leads "
            f"closed in the window; it has {q} qualified and {d} disqualified."
        )
        return _store(stored, started)
    held = min(int((q + d) * HOLDOUT_SHARE), HOLDOUT_MAX)
    split_at = rows.order_by("-closed_at", "-pk").values_list("closed_at", flat=True)[held - 1]
    counts = count(settings, now, split_at)

    late = rows.filter(closed_at__gte=split_at)
    late_totals = dict(late.order_by().values_list("state").annotate(n=Count("pk")))
    early_q = q - late_totals.get(Lead.State.QUALIFIED, 0)
    early_d = d - late_totals.get(Lead.State.DISQUALIFIED, 0)
    first = Model(counts.features, counts.edges, counts.early, early_q, early_d)
    annotated, names = _feature_rows(late, counts.features, now)
    pairs = []
    for values in annotated.values_list("state", *names).iterator(chunk_size=CHUNK):
        keys = {
            f.name: key_of(f, raw, counts.edges[f.name])
            for f, raw in zip(counts.features, values[1:], strict=True)
        }
        pairs.append((first.logit(keys), values[0] == Lead.State.QUALIFIED))
    stored.holdout_size = len(pairs)
    stored.auc = auc(pairs)
    scale, shift = calibrate(pairs)
    grades = (settings.grade_a, settings.grade_b, settings.grade_c)
    final = Model(counts.features, counts.edges, counts.full, q, d, scale, shift, grades)
    stored.content = _content(final, settings)
    if stored.auc is None:
        stored.reason = (
            "The held-out leads (the latest closed) are all qualified or all disqualified."
        )
    elif stored.auc >= READY_AUC:
        stored.quality = ScoringModel.Quality.READY
    elif stored.auc >= OK_AUC:
        stored.quality = ScoringModel.Quality.OK
    else:
        stored.reason = (
            f"On the latest {len(pairs)} closed leads, held out of training, it ranks a "
            f"qualified lead above a disqualified one {stored.auc:.0%} of the time "
            f"(AUC {stored.auc:.2f}); it needs {OK_AUC:.2f} to be published."
        )
    return _store(stored, started)


def _content(model: Model, settings: ScoringSettings) -> dict:
    return {
        "prior": model.prior,
        "qualified": model.qualified,
        "disqualified": model.disqualified,
        "scale": model.scale,
        "shift": model.shift,
        "grades": list(model.grades),
        "extra_fields": list(settings.extra_fields),
        "edges": model.edges,
        "counts": model.counts,
        "influence": [[f.name, round(iv, 4)] for f, iv in model.influence()],
    }


@transaction.atomic
def _store(stored: ScoringModel, started: float) -> ScoringModel:
    stored.seconds = round(time.monotonic() - started, 3)
    publish = stored.quality != ScoringModel.Quality.NOT_READY
    if publish:
        ScoringModel.objects.filter(is_published=True).update(is_published=False)
        stored.is_published = True
    stored.save()
    _forget_model()
    return stored


def request_training(*, user=None):
    """Train in the background (a job): by hand from the admin, or on the schedule."""
    return jobs.start("leads.train_scoring", label="Train the lead scoring model", user=user)


# --- The published model -------------------------------------------------------------------

_cache = threading.local()


def _forget_model() -> None:
    _cache.model = None
    transaction.on_commit(lambda: setattr(_cache, "model", None))


def model_from(stored: ScoringModel) -> Model:
    content = stored.content
    settings = ScoringSettings(extra_fields=content.get("extra_fields", []))
    known = [f for f in features_of(settings) if f.name in content["counts"]]
    return Model(
        known,
        content["edges"],
        content["counts"],
        content["qualified"],
        content["disqualified"],
        content["scale"],
        content["shift"],
        tuple(content.get("grades", (70, 50, 30))),
    )


def published_model() -> tuple[ScoringModel, Model] | None:
    """The published model (read once per process and version)."""
    pk = ScoringModel.objects.filter(is_published=True).values_list("pk", flat=True).first()
    if pk is None:
        return None
    cached = getattr(_cache, "model", None)
    if cached is None or cached[0].pk != pk:
        stored = ScoringModel.objects.get(pk=pk)
        cached = _cache.model = (stored, model_from(stored))
    return cached


# --- Scoring -------------------------------------------------------------------------------


def percent(part: int, whole: int) -> int:
    """A share in whole per cent, halves up (62.5 % reads 63 %, not Python's even 62)."""
    return math.floor(100 * part / whole + 0.5)


def score_of(logit: float) -> int:
    return round(100 * sigmoid(logit))


def trend_of(old: int, new: int) -> str:
    if old < 0 or abs(new - old) < TREND_STEP:
        return Lead.ScoreTrend.STEADY
    return Lead.ScoreTrend.IMPROVING if new > old else Lead.ScoreTrend.DECLINING


def score_leads(*, ids=None, alive=None, now: datetime | None = None) -> int:
    """Score the open leads of `ids` (every open lead when None) with the
    published model, a chunk at a time: each changed score is written with its
    grade and trend, and kept in the lead's score history. Returns how many
    leads were scored; none without a published model."""
    now = now or timezone.now()
    if ids is not None and len(set(ids)) == 1:
        return _score_one(next(iter(ids)), now)
    found = published_model()
    if found is None:
        return 0
    _stored, model = found
    open_leads = Lead.objects.filter(state=Lead.State.OPEN)
    scored = 0
    if ids is not None:
        ids = sorted(set(ids))
        chunks = (ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK))
        for chunk in chunks:
            rows = _chunk_rows(open_leads.filter(pk__in=chunk), model, now)
            scored += _score_chunk(rows, model, now)
        return scored
    after = 0
    while True:
        bounds = list(
            open_leads.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:CHUNK]
        )
        if not bounds:
            return scored
        chunk = open_leads.filter(pk__gte=bounds[0], pk__lte=bounds[-1])
        scored += _score_chunk(_chunk_rows(chunk, model, now), model, now)
        after = bounds[-1]
        if alive is not None:
            alive()


SCORE_COLUMNS = ("pk", "score", "score_grade", "score_trend")


def _chunk_rows(leads: models.QuerySet, model: Model, now: datetime):
    annotated, names = _feature_rows(leads, model.features, now)
    return annotated.values_list(*SCORE_COLUMNS, *names)


_one_lead = threading.local()
_SENTINEL = -9_876_543_210


def _score_one(pk: int, now: datetime) -> int:
    """Score one lead (a save's job) in two round trips: its row, read only while
    the model this process holds is still the published one, and the write."""
    cached = getattr(_cache, "model", None)
    if cached is not None:
        found = _one_lead_rows(pk, *cached, now)
        if found:
            return _score_chunk(found, cached[1], now)
    # Not open, or no model held, or another one published since: look again.
    fresh = published_model()
    if fresh is None:
        return 0
    return _score_chunk(_one_lead_rows(pk, *fresh, now), fresh[1], now)


def _one_lead_rows(pk: int, stored: ScoringModel, model: Model, now: datetime) -> list:
    """The one open lead's row as _chunk_rows reads it, if `stored` is still the
    published model, from SQL compiled once per model and process: building and
    compiling the ORM query of a dozen feature expressions costs more than
    running it, and a save scores one lead."""
    key = (stored.pk, connection.alias, connection.vendor)
    cached = getattr(_one_lead, "query", None)
    if cached is None or cached[0] != key:
        still_published = Exists(ScoringModel.objects.filter(pk=stored.pk, is_published=True))
        one = Lead.objects.filter(still_published, state=Lead.State.OPEN, pk=_SENTINEL)
        rows = _chunk_rows(one, model, now)
        compiler = rows.query.get_compiler(using=rows.db)
        sql, params = compiler.as_sql()
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        slot = list(params).index(_SENTINEL)
        cached = _one_lead.query = (key, sql, list(params), slot, compiler, converters)
    _key, sql, params, slot, compiler, converters = cached
    params = [*params[:slot], pk, *params[slot + 1 :]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    if converters:
        found = [tuple(row) for row in compiler.apply_converters(found, converters)]
    return found


def _score_chunk(rows, model: Model, now: datetime) -> int:
    changed, scored = [], 0
    for pk, old, old_grade, old_trend, *raws in rows:
        scored += 1
        keys = {
            f.name: key_of(f, raw, model.edges.get(f.name, []))
            for f, raw in zip(model.features, raws, strict=True)
        }
        new = score_of(model.logit(keys))
        grade, trend = model.grade(new), trend_of(old, new)
        if (new, grade, trend) != (old, old_grade, old_trend):
            changed.append((pk, new, grade, trend, new != old))
    if changed:
        _write_scores(changed, now)
    return scored


def _write_scores(changed: list[tuple], now: datetime) -> None:
    """Write a chunk's changed scores, and a history row for each that moved:
    the new values joined in from a VALUES list (UPDATE … FROM, which SQLite
    3.33+ and PostgreSQL read alike). On PostgreSQL one statement does both (a
    data-modifying WITH), atomic without a transaction of its own: a save's
    rescoring is one round trip."""
    table = Lead._meta.db_table
    history = ScoreHistory._meta.db_table
    placeholders = ", ".join(["(%s, %s, %s, %s, %s)"] * len(changed))
    params = [value for row in changed for value in row]
    values = f"new_score (id, score, grade, trend, moved) AS (VALUES {placeholders})"
    update = (
        f"UPDATE {table} SET score = CAST(new_score.score AS integer), "
        f"score_grade = CAST(new_score.grade AS varchar(1)), "
        f"score_trend = CAST(new_score.trend AS varchar(10)) "
        f"FROM new_score WHERE {table}.id = CAST(new_score.id AS bigint)"
    )
    if connection.vendor == "postgresql":
        sql = (
            f"WITH {values}, updated AS ({update} RETURNING {table}.id) "
            f"INSERT INTO {history} (lead_id, score, scored_at) "
            f"SELECT CAST(id AS bigint), CAST(score AS integer), %s FROM new_score WHERE moved"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, now])
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"WITH {values} {update}", params)
        ScoreHistory.objects.bulk_create(
            ScoreHistory(lead_id=pk, score=new, scored_at=now)
            for pk, new, _grade, _trend, moved in changed
            if moved
        )


# --- Explanations --------------------------------------------------------------------------


@dataclass
class Reason:
    feature: str
    label: str
    value: str
    sentence: str
    points: int


@dataclass
class Explanation:
    score: int
    base: int
    reasons: list[Reason]
    overall: int  # % of the training leads that were qualified

    @property
    def positive(self) -> list[Reason]:
        return [r for r in self.reasons if r.points > 0][:3]

    @property
    def negative(self) -> list[Reason]:
        return sorted((r for r in self.reasons if r.points < 0), key=lambda r: r.points)[:3]


def _points(base_logit: float, scale: float, terms: list[float], total: int) -> list[int]:
    """Each term's points: the mean of what it adds to the score on its own (from
    the base) and what the score loses without it (from the lead's own score),
    so a point never outgrows the term's own effect nor takes the other sign.
    What these miss of `total` (the score less the base, where the terms bend the
    sigmoid together) is shared in proportion to their size, and the result is
    made whole points adding up to `total` (largest remainders)."""
    full = base_logit + scale * sum(terms)
    exact = [
        50
        * (
            sigmoid(base_logit + scale * t)
            - sigmoid(base_logit)
            + sigmoid(full)
            - sigmoid(full - scale * t)
        )
        for t in terms
    ]
    rest = total - sum(exact)
    size = sum(abs(x) for x in exact)
    if size:
        if abs(rest) < size:  # in proportion to each size: no point changes sign
            exact = [x + rest * abs(x) / size for x in exact]
        elif same := sum(abs(x) for x in exact if x * rest > 0):
            # Only onto the points of the rest's sign, which it can but grow.
            exact = [x + rest * abs(x) / same if x * rest > 0 else x for x in exact]
        else:  # all of one sign, and more than the score moved: scaled down
            exact = [x * total / sum(exact) for x in exact]
    return _whole(exact, total)


def _whole(exact: list[float], total: int) -> list[int]:
    """Whole numbers near `exact` adding up to `total` (largest remainders)."""
    points = [math.trunc(x) for x in exact]
    rest = total - sum(points)
    step = 1 if rest > 0 else -1
    order = sorted(range(len(exact)), key=lambda i: -(exact[i] - points[i]) * step)
    for i in order[: abs(rest)]:
        points[i] += step
    return points


def explain(lead: Lead, *, now: datetime | None = None) -> Explanation | None:
    """Why the lead scores what it does with the published model: the base score,
    and each feature's sentence and points (the points add up to the score)."""
    found = published_model()
    if found is None:
        return None
    _stored, model = found
    now = now or timezone.now()
    annotated, names = _feature_rows(Lead.objects.filter(pk=lead.pk), model.features, now)
    raws = annotated.values_list(*names).first()
    if raws is None:
        return None
    keys = {
        f.name: key_of(f, raw, model.edges.get(f.name, []))
        for f, raw in zip(model.features, raws, strict=True)
    }
    base_logit = model.scale * model.prior + model.shift
    base, score = score_of(base_logit), score_of(model.logit(keys))
    terms = [model.term(f, keys[f.name]) for f in model.features]
    points = _points(base_logit, model.scale, terms, score - base)
    q, d = model.qualified, model.disqualified
    overall = percent(q, q + d) if q + d else 0
    currency = base_currency_code()  # read once: a budget bucket's bounds name it
    reasons = []
    for feature, share in zip(model.features, points, strict=True):
        key = keys[feature.name]
        edges = model.edges.get(feature.name, [])
        qv, dv = model.counts.get(feature.name, {}).get(key, [0, 0])
        value = feature.value_label(key, edges, currency)
        said = feature.in_sentence(key, value)
        if qv + dv:
            rate = percent(qv, qv + dv)
            sentence = (
                f"{feature.label} is {said}: "
                f"{rate} % of {feature.describe(key, edges, currency)} were qualified, "
                f"against {overall} % overall."
            )
        else:
            sentence = f"{feature.label} is {said}: no lead like it was closed in the window."
        reasons.append(Reason(feature.name, feature.label, value, sentence, share))
    reasons.sort(key=lambda r: -abs(r.points))
    return Explanation(score=score, base=base, reasons=reasons, overall=overall)


def history(lead: Lead, limit: int = 30) -> list[ScoreHistory]:
    """The lead's last scores, oldest first (the page's chart)."""
    rows = list(ScoreHistory.objects.filter(lead=lead).order_by("-scored_at", "-pk")[:limit])
    return rows[::-1]


# --- Refresh on change ---------------------------------------------------------------------

RESCORE_ON = frozenset(
    {"lead.created", "lead.updated", "lead.reactivated", "activity.created", "note.created"}
)
_pending = threading.local()


def on_event(event_type: str, record) -> None:
    """A lead saved or given an activity or note: score it again once the change
    commits, in a job (one per transaction, however many leads it changed)."""
    if event_type not in RESCORE_ON:
        return
    lead_id = record.pk if isinstance(record, Lead) else getattr(record, "lead_id", None)
    if lead_id is None:
        return
    pending = getattr(_pending, "ids", None)
    if pending is None:
        pending = _pending.ids = set()
    pending.add(lead_id)
    transaction.on_commit(_send_pending)


def _send_pending() -> None:
    ids = sorted(getattr(_pending, "ids", None) or ())
    _pending.ids = None
    if not ids or not ScoringModel.objects.filter(is_published=True).exists():
        return
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        jobs.start("leads.score_leads", label=f"Score {len(chunk)} lead(s)", leads=chunk)


def chart(rows: list[ScoreHistory], *, width: int = 300, height: int = 80) -> dict | None:
    """The score history as an SVG line (viewBox `width` x `height`, scores
    0 to 100 bottom to top), with its points for a table beside it."""
    if not rows:
        return None
    step = width / max(len(rows) - 1, 1)
    points = [
        (round(i * step, 1), round(height - 4 - (height - 8) * r.score / 100, 1))
        for i, r in enumerate(rows)
    ]
    return {
        "width": width,
        "height": height,
        "line": " ".join(f"{x},{y}" for x, y in points),
        "dots": points,
        "rows": rows,
        "first": rows[0],
        "last": rows[-1],
    }
