"""Account and contact pages: lists, detail, create/edit and JSON lookups.

Views stay thin: they parse a form, call one service from accounts.services,
and turn its refusal into a form error or a message.
"""

from __future__ import annotations

import functools

from django.db.models import Model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from crm.permissions import can_change, can_delete
from crm.views import Listing, delete_view, form_page, get_for_change, list_page

from . import services
from .filters import AccountFilter, ContactFilter
from .forms import AccountForm, ContactForm
from .models import Account, Contact

# --- Accounts --------------------------------------------------------------------------------


def account_list(request: HttpRequest) -> HttpResponse:
    return list_page(
        request,
        AccountFilter,
        Account.objects.select_related("owner"),
        Listing(
            title="Accounts",
            section="Customers",
            noun="accounts",
            create_url_name="accounts:create",
            new_label="New account",
            create_label="Create an account",
            table="accounts/_account_table.html",
        ),
    )


def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.select_related("owner"), pk=pk)
    context = {
        "account": account,
        "record": account,
        "contacts": account.contacts.order_by("last_name", "first_name", "pk"),
        "opportunities": account.opportunities.select_related("currency", "stage", "owner"),
        "can_change": can_change(request.user, account),
        "can_delete": can_delete(request.user, account),
    }
    return render(request, "accounts/account_detail.html", context)


def account_create(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None, user=request.user)
    save = functools.partial(services.create_account, user=request.user)
    return form_page(request, form, save, "accounts/account_form.html", done="created")


def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_for_change(request, Account, pk)
    form = AccountForm(request.POST or None, instance=account, user=request.user)
    save = functools.partial(services.update_account, account=account, user=request.user)
    return form_page(
        request,
        form,
        save,
        "accounts/account_form.html",
        done="saved",
        record=account,
        context={"account": account},
    )


@require_GET
def account_lookup(request: HttpRequest) -> JsonResponse:
    """{"name": ...} of the account `?id=N`; the lead form fills its empty company name."""
    account = _lookup(request, Account)
    if account is None:
        return _not_found("account")
    return JsonResponse({"id": account.pk, "name": account.name})


# --- Contacts --------------------------------------------------------------------------------


def contact_list(request: HttpRequest) -> HttpResponse:
    return list_page(
        request,
        ContactFilter,
        Contact.objects.select_related("owner", "account"),
        Listing(
            title="Contacts",
            section="Customers",
            noun="contacts",
            create_url_name="accounts:contact_create",
            new_label="New contact",
            create_label="Create a contact",
            table="accounts/_contact_table.html",
        ),
    )


def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.select_related("owner", "account"), pk=pk)
    context = {
        "contact": contact,
        "record": contact,
        "opportunities": contact.opportunities.select_related("currency", "stage", "owner"),
        "can_change": can_change(request.user, contact),
        "can_delete": can_delete(request.user, contact),
    }
    return render(request, "accounts/contact_detail.html", context)


def contact_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    account_id = request.GET.get("account", "")
    if account_id.isdigit():
        initial["account"] = account_id
    form = ContactForm(request.POST or None, initial=initial, user=request.user)
    save = functools.partial(services.create_contact, user=request.user)
    return form_page(request, form, save, "accounts/contact_form.html", done="created")


def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_change(request, Contact, pk)
    form = ContactForm(request.POST or None, instance=contact, user=request.user)
    save = functools.partial(services.update_contact, contact=contact, user=request.user)
    return form_page(
        request,
        form,
        save,
        "accounts/contact_form.html",
        done="saved",
        record=contact,
        context={"contact": contact},
    )


@require_GET
def contact_lookup(request: HttpRequest) -> JsonResponse:
    """The contact `?id=N`'s details that a new lead copies into its empty fields."""
    contact = _lookup(request, Contact)
    if contact is None:
        return _not_found("contact")
    return JsonResponse(
        {
            "id": contact.pk,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "job_title": contact.job_title,
            "business_phone": contact.business_phone,
            "mobile_phone": contact.mobile_phone,
            "email": contact.email,
        }
    )


def _lookup(request: HttpRequest, model: type[Model]):
    pk = request.GET.get("id", "")
    # ASCII digits only ("²".isdigit() is true) and within a bigint.
    if not (pk.isascii() and pk.isdigit() and len(pk) < 19):
        return None
    return model.objects.filter(pk=int(pk)).first()


def _not_found(what: str) -> JsonResponse:
    return JsonResponse({"error": f"No such {what}."}, status=404)


account_delete = delete_view(
    Account,
    lambda record, user: services.delete_account(account=record, user=user),
    "accounts:list",
)
contact_delete = delete_view(
    Contact,
    lambda record, user: services.delete_contact(contact=record, user=user),
    "accounts:contact_list",
)
