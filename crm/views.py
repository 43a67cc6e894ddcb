"""View helpers every app's pages share: a filtered list page, the record a
user may change, a delete action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import process, stagebar
from .filters import SortableFilterSet
from .forms import StepsForm, add_service_errors, steps_form
from .pagination import CappedPaginator
from .permissions import can_change, ensure_can_change
from .records import read_only_message

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
    # Other views of the same records, as (label, icon, URL name): ("Board", "kanban", ...).
    views: tuple[tuple[str, str, str], ...] = ()

    @property
    def create_url(self) -> str:
        return reverse(self.create_url_name)

    @property
    def view_links(self) -> list[tuple[str, str, str]]:
        return [(label, icon, reverse(name)) for label, icon, name in self.views]


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


def steps_view(
    request: HttpRequest,
    record: Model,
    *,
    edit: bool,
    form_class: type[StepsForm],
    editable: frozenset[str],
    save: Callable[..., Model],
    refusals: tuple[type[Exception], ...] = (),
    form_kwargs: dict | None = None,
) -> HttpResponse:
    """The stage bar's steps of `record`, the fragment htmx swaps into the bar:
    read-only, or (`edit`) GET as a form and POST saved through `save(**changes)`
    (the service, with its permissions and rules) and answered read-only, or the
    form again with the reasons. Only the active stage's steps whose fields are
    `editable` (the service's) are offered. Without htmx the same form is a page
    of its own and a save goes back to the record."""
    may_change = can_change(request.user, record)
    bar = stagebar.stage_bar(record, request.user, can_change=may_change)
    fields = [s.step.field_name for s in bar.editable_steps if s.step.field_name in editable]
    if request.method == "POST" and not edit:
        return HttpResponseNotAllowed(["GET"])
    editing = edit
    if editing and not bar.can_edit:
        ensure_can_change(request.user, record)
        raise PermissionDenied(read_only_message(record))
    form = None
    if editing and fields:
        required = frozenset(s.step.field_name for s in bar.steps if s.step.is_required)
        cls = steps_form(type(record), form_class, fields)
        labels = {s.step.field_name: s.step.name for s in bar.editable_steps}
        form = cls(
            request.POST or None,
            instance=record,
            required=required,
            labels=labels,
            **(form_kwargs or {}),
        )
    is_htmx = request.headers.get("HX-Request") == "true"
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            save(**form.changes())
        except ValidationError as exc:
            add_service_errors(form, exc)
        except refusals as exc:
            form.add_error(None, exc.message)
        else:
            if not is_htmx:
                messages.success(request, "Steps saved.")
                return redirect(record)
            record.refresh_from_db()
            bar = stagebar.stage_bar(record, request.user, can_change=may_change)
            form = None
    if form is not None and form.is_bound:
        record.refresh_from_db()  # the bar shows the record as saved, the form as typed
    context = {"bar": bar, "form": form}
    if is_htmx:
        return render(request, "includes/stage_steps.html", context)
    return render(request, "includes/steps_page.html", context)


def switch_process_view(
    request: HttpRequest,
    record: Model,
    *,
    entity: str,
    switch: Callable[..., Model],
    refusals: tuple[type[Exception], ...] = (),
) -> HttpResponse:
    """ "Switch process" on the stage bar: GET, the flows `record` can move to (a
    fragment for htmx, else a page); POST, `switch(flow=...)` (the service) and
    back to the record with what happened. The step values stay on the record."""
    ensure_can_change(request.user, record)
    flows = process.flows_for(entity).exclude(pk=getattr(record.stage, "process_id", None))
    if request.method == "POST":
        flow = flows.filter(pk=request.POST.get("flow") or 0).first()
        if flow is None:
            messages.error(request, "Choose one of the processes offered; nothing was changed.")
            return redirect(record)
        try:
            switched = switch(flow=flow)
        except refusals as exc:
            messages.error(request, f"The process was not switched: {exc.message}")
        except ValidationError as exc:
            messages.error(request, f"The process was not switched: {' '.join(exc.messages)}")
        else:
            messages.success(request, f"Switched to the process “{flow}”, at {switched.stage}.")
        return redirect(record)
    context = {"record": record, "flows": list(flows)}
    if request.headers.get("HX-Request") == "true":
        return render(request, "includes/switch_process.html", context)
    return render(request, "includes/switch_process_page.html", context)


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
