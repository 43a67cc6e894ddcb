"""The lead lifecycle: every state change of a lead goes through these functions.

Each service takes keyword-only arguments, runs in one transaction, locks the
lead row (`select_for_update`) before reading its state, and either applies the
whole change or raises a `leads.exceptions.LeadError` and changes nothing.
Web views, the admin, bulk actions and imports all call these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Exists, Model, OuterRef
from django.utils import timezone

from accounts.models import Account, Contact
from accounts.selectors import duplicate_accounts, duplicate_contacts
from activities.models import Connection
from activities.services import carry_stakeholders
from crm import events, process
from crm.history import set_history_user
from crm.models import Currency, OrganizationSettings, ProcessFlow, ProcessStage
from crm.money import convert
from crm.permissions import ensure_can_assign, ensure_can_change, ensure_can_delete
from crm.records import read_only_message
from crm.references import check_references, current_reference
from crm.storage import delete_with_files
from opportunities.models import Opportunity

# The stages after Qualify are the opportunity's: one process from lead to
# opportunity, so its moves are importable from here too (the interface contract).
from opportunities.services import move_to_next_stage, move_to_previous_stage  # noqa: F401

from .exceptions import (
    CurrencyRequired,
    DuplicatesFound,
    InvalidReason,
    LeadChanged,
    LeadError,
    LeadNotInactive,
    LeadNotOpen,
    NoLeadOwner,
    NothingToLinkOpportunityTo,
    QualifyOptionsRequired,
    RequiredStepsMissing,
)
from .models import Lead
from .routing import route_lead

# Fields a user may set when creating or editing a lead. State, status and the
# qualification links change only through the lifecycle services below.
EDITABLE_FIELDS = frozenset(
    {
        "topic",
        "first_name",
        "last_name",
        "company_name",
        "job_title",
        "business_phone",
        "mobile_phone",
        "email",
        "website",
        "preferred_contact_method",
        "do_not_email",
        "do_not_call",
        "lead_source",
        "rating",
        "industry",
        "budget_amount",
        "currency",
        "purchase_timeframe",
        "purchase_process",
        "decision_maker_identified",
        "description",
        "owner",
        "existing_account",
        "existing_contact",
        "status_reason",
    }
)

# What qualifying changes on the lead (the rest of the row stays as it was).
QUALIFY_FIELDS = (
    "state",
    "status_reason",
    "qualified_account",
    "qualified_contact",
    "qualified_opportunity",
    "qualified_at",
    "qualified_by",
    "stage",
    "modified_at",
)

# What choosing an existing account or contact fills into a new lead's empty
# fields: the account's or contact's field -> the lead's field. The one
# definition: create_lead, the forms' checks and the form's live fill use it.
FILL_FROM_ACCOUNT = {"name": "company_name"}
FILL_FROM_CONTACT = {
    name: name
    for name in ("first_name", "last_name", "job_title", "business_phone", "mobile_phone", "email")
}


@dataclass
class QualifyResult:
    """What qualifying one lead produced; `error` is set when it was refused."""

    lead: Lead
    account: Account | None = None
    contact: Contact | None = None
    opportunity: Opportunity | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _ensure_can_act(user: AbstractBaseUser | None) -> None:
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied("You must be signed in with an active account to change leads.")


def _lock(lead: Lead, related: tuple[str, ...] = (), **annotations: Any) -> Lead:
    """The lead's row, locked until the transaction ends, as it is now in the
    database (with the `related` rows joined, not locked, and `annotations` read
    in the same query)."""
    try:
        rows = Lead.objects.select_for_update(of=("self",)).select_related(*related)
        return rows.annotate(**annotations).get(pk=lead.pk)
    except Lead.DoesNotExist:
        raise LeadError("This lead no longer exists.") from None


def _sync(target: Lead, source: Lead) -> None:
    """Make the caller's instance reflect what the service saved."""
    if target is source:
        return
    # Setting a foreign key's column also drops the related object cached for
    # its old value, so `target.owner` is read afresh if it changed.
    for field in Lead._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._loaded = dict(source._loaded)


def clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields for a new or changed lead: only editable ones (TypeError otherwise),
    a currency code read as its currency, text stripped, an open status reason."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"These lead fields cannot be set here: {', '.join(sorted(unknown))}")
    cleaned = dict(fields)
    currency = cleaned.get("currency")
    if isinstance(currency, str):
        cleaned["currency"] = Currency.objects.filter(code=currency.upper()).first()
        if cleaned["currency"] is None:
            raise ValidationError({"currency": f"Unknown currency {currency!r}."})
    for name, value in cleaned.items():
        if isinstance(value, str) and name != "description":
            cleaned[name] = value.strip()
    status = cleaned.get("status_reason")
    if status is not None and status not in Lead.STATUS_REASONS_BY_STATE[Lead.State.OPEN]:
        raise ValidationError(
            {
                "status_reason": "An open lead's status reason is New or Contacted; use qualify "
                "or disqualify to close it."
            }
        )
    return cleaned


def _validate_built(record: Model) -> None:
    """Validate a record this service built from an already valid lead.

    Field values are checked (lengths, formats, choices); keys and check
    constraints are left to the database, which enforces them in the same
    transaction. Skipping their Python-side SELECTs keeps qualify at about half
    the statements (docs/PERFORMANCE.md).
    """
    record.full_clean(
        exclude=[f.name for f in record._meta.concrete_fields if f.is_relation],
        validate_unique=False,
        validate_constraints=False,
    )


def fill_from_existing(lead: Lead) -> None:
    """Copy a chosen account's and contact's details into the lead's empty fields."""
    for source, mapping in (
        (lead.existing_account, FILL_FROM_ACCOUNT),
        (lead.existing_contact, FILL_FROM_CONTACT),
    ):
        if source is None:
            continue
        for their, ours in mapping.items():
            if not getattr(lead, ours):
                setattr(lead, ours, getattr(source, their))


def filled_from_existing(values: dict[str, Any]) -> dict[str, Any]:
    """A new lead's field values (with `existing_account` / `existing_contact`)
    as create_lead will fill them: forms check what will be saved (a contact
    alone can give the lead its name)."""
    fields = {*FILL_FROM_ACCOUNT.values(), *FILL_FROM_CONTACT.values()}
    draft = Lead(
        existing_account=values.get("existing_account"),
        existing_contact=values.get("existing_contact"),
        **{name: values.get(name) or "" for name in fields},
    )
    fill_from_existing(draft)
    return {**values, **{name: getattr(draft, name) for name in fields if not values.get(name)}}


@transaction.atomic
def create_lead(*, user: AbstractBaseUser, **fields: Any) -> Lead:
    """Create an Open/New lead at the first stage of the process flow.

    A lead created without an owner is routed: the first matching active
    routing rule (leads.routing) gives it its owner and is recorded on the
    lead (`routed_by_rule`, `routed_at`); with no match it goes to the
    organisation's default lead owner when that user is active, else to the
    acting user. Choosing an existing account or contact fills the lead's
    still-empty fields from it. Invalid data raises ValidationError and saves
    nothing (a team rule's round-robin turn included).
    """
    _ensure_can_act(user)
    cleaned = clean_fields(fields)
    ensure_can_assign(user, cleaned.get("owner"), None, "a lead")
    check_references(Lead, cleaned, lock=(Account, Contact))
    return save_new_lead(cleaned, user=user)


def save_new_lead(cleaned: dict[str, Any], *, user: AbstractBaseUser | None) -> Lead:
    """Build, route and save a new lead from checked fields (create_lead, and
    leads.web_to_lead.create_web_lead).

    `user` is the acting user, None for a lead the system creates (web-to-lead):
    such a lead must find an owner by routing or the default owner.
    """
    # Validated before routing: a refused lead takes no lock and no turn. It
    # follows the acting user's flow (their role's, else the organisation's).
    lead = build_lead(cleaned, stage=process.first_lead_stage(user))
    if cleaned.get("owner") is None:
        assign_owner(lead, fallback=user)
    set_history_user(lead, user)
    lead.save()
    events.record_assigned(record=lead, owner=lead.owner, by=user, what="lead")
    events.publish("lead.created", lead)
    return lead


