"""Every form of the app, posted hostile input by Hypothesis.

Each example posts one form with mostly valid values and a few hostile ones
(random unicode with RTL, emoji, combining marks and NUL; 10,000-character
strings; text in number, date, decimal, choice and foreign key fields;
1e309, NaN, 2026-02-30, ids of rows that do not exist; lists where one value
is expected), multipart or urlencoded. `hostile.submit` checks that the
server neither raises nor answers 5xx, and that a refusal saves nothing.

The examples of one test share its database transaction: the records a form
edits are made once per test; forms whose success changes a record for good
(qualify, disqualify, close) get a fresh record per example.

Examples per form: FUZZ_EXAMPLES (default 30); a longer run by hand:

    FUZZ_EXAMPLES=500 .venv/bin/pytest tests/security/test_fuzz_forms.py
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from activities.models import Activity, Connection
from crm.choices import Industry
from leads.models import (
    Lead,
    LeadSource,
    PreferredContactMethod,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from opportunities.models import Opportunity
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ConnectionFactory,
    ContactFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
    currency,
)

from .hostile import (
    assert_local_redirect,
    choice_of,
    dates,
    datetimes,
    emails,
    form_data,
    fuzz,
    hostile_in_range,
    ids,
    int64s,
    money,
    next_urls,
    short_hostile,
    submit,
    typed_text,
    urls,
)

pytestmark = pytest.mark.django_db

checkbox = st.sampled_from(["", "on", "true", "false"])
OPEN_REASONS = Lead.STATUS_REASONS_BY_STATE[Lead.State.OPEN]
early_datetimes = st.datetimes(datetime(1900, 1, 1), datetime(2049, 12, 31)).map(
    lambda d: d.isoformat(timespec="minutes")
)
late_datetimes = st.datetimes(datetime(2050, 1, 1), datetime(9999, 12, 31)).map(
    lambda d: d.isoformat(timespec="minutes")
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def as_manager(manager):
    client = Client()  # re-raises a view's exception: submit turns it into a failure
    client.force_login(manager)
    return client


@pytest.fixture
def records(manager, rep):
    """One active record of each kind, owned by the manager, to post forms against."""
    account = AccountFactory(owner=manager, name="Northwind Traders")
    contact = ContactFactory(owner=manager, account=account)
    lead = LeadFactory(owner=manager)
    return {
        "lead": lead,
        "account": account,
        "contact": contact,
        "opportunity": OpportunityFactory(owner=manager, account=account),
        "users": (manager.pk, rep.pk),
        "currency": currency().pk,
        "note": NoteFactory(lead=lead, author=manager),
        "activities": {
            type: ActivityFactory(lead=lead, owner=manager, type=type)
            for type in Activity.Type.values
        },
        "connection": ConnectionFactory(lead=lead),
    }


def lead_fields(r) -> dict:
    return {
        "topic": typed_text(200, min_size=1),
        "first_name": typed_text(80),
        "last_name": typed_text(80),
        "company_name": typed_text(160),
        "job_title": typed_text(100),
        "business_phone": typed_text(50),
        "mobile_phone": typed_text(50),
        "email": emails,
        "existing_account": st.one_of(st.just(""), ids(r["account"].pk)),
        "existing_contact": st.one_of(st.just(""), ids(r["contact"].pk)),
        "industry": choice_of(Industry.choices),
        "preferred_contact_method": choice_of(PreferredContactMethod.choices, blank=False),
        "do_not_email": checkbox,
        "do_not_call": checkbox,
        "lead_source": choice_of(LeadSource.choices),
        "rating": choice_of(Rating.choices, blank=False),
        "budget_amount": st.one_of(st.just(""), money),
        "currency": st.one_of(st.just(""), ids(r["currency"])),
        "purchase_timeframe": choice_of(PurchaseTimeframe.choices),
        "purchase_process": choice_of(PurchaseProcess.choices),
        "decision_maker_identified": checkbox,
        "description": typed_text(500),
        "website": urls,
        "status_reason": choice_of(OPEN_REASONS, blank=False),
        "owner": st.one_of(st.just(""), ids(*r["users"])),
    }


def owned_fields(r) -> dict:
    return {"owner": ids(*r["users"])}


def account_fields(r) -> dict:
    return {
        "name": typed_text(160, min_size=1),
        "email": emails,
        "phone": typed_text(50),
        "website": urls,
        "industry": choice_of(Industry.choices),
        "city": typed_text(80),
        "country": typed_text(80),
        "description": typed_text(500),
        **owned_fields(r),
    }


def contact_fields(r) -> dict:
    return {
        "first_name": typed_text(80),
        "last_name": typed_text(80, min_size=1),
        "job_title": typed_text(100),
        "account": st.one_of(st.just(""), ids(r["account"].pk)),
        "email": emails,
        "business_phone": typed_text(50),
        "mobile_phone": typed_text(50),
        "description": typed_text(500),
        **owned_fields(r),
    }


def opportunity_fields(r) -> dict:
    return {
        "name": typed_text(200, min_size=1),
        # The customer is an account or a contact, not both: corrupting either
        # one tries the other combinations.
        "account": ids(r["account"].pk),
        "contact": st.just(""),
        "currency": ids(r["currency"]),
        "budget_amount": st.one_of(st.just(""), money),
        "estimated_revenue": st.one_of(st.just(""), money),
        "estimated_close_date": st.one_of(st.just(""), dates),
        "purchase_timeframe": choice_of(PurchaseTimeframe.choices),
        "purchase_process": choice_of(PurchaseProcess.choices),
        "description": typed_text(500),
        "customer_need": typed_text(200),
        "proposed_solution": typed_text(200),
        "final_decision_date": st.one_of(st.just(""), dates),
        **dict.fromkeys(
            (
                "identify_stakeholders",
                "identify_competitors",
                "identify_sales_team",
                "develop_proposal",
                "complete_internal_review",
                "present_proposal",
                "complete_final_proposal",
                "present_final_proposal",
                "send_thank_you",
                "file_debrief",
            ),
            checkbox,
        ),
        **owned_fields(r),
    }


def activity_fields(r) -> dict:
    return {
        "subject": typed_text(200, min_size=1),
        "description": typed_text(500),
        "due_at": st.one_of(st.just(""), datetimes),
        "direction": choice_of(Activity.Direction.choices, blank=False),
        "phone_number": typed_text(50),
        "email_from": emails,
        "email_to": st.lists(emails, max_size=3).map(", ".join),
        "priority": choice_of(Activity.Priority.choices, blank=False),
        # Drawn from ranges that keep an appointment's end after its start.
        "starts_at": early_datetimes,
        "ends_at": late_datetimes,
        "location": typed_text(200),
        **owned_fields(r),
    }


# --- Leads ---------------------------------------------------------------------------------


@fuzz
@given(data=st.data())
def test_lead_create_survives_hostile_input(data, as_manager, records):
    form = data.draw(form_data(lead_fields(records)))
    submit(
        as_manager,
        "post",
        reverse("leads:create"),
        form,
        urlencoded=data.draw(st.booleans()),
        created={"Lead": 1},
    )


@fuzz
@given(data=st.data())
def test_lead_edit_survives_hostile_input(data, as_manager, records):
    lead = records["lead"]
    form = data.draw(form_data(lead_fields(records)))
    submit(
        as_manager,
        "post",
        reverse("leads:edit", args=[lead.pk]),
        form,
        urlencoded=data.draw(st.booleans()),
        watch=(lead,),
        created={},
    )


@fuzz
@given(data=st.data())
def test_lead_qualify_survives_hostile_input(data, as_manager, manager, records):
    # The lead's company may match an account, which leads to the duplicates page.
    company = data.draw(st.sampled_from([records["account"].name, "Fabrikam Fresh"]))
    lead = LeadFactory(owner=manager, company_name=company)
    yes_no = st.sampled_from(["yes", "no"])
    form = data.draw(
        form_data(
            {
                "create_account": yes_no,
                "create_contact": yes_no,
                "create_opportunity": yes_no,
                "currency": st.one_of(st.just(""), ids(records["currency"])),
                "existing_account": st.one_of(st.just(""), ids(records["account"].pk)),
                "existing_contact": st.one_of(st.just(""), ids(records["contact"].pk)),
                "resolved": st.sampled_from(["", "0", "1"]),
            }
        )
    )
    submit(as_manager, "post", reverse("leads:qualify", args=[lead.pk]), form, watch=(lead,))
    lead.refresh_from_db()
    # Qualified as a whole or not at all.
    if lead.state == Lead.State.QUALIFIED:
        assert lead.status_reason == Lead.StatusReason.QUALIFIED and lead.qualified_at


@fuzz
@given(data=st.data())
def test_lead_disqualify_survives_hostile_input(data, as_manager, manager):
    lead = LeadFactory(owner=manager)
    form = data.draw(form_data({"reason": choice_of(Lead.DISQUALIFY_REASONS, blank=False)}))
    submit(as_manager, "post", reverse("leads:disqualify", args=[lead.pk]), form, watch=(lead,))


@fuzz
@given(data=st.data())
def test_lead_bulk_qualify_survives_hostile_input(data, as_manager, manager, records):
    leads = [LeadFactory(owner=manager), LeadFactory(owner=manager, qualified=True)]
    pks = [lead.pk for lead in leads]
    yes_no = st.sampled_from(["yes", "no"])
    form = data.draw(
        form_data(
            {
                "lead_ids": st.lists(
                    st.one_of(ids(*pks), int64s), min_size=1, max_size=4, unique=True
                ),
                "create_account": yes_no,
                "create_contact": yes_no,
                "create_opportunity": yes_no,
                "currency": st.one_of(st.just(""), ids(records["currency"])),
            },
            junk=hostile_in_range,
            fixed={"next": next_urls},
        )
    )
    response = submit(as_manager, "post", reverse("leads:bulk_qualify"), form, watch=tuple(leads))
    assert_local_redirect(response)


# --- Accounts and contacts -----------------------------------------------------------------


@fuzz
@given(data=st.data())
def test_account_create_survives_hostile_input(data, as_manager, records):
    form = data.draw(form_data(account_fields(records)))
    submit(
        as_manager,
        "post",
        reverse("accounts:create"),
        form,
        urlencoded=data.draw(st.booleans()),
        created={"Account": 1},
    )


@fuzz
@given(data=st.data())
def test_account_edit_survives_hostile_input(data, as_manager, records):
    account = records["account"]
    form = data.draw(form_data(account_fields(records)))
    submit(
        as_manager,
        "post",
        reverse("accounts:edit", args=[account.pk]),
        form,
        urlencoded=data.draw(st.booleans()),
        watch=(account,),
        created={},
    )


@fuzz
@given(data=st.data())
def test_contact_create_survives_hostile_input(data, as_manager, records):
    form = data.draw(form_data(contact_fields(records)))
    submit(
        as_manager,
        "post",
        reverse("accounts:contact_create"),
        form,
        urlencoded=data.draw(st.booleans()),
        created={"Contact": 1},
    )


@fuzz
@given(data=st.data())
def test_contact_edit_survives_hostile_input(data, as_manager, records):
    contact = records["contact"]
    form = data.draw(form_data(contact_fields(records)))
    submit(
        as_manager,
        "post",
        reverse("accounts:contact_edit", args=[contact.pk]),
        form,
        urlencoded=data.draw(st.booleans()),
        watch=(contact,),
        created={},
    )


# --- Opportunities -------------------------------------------------------------------------


@fuzz
@given(data=st.data())
def test_opportunity_create_survives_hostile_input(data, as_manager, records):
    form = data.draw(form_data(opportunity_fields(records)))
    submit(
        as_manager,
        "post",
        reverse("opportunities:create"),
        form,
        urlencoded=data.draw(st.booleans()),
        created={"Opportunity": 1},
    )


@fuzz
@given(data=st.data())
def test_opportunity_edit_survives_hostile_input(data, as_manager, records):
    opportunity = records["opportunity"]
    form = data.draw(form_data(opportunity_fields(records)))
    submit(
        as_manager,
        "post",
        reverse("opportunities:edit", args=[opportunity.pk]),
        form,
        urlencoded=data.draw(st.booleans()),
        watch=(opportunity,),
        created={},
    )


@fuzz
@given(data=st.data())
def test_opportunity_close_survives_hostile_input(data, as_manager, manager, records):
    opportunity = OpportunityFactory(owner=manager, account=records["account"])
    outcome = data.draw(st.sampled_from(["won", "lost"]))
    state = Opportunity.State.WON if outcome == "won" else Opportunity.State.LOST
    form = data.draw(
        form_data(
            {
                "outcome": st.just(outcome),
                "status_reason": choice_of(Opportunity.STATUS_REASONS_BY_STATE[state], blank=False),
                "actual_revenue": st.one_of(st.just(""), money),
                "close_date": st.one_of(st.just(""), dates),
            }
        )
    )
    submit(
        as_manager,
        "post",
        reverse("opportunities:close", args=[opportunity.pk]),
        form,
        watch=(opportunity,),
        created={},
    )
    opportunity.refresh_from_db()
    if opportunity.state != Opportunity.State.OPEN:
        assert opportunity.closed_at and opportunity.actual_close_date


# --- Notes and activities ------------------------------------------------------------------

KINDS = ("lead", "account", "contact", "opportunity")
upload_names = st.sampled_from(
    ["brief.pdf", "Ünïcødé brief.docx", "报告.txt", "\u202etxt.exe", "a" * 300 + ".pdf", "x.HTML"]
)
uploads = st.one_of(
    st.none(),
    st.builds(
        SimpleUploadedFile,
        upload_names,
        st.binary(max_size=64),
        st.sampled_from(["application/pdf", "text/html", "application/x-msdownload"]),
    ),
)


def note_form(data, *, editing: bool = False) -> dict:
    fields = {"title": typed_text(200), "text": typed_text(500)}
    if editing:
        fields["remove_attachment"] = checkbox
    form = data.draw(form_data(fields, fixed={"next": next_urls}))
    upload = data.draw(uploads)
    if upload is not None:
        form["attachment"] = upload
    return form


@fuzz
@given(data=st.data())
def test_note_add_survives_hostile_input(data, as_manager, records):
    kind = data.draw(st.sampled_from(KINDS))
    url = reverse("activities:note_add", args=[kind, records[kind].pk])
    response = submit(as_manager, "post", url, note_form(data), created={"Note": 1})
    assert_local_redirect(response)


@fuzz
@given(data=st.data())
def test_note_edit_survives_hostile_input(data, as_manager, records):
    note = records["note"]
    url = reverse("activities:note_edit", args=[note.pk])
    response = submit(as_manager, "post", url, note_form(data, editing=True), watch=(note,))
    assert_local_redirect(response)


@pytest.mark.parametrize("type", Activity.Type.values)
@fuzz
@given(data=st.data())
def test_activity_add_survives_hostile_input(data, type, as_manager, records):
    kind = data.draw(st.sampled_from(KINDS))
    url = reverse("activities:add", args=[kind, records[kind].pk, type])
    form = data.draw(form_data(activity_fields(records), fixed={"next": next_urls}))
    response = submit(
        as_manager,
        "post",
        url,
        form,
        urlencoded=data.draw(st.booleans()),
        created={"Activity": 1},
    )
    assert_local_redirect(response)


@pytest.mark.parametrize("type", Activity.Type.values)
@fuzz
@given(data=st.data())
def test_activity_edit_survives_hostile_input(data, type, as_manager, records):
    activity = records["activities"][type]
    form = data.draw(form_data(activity_fields(records), fixed={"next": next_urls}))
    response = submit(
        as_manager,
        "post",
        reverse("activities:edit", args=[activity.pk]),
        form,
        urlencoded=data.draw(st.booleans()),
        watch=(activity,),
        created={},
    )
    assert_local_redirect(response)


# --- Stakeholders --------------------------------------------------------------------------

roles = choice_of(Connection.Role.choices, blank=False)


@fuzz
@given(data=st.data())
def test_stakeholder_new_survives_hostile_input(data, as_manager, records):
    kind = data.draw(st.sampled_from(["lead", "opportunity"]))
    form = data.draw(
        form_data(
            {
                "first_name": typed_text(80),
                "last_name": typed_text(80, min_size=1),
                "email": emails,
                "job_title": typed_text(100),
                "business_phone": typed_text(50),
                "role": roles,
                "ignore_duplicates": checkbox,
            }
        )
    )
    submit(
        as_manager,
        "post",
        reverse("activities:stakeholder_new", args=[kind, records[kind].pk]),
        form,
        urlencoded=data.draw(st.booleans()),
        created={"Contact": 1, "Connection": 1},
    )


@fuzz
@given(data=st.data())
def test_stakeholder_add_survives_hostile_input(data, as_manager, manager, records):
    kind = data.draw(st.sampled_from(["lead", "opportunity"]))
    contact = ContactFactory(owner=manager)
    form = data.draw(
        form_data(
            {"contact": ids(contact.pk, records["contact"].pk), "role": roles},
            fixed={"next": next_urls},
        )
    )
    response = submit(
        as_manager,
        "post",
        reverse("activities:stakeholder_add", args=[kind, records[kind].pk]),
        form,
        created={"Connection": 1},
    )
    assert_local_redirect(response)


@fuzz
@given(data=st.data())
def test_stakeholder_role_survives_hostile_input(data, as_manager, records):
    connection = records["connection"]
    form = data.draw(form_data({"role": roles}, fixed={"next": next_urls}))
    response = submit(
        as_manager,
        "post",
        reverse("activities:stakeholder_role", args=[connection.pk]),
        form,
        watch=(connection,),
        created={},
    )
    assert_local_redirect(response)


# --- A rep's own records ------------------------------------------------------------------


@fuzz
@given(data=st.data())
def test_rep_cannot_reassign_or_change_state_with_hostile_posts(data, rep, manager, records):
    """A rep's edit forms have no owner (or a disabled one) and no state: whatever
    is posted for them, a rep's record stays theirs and keeps its state."""
    client = Client()
    client.force_login(rep)
    makers = {
        "leads:edit": (lambda: LeadFactory(owner=rep), lead_fields),
        "accounts:edit": (lambda: AccountFactory(owner=rep), account_fields),
        "accounts:contact_edit": (lambda: ContactFactory(owner=rep), contact_fields),
        "opportunities:edit": (
            lambda: OpportunityFactory(owner=rep, account=records["account"]),
            opportunity_fields,
        ),
    }
    kind = data.draw(st.sampled_from(sorted(makers)))
    make, fields_of = makers[kind]
    record, fields = make(), fields_of(records)
    form = data.draw(
        form_data(
            fields,
            fixed={
                "owner": st.just(str(manager.pk)),
                "owner_id": st.just(str(manager.pk)),
                "state": st.sampled_from(["qualified", "won", "disqualified"]),
                "is_active": st.just(""),
            },
        )
    )
    submit(client, "post", reverse(kind, args=[record.pk]), form, created={})
    record.refresh_from_db()
    assert record.owner_id == rep.pk
    assert getattr(record, "state", "open") == "open"
    assert getattr(record, "is_active", True) is True


# --- Sign-in -------------------------------------------------------------------------------


def _signed_in(response) -> bool:
    return response.status_code == 302


@fuzz
@given(data=st.data())
def test_login_survives_hostile_input(data, manager):
    client = Client()
    form = data.draw(
        form_data(
            {
                "username": st.sampled_from(["manager", "MANAGER", "manager "]),
                "password": st.sampled_from(["password", "wrong"]),
            },
            fixed={"next": next_urls},
            junk=short_hostile,
        )
    )
    response = submit(client, "post", reverse("login"), form, success=_signed_in)
    assert response.status_code in (200, 302, 403, 429)
    assert_local_redirect(response)
