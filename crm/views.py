"""View helpers every app's pages share: a filtered list page, the record a
user may change, a delete action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .filters import SortableFilterSet
from .forms import add_service_errors
from .pagination import CappedPaginator
from .permissions import ensure_can_change

PER_PAGE = 50


@dataclass(frozen=True)
class Listing:
    """What a list page (templates/includes/record_list.html) says and links to."""

    title: str  # "Accounts"
    section: str  # the breadcrumb above it: "Customers"
    noun: str  # the records, plural, in a sentence: "accounts"
    create_url_name: str  # the URL name of the create form
    new_label: str  # the create button: "New account"
    create_label: str  # the empty state's link: "Create an account"
    table: str  # the template of the table's header and rows ("accounts/_account_table.html")

    @property
    def create_url(self) -> str:
        return reverse(self.create_url_name)


def list_page(
    request: HttpRequest,
    filterset_class: type[SortableFilterSet],
    queryset: QuerySet,
    listing: Listing,
    extra: dict | None = None,
) -> HttpResponse:
    """A filtered, sorted list, 50 rows a page; the filters stay in the page links.

    The count stops at 10,000 rows, so a page never counts a whole large table.
    """
    filterset = filterset_class(request.GET or None, queryset=queryset, request=request)
    page = CappedPaginator(filterset.qs, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "filter": filterset,
        "page": page,
        "is_filtered": filterset.is_filtered,
        "listing": listing,
        "table_testid": f"{queryset.model._meta.model_name}-table",
    }
    return render(request, "includes/record_list.html", context | (extra or {}))


def get_for_change(request: HttpRequest, model: type[Model], pk: int):
    """The record, if the user may change it; PermissionDenied otherwise."""
    record = get_object_or_404(model.objects.select_related("owner"), pk=pk)
    ensure_can_change(request.user, record)
    return record


def delete_view(model: type[Model], service, list_url_name: str):
    """A POST-only view deleting one record through `service`; a refusal
    (ValidationError) goes back to the record with the reason."""

    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        record = get_object_or_404(model.objects.select_related("owner"), pk=pk)
        try:
            service(record, user=request.user)
        except ValidationError as exc:
            messages.error(request, f"{' '.join(exc.messages)} Nothing was deleted.")
            return redirect(record)
        label = str(record._meta.verbose_name).capitalize()
        messages.success(request, f"{label} “{record}” deleted.")
        return redirect(list_url_name)

    return view


def form_page(
    request: HttpRequest,
    form: BaseForm,
    save: Callable[..., Model],
    template: str,
    *,
    done: str,
    record: Model | None = None,
    refusals: tuple[type[Exception], ...] = (),
    context: dict | None = None,
) -> HttpResponse:
    """A create or edit page: on a valid POST, `save(**form.cleaned_data)` (the
    service call) and back to the saved record with "<Kind> “<record>” <done>."; a
    ValidationError it raises shows on the form, one of `refusals` (a named
    refusal with a `message`) goes back to `record` with it. Otherwise the form
    (again), with `record` (an edit) as it is saved, not as the form changed it."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(**form.cleaned_data)
        except refusals as exc:
            messages.error(request, exc.message)
            return redirect(record)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            kind = str(saved._meta.verbose_name).capitalize()
            messages.success(request, f"{kind} “{saved}” {done}.")
            return redirect(saved)
    if record is not None and form.is_bound:
        record.refresh_from_db()
    return render(request, template, {"form": form, **(context or {})})