# The model's rule a user can break, with its message: checked in Python so a
# new lead is validated without full_clean's query per check constraint.
PERSON_OR_COMPANY = next(
    c for c in Lead._meta.constraints if c.name == "lead_person_or_company_required"
)
_UNSET = object()


def build_lead(cleaned: dict[str, Any], *, stage: Any = _UNSET) -> Lead:
    """The one definition of a new lead, not yet saved: Open/New (or the open
    status reason given), at the first stage of the process flow (`stage`: the
    caller read it once for many leads), filled from a chosen account or
    contact, its field values validated (ValidationError) and its derived
    fields set. Without an owner in `cleaned`, it has none yet (assign_owner).

    References are the callers' to check (check_references, or rows just read);
    keys and the other check constraints are the database's, in the same
    transaction.
    """
    lead = Lead(**cleaned)
    lead.state = Lead.State.OPEN
    lead.status_reason = cleaned.get("status_reason") or Lead.StatusReason.NEW
    lead.stage = process.first_lead_stage() if stage is _UNSET else stage
    fill_from_existing(lead)
    lead.full_clean(
        exclude=[f.name for f in Lead._meta.concrete_fields if f.is_relation],
        validate_unique=False,
        validate_constraints=False,
    )
    if not (lead.has_person_name or lead.company_name.strip()):
        raise ValidationError(PERSON_OR_COMPANY.violation_error_message)
    lead.set_derived_fields()
    return lead


def assign_owner(lead: Lead, *, fallback: AbstractBaseUser | None) -> None:
    """Give a new lead created without an owner its owner: the first matching
    routing rule's, else the organisation's default lead owner, else `fallback`
    (the acting user). Runs inside the creating transaction (round-robin locks
    its rule). Raises NoLeadOwner when there is nobody."""
    owner, rule = route_lead(lead)
    if owner is None:
        default = OrganizationSettings.load().default_lead_owner
        owner = default if default is not None and default.is_active else fallback
    if owner is None:
        raise NoLeadOwner()
    lead.owner = owner
    if rule is not None:
        lead.routed_by_rule = rule
        lead.routed_at = timezone.now()


@transaction.atomic
def update_lead(
    *,
    lead: Lead,
    user: AbstractBaseUser,
    expected_modified_at: datetime | None = None,
    **fields: Any,
) -> Lead:
    """Change an open lead's fields.

    Refuses a user who may not change the lead (PermissionDenied; only a
    manager reassigns it) and an inactive lead (LeadNotOpen). With
    `expected_modified_at` (when the editor loaded the lead), a lead saved by
    someone else since raises LeadChanged instead of overwriting their change.
    """
    _ensure_can_act(user)
    cleaned = clean_fields(fields)
    locked = _lock(lead)
    ensure_can_change(user, locked)
    if expected_modified_at is not None and locked.modified_at != expected_modified_at:
        raise LeadChanged()
    if not locked.is_active:
        raise LeadNotOpen(read_only_message(locked))
    ensure_can_assign(user, cleaned.get("owner"), locked.owner_id, "a lead")
    check_references(Lead, cleaned, current=locked, lock=(Account, Contact))
    owner_before = locked.owner_id
    for name, value in cleaned.items():
        setattr(locked, name, value)
    locked.full_clean()
    set_history_user(locked, user)
    locked.save()
    events.publish("lead.updated", locked)
    if locked.owner_id != owner_before:
        events.record_assigned(record=locked, owner=locked.owner, by=user, what="lead")
        events.publish("lead.assigned", locked)
    _sync(lead, locked)
    return locked


@transaction.atomic
def switch_lead_process(*, lead: Lead, user: AbstractBaseUser, flow: ProcessFlow) -> Lead:
    """Switch an open lead to another process flow: to the flow's stage of the
    same name, else its first lead stage. The step values stay on the lead
    (they are its fields)."""
    _ensure_can_act(user)
    locked = _lock(lead)
    ensure_can_change(user, locked)
    if not locked.is_active:
        raise LeadNotOpen(read_only_message(locked))
    target = process.stage_after_switch(locked.stage, flow, ProcessStage.Entity.LEAD)
    if target is None:
        raise LeadError(f"The process “{flow}” has no stages for leads.")
    locked.stage = target
    set_history_user(locked, user)
    locked.save(update_fields=["stage", "modified_at"])
    _sync(lead, locked)
    return locked


