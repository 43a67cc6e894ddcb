"""The public web-to-lead endpoint: a form on another website posts leads here.

It is the one page of the app open to anonymous visitors, and it is posted
from other sites, so it is exempt from login and from CSRF: the unguessable
token in the URL names the form, a honeypot field catches form-filling bots
and a per-address rate limit (counted in the database) stops floods. The
rules are the services': `record_web_to_lead_post` counts the post and
`create_web_lead` validates, routes and saves the lead.
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services
from .exceptions import NoLeadOwner, TooManyPosts
from .models import Lead, WebToLeadForm

logger = logging.getLogger(__name__)

# A field the website's form hides from people (CSS, not type="hidden"); bots
# fill every field they find. A post with it filled gets the usual answer and
# creates nothing, so the bot learns nothing.
HONEYPOT_FIELD = "website_url_confirm"


def _submission_fields() -> dict[str, forms.Field]:
    fields = forms.fields_for_model(Lead, fields=services.WEB_LEAD_FIELDS)
    for field in fields.values():
        # What is required is create_web_lead's call (a topic defaults; a name
        # or a company is needed); the form only parses types and lengths.
        field.required = False
    return fields


WebLeadSubmission = type("WebLeadSubmission", (forms.Form,), _submission_fields())


def _wants_json(request: HttpRequest) -> bool:
    return request.GET.get("format") == "json" or "application/json" in request.headers.get(
        "Accept", ""
    )


def _error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _success(request: HttpRequest, form: WebToLeadForm) -> HttpResponse:
    if _wants_json(request) or not form.thank_you_url:
        return JsonResponse({"ok": True}, status=201)
    return HttpResponseRedirect(form.thank_you_url, status=303)


@login_not_required
@csrf_exempt
@require_POST
def submit(request: HttpRequest, token: str) -> HttpResponse:
    form = WebToLeadForm.objects.filter(token=token, is_active=True).first()
    if form is None:
        return _error("No such form.", 404)
    try:
        services.record_web_to_lead_post(form=form, ip=request.META.get("REMOTE_ADDR") or "0.0.0.0")
    except TooManyPosts as exc:
        return _error(exc.message, 429)
    if request.POST.get(HONEYPOT_FIELD):
        return _success(request, form)
    submission = WebLeadSubmission(request.POST)
    if not submission.is_valid():
        errors = {name: list(messages) for name, messages in submission.errors.items()}
        return _error("Check the fields.", 400, errors=errors)
    try:
        services.create_web_lead(form=form, data=submission.cleaned_data)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return _error("Check the fields.", 400, errors=errors)
    except NoLeadOwner as exc:
        # The organisation's set-up, not the visitor, is at fault: say so in the log.
        logger.error("Web-to-lead form %s: %s", form.pk, exc.message)
        return _error("The lead could not be taken right now; try again later.", 503)
    return _success(request, form)