def _resolve_options(
    settings: OrganizationSettings,
    create_account: bool | None,
    create_contact: bool | None,
    create_opportunity: bool | None,
) -> tuple[bool, bool, bool]:
    options = {
        "account": create_account,
        "contact": create_contact,
        "opportunity": create_opportunity,
    }
    if settings.create_records_on_qualify:
        return tuple(True if v is None else bool(v) for v in options.values())  # type: ignore[return-value]
    missing = [name for name, value in options.items() if value is None]
    if missing:
        raise QualifyOptionsRequired(
            "Say whether to create "
            + ", ".join(f"an {m}" if m[0] in "aeiou" else f"a {m}" for m in missing)
            + " when qualifying this lead."
        )
    return tuple(bool(v) for v in options.values())  # type: ignore[return-value]


def _resolve_currency(
    currency: Currency | str | None, lead: Lead, settings: OrganizationSettings
) -> Currency:
    if isinstance(currency, str):
        found = Currency.objects.filter(code=currency.upper()).first()
        if found is None:
            raise ValidationError({"currency": f"Unknown currency {currency!r}."})
        currency = found
    if currency is not None:
        currency = current_reference(currency, model=Currency, field="currency", lock=False)
    chosen = currency or lead.currency or settings.default_currency
    if chosen is None:
        raise CurrencyRequired()
    return chosen


class _QualifyDefaults:
    """What every qualify reads but no single lead changes: the organisation
    settings and the process flows' stages (process.FlowMap: where each flow's
    opportunities start, which stages have required steps). Read once per bulk
    qualify instead of once per lead."""

    def __init__(self, user: AbstractBaseUser) -> None:
        self.settings = OrganizationSettings.load()
        self.flows = process.FlowMap.read(user)


@transaction.atomic
def qualify_lead(
    *,
    lead: Lead,
    user: AbstractBaseUser,
    create_account: bool | None = None,
    create_contact: bool | None = None,
    create_opportunity: bool | None = None,
    currency: Currency | str | None = None,
    existing_account: Account | None = None,
    existing_contact: Contact | None = None,
    ignore_duplicates: bool = False,
) -> QualifyResult:
    """Qualify an open lead into an account, a contact and an opportunity.

    Guarantees: only an Open lead is qualified (else LeadNotOpen); with the
    organisation setting off, the caller must say which records to create
    (else QualifyOptionsRequired); possible duplicates of the records to be
    created raise DuplicatesFound unless the caller chose existing records or
    said to ignore them; everything happens in one transaction, so any
    refusal or failure leaves no partial records.
    """
    return _qualify(
        lead=lead,
        user=user,
        defaults=_QualifyDefaults(user),
        create_account=create_account,
        create_contact=create_contact,
        create_opportunity=create_opportunity,
        currency=currency,
        existing_account=existing_account,
        existing_contact=existing_contact,
        ignore_duplicates=ignore_duplicates,
    )


def _qualify(
    *,
    lead: Lead,
    user: AbstractBaseUser,
    defaults: _QualifyDefaults,
    create_account: bool | None,
    create_contact: bool | None,
    create_opportunity: bool | None,
    currency: Currency | str | None,
    existing_account: Account | None,
    existing_contact: Contact | None,
    ignore_duplicates: bool,
) -> QualifyResult:
    """qualify_lead's work, inside the caller's transaction, with the settings
    read once for all the leads of a bulk qualify (`defaults`)."""
    _ensure_can_act(user)
    # Whether there are stakeholders to carry comes with the lock: most leads have none.
    locked = _lock(
        lead,
        related=("currency",),  # its rate converts the budget
        has_stakeholders=Exists(Connection.objects.filter(lead=OuterRef("pk"))),
    )
    ensure_can_change(user, locked)
    if not locked.is_active:
        raise LeadNotOpen(
            f"This lead is already {locked.get_state_display().lower()}; only an open lead "
            "can be qualified."
        )
    # Qualify is the lead's Next stage: the required steps of its stage gate it.
    flows = defaults.flows
    missing = (
        process.missing_steps(locked, locked.stage_id) if locked.stage_id in flows.gated else []
    )
    if missing:
        raise RequiredStepsMissing(missing)
    settings = defaults.settings
    want_account, want_contact, want_opportunity = _resolve_options(
        settings, create_account, create_contact, create_opportunity
    )

    # The customer records as they are now, locked: never an inactive one, nor
    # one deleted a moment ago (ReferenceUnavailable instead of a failed commit).
    account = current_reference(
        locked.existing_account_id if existing_account is None else existing_account,
        model=Account,
        field="existing_account",
        what="account",
    )
    contact = current_reference(
        locked.existing_contact_id if existing_contact is None else existing_contact,
        model=Contact,
        field="existing_contact",
        what="contact",
    )
    # The existing customer wins over a new one: without a chosen account, the
    # chosen contact's own (active) account is the account.
    if account is None and contact is not None and contact.account_id is not None:
        account = _active_account(contact.account_id)
    company = locked.company_name.strip()
    make_account = want_account and bool(company) and account is None
    make_contact = want_contact and locked.has_person_name and contact is None
    if (
        want_opportunity
        and account is None
        and contact is None
        and not (make_account or make_contact)
    ):
        raise NothingToLinkOpportunityTo(
            _no_customer_reason(locked, want_account=want_account, want_contact=want_contact)
        )

    # Only the records qualify would make are checked: an account chosen does not
    # let a new contact through that matches one already kept, nor the reverse.
    if settings.duplicate_detection_enabled and not ignore_duplicates:
        accounts = duplicate_accounts(company_name=company) if make_account else None
        contacts = (
            duplicate_contacts(
                email=locked.email, first_name=locked.first_name, last_name=locked.last_name
            )
            if make_contact
            else None
        )
        # One round trip asks whether there is any duplicate at all; the lists
        # are read only when there is (the rare path).
        probes = [q.order_by().values("pk") for q in (accounts, contacts) if q is not None]
        if probes and list(probes[0].union(*probes[1:])[:1]):
            raise DuplicatesFound(
                accounts=list(accounts) if accounts is not None else [],
                contacts=list(contacts) if contacts is not None else [],
            )

    new_account = new_contact = opportunity = None
    if make_account:
        new_account = Account(
            name=company,
            email=locked.email,
            phone=locked.business_phone,
            website=locked.website,
            industry=locked.industry,
            owner=user,
        )
        _validate_built(new_account)
        set_history_user(new_account, user)
        new_account.save()
        account = new_account
    if make_contact:
        new_contact = Contact(
            # A contact needs a last name; a lead known only by a first name gives that.
            first_name=locked.first_name if locked.last_name else "",
            last_name=locked.last_name or locked.first_name,
            job_title=locked.job_title,
            business_phone=locked.business_phone,
            mobile_phone=locked.mobile_phone,
            email=locked.email,
            account=account,
            owner=user,
        )
        _validate_built(new_contact)
        set_history_user(new_contact, user)
        new_contact.save()
        contact = new_contact

    if want_opportunity:
        opportunity = _create_opportunity_from(
            locked,
            user=user,
            account=account,
            contact=contact,
            currency=_resolve_currency(currency, locked, settings),
            # The lead's flow continues: one process from lead to opportunity.
            stage_id=flows.first_stage(ProcessStage.Entity.OPPORTUNITY, stage=locked.stage_id),
        )
        if locked.has_stakeholders:
            carry_stakeholders(lead=locked, opportunity=opportunity)

    now = timezone.now()
    locked.state = Lead.State.QUALIFIED
    locked.status_reason = Lead.StatusReason.QUALIFIED
    locked.qualified_account = account
    locked.qualified_contact = contact
    locked.qualified_opportunity = opportunity
    locked.qualified_at = now
    locked.qualified_by = user
    if opportunity:
        locked.stage_id = opportunity.stage_id
    else:
        locked.stage = process.first_stage(
            ProcessStage.Entity.LEAD, stage=locked.stage_id, user=user
        )
    set_history_user(locked, user)
    locked.save(update_fields=QUALIFY_FIELDS)
    if opportunity is not None:
        events.publish("opportunity.created", opportunity)
    events.publish("lead.qualified", locked)
    _sync(lead, locked)
    return QualifyResult(
        lead=locked, account=new_account, contact=new_contact, opportunity=opportunity
    )


def _active_account(pk: int) -> Account | None:
    """The account `pk`, locked like a chosen one, when it is still active."""
    return (
        Account.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk=pk, is_active=True)
        .first()
    )


def _no_customer_reason(lead: Lead, *, want_account: bool, want_contact: bool) -> str:
    """Why qualifying `lead` has no customer for its opportunity, in the rep's terms."""
    if not want_account and not want_contact:
        return (
            "No customer was chosen for the opportunity: create an account or a contact, "
            "or choose an existing account or contact."
        )
    missing = []
    if want_account:
        missing.append("no company name to create an account from")
    if want_contact:
        missing.append("no person's name to create a contact from")
    return (
        f"The lead has {' and '.join(missing)}, and no existing account or contact was "
        "chosen: fill one in on the lead, or choose an existing account or contact."
    )


def _create_opportunity_from(
    lead: Lead,
    *,
    user: AbstractBaseUser,
    account: Account | None,
    contact: Contact | None,
    currency: Currency,
    stage_id: int | None,
) -> Opportunity:
    """The lead's opportunity, linked to the account and the contact (its customer
    is the account when there is one), its budget converted to `currency`."""
    if account is None and contact is None:
        raise NothingToLinkOpportunityTo()
    opportunity = Opportunity(
        name=lead.topic,
        account=account,
        contact=contact,
        currency=currency,
        budget_amount=convert(lead.budget_amount, source=lead.currency, target=currency),
        description=lead.description,
        purchase_timeframe=lead.purchase_timeframe,
        purchase_process=lead.purchase_process,
        originating_lead=lead,
        owner=user,
        stage_id=stage_id,
    )
    _validate_built(opportunity)
    set_history_user(opportunity, user)
    opportunity.save()
    return opportunity


def _ensure_valid_reason(reason: str) -> None:
    if reason not in Lead.DISQUALIFY_REASONS:
        raise InvalidReason(
            f"{reason!r} is not a disqualify reason; choose Lost, Cannot Contact, "
            "No Longer Interested or Canceled."
        )


@transaction.atomic
def disqualify_lead(*, lead: Lead, user: AbstractBaseUser, reason: str) -> Lead:
    """Close an open lead as Disqualified with one of the four reasons."""
    _ensure_can_act(user)
    _ensure_valid_reason(reason)
    locked = _lock(lead)
    ensure_can_change(user, locked)
    if not locked.is_active:
        raise LeadNotOpen(
            f"This lead is already {locked.get_state_display().lower()}; only an open lead "
            "can be disqualified."
        )
    locked.state = Lead.State.DISQUALIFIED
    locked.status_reason = Lead.StatusReason(reason)
    locked.disqualified_at = timezone.now()
    locked.disqualified_by = user
    set_history_user(locked, user)
    locked.save()
    events.publish("lead.disqualified", locked)
    _sync(lead, locked)
    return locked


@transaction.atomic
def reactivate_lead(*, lead: Lead, user: AbstractBaseUser) -> Lead:
    """Reopen a qualified or disqualified lead as Open/New.

    The owner and every link to records created before are kept.
    """
    _ensure_can_act(user)
    locked = _lock(lead)
    ensure_can_change(user, locked)
    if locked.is_active:
        raise LeadNotInactive(
            "This lead is already open; only an inactive lead can be reactivated."
        )
    locked.state = Lead.State.OPEN
    locked.status_reason = Lead.StatusReason.NEW
    # Back to its flow's first stage (Qualify), in the flow it was in.
    locked.stage = process.first_stage(ProcessStage.Entity.LEAD, stage=locked.stage_id, user=user)
    set_history_user(locked, user)
    locked.save(update_fields=["state", "status_reason", "stage", "modified_at"])
    events.publish("lead.reactivated", locked)
    _sync(lead, locked)
    return locked


# How many leads a bulk action commits at once (each in its own savepoint).
BULK_QUALIFY_BATCH = 50
# qualify_lead's options as it defaults them, for a bulk qualify given only some.
_NO_OPTIONS = {
    "create_account": None,
    "create_contact": None,
    "create_opportunity": None,
    "currency": None,
    "existing_account": None,
    "existing_contact": None,
    "ignore_duplicates": False,
}
# What a bulk qualify may set for one lead only (the rep's answer to its duplicates).
PER_LEAD_OPTIONS = frozenset({"existing_account", "existing_contact", "ignore_duplicates"})


def _each_lead(
    leads: Iterable[Lead], action: Callable[[Lead], QualifyResult]
) -> list[QualifyResult]:
    """`action` on each lead, one refusal not stopping the rest.

    Returns one result per lead, in the order given; a refused lead's result
    carries the exception in `.error`. Each lead is changed in its own savepoint
    (a refusal or failure undoes that lead only), and the leads are committed in
    batches of BULK_QUALIFY_BATCH: one commit per batch instead of per lead.
    Rows are locked in primary-key order, so two bulk actions over the same
    leads wait for each other instead of deadlocking.
    """
    leads = list(leads)
    order = sorted(range(len(leads)), key=lambda i: leads[i].pk)
    results: dict[int, QualifyResult] = {}
    for start in range(0, len(order), BULK_QUALIFY_BATCH):
        with transaction.atomic():
            for i in order[start : start + BULK_QUALIFY_BATCH]:
                try:
                    with transaction.atomic():  # a savepoint: a failure undoes this lead only
                        results[i] = action(leads[i])
                except (LeadError, PermissionDenied, ValidationError, DatabaseError) as exc:
                    results[i] = QualifyResult(lead=leads[i], error=exc)
    return [results[i] for i in range(len(leads))]


def qualify_leads(
    *,
    leads: Iterable[Lead],
    user: AbstractBaseUser,
    per_lead: dict[int, dict[str, Any]] | None = None,
    **options: Any,
) -> list[QualifyResult]:
    """Qualify many leads with the same options; one refusal does not stop the rest
    (see _each_lead). `per_lead` maps a lead's id to its own existing account,
    existing contact or ignore_duplicates: how the rep resolved its duplicates.
    """
    defaults = _QualifyDefaults(user)
    options = {**_NO_OPTIONS, **options}
    per_lead = per_lead or {}
    for own in per_lead.values():
        if not set(own) <= PER_LEAD_OPTIONS:
            raise TypeError(f"per_lead takes only {sorted(PER_LEAD_OPTIONS)}, not {sorted(own)}")

    def qualify(lead: Lead) -> QualifyResult:
        return _qualify(
            lead=lead, user=user, defaults=defaults, **{**options, **per_lead.get(lead.pk, {})}
        )

    return _each_lead(leads, qualify)


def disqualify_leads(
    *, leads: Iterable[Lead], user: AbstractBaseUser, reason: str
) -> list[QualifyResult]:
    """Disqualify many leads with one reason; one refusal does not stop the rest
    (see _each_lead). A reason that is not a disqualify reason refuses them all
    before any changes (InvalidReason)."""
    _ensure_valid_reason(reason)

    def disqualify(lead: Lead) -> QualifyResult:
        return QualifyResult(lead=disqualify_lead(lead=lead, user=user, reason=reason))

    return _each_lead(leads, disqualify)


@transaction.atomic
def delete_lead(*, lead: Lead, user: AbstractBaseUser) -> None:
    """Delete a lead with its notes, activities and stakeholder connections.

    Attachment files are removed from storage only after the transaction
    commits, so a rollback never leaves a note pointing at a missing file.
    """
    _ensure_can_act(user)
    locked = _lock(lead)
    ensure_can_delete(user, locked)
    set_history_user(locked, user)
    delete_with_files(locked)
