"""The public web-to-lead endpoint: a form on another website posts leads here.

It is the one page of the app open to anonymous visitors, and it is posted
from other sites, so it is exempt from login and from CSRF: the unguessable
token in the URL names the form, a honeypot field catches form-filling bots
and a per-address rate limit (counted in the database, the address read by
crm.http.client_ip) stops floods. Fields come as a form post or as a JSON
object; every refusal answers JSON. The rules are the services':
`record_web_to_lead_post` counts the post and `create_web_lead` validates,
routes and saves the lead.
"""

from __future__ import annotations

import json
import logging

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
    UnreadablePostError,
)
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from crm.http import client_ip

from . import rate_limit, web_to_lead
from .exceptions import NoLeadOwner, TooManyPosts
from .models import Lead, WebToLeadForm

logger = logging.getLogger(__name__)

# A field the website's form hides from people (CSS, not type="hidden"); bots
# fill every field they find. A post with it filled gets the usual answer and
# creates nothing, so the bot learns nothing.
HONEYPOT_FIELD = "website_url_confirm"
# A lead's fields fit in a few kilobytes: a larger post is refused (413) before
# its body is read. Setting: WEB_TO_LEAD_MAX_BYTES.
WEB_TO_LEAD_MAX_BYTES = 64 * 1024


def _submission_fields() -> dict[str, forms.Field]:
    fields = forms.fields_for_model(Lead, fields=web_to_lead.WEB_LEAD_FIELDS)
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
    """Every refusal is JSON, whatever was asked: the endpoint is called by scripts."""
    return JsonResponse({"error": message, **extra}, status=status)


def _success(request: HttpRequest, form: WebToLeadForm) -> HttpResponse:
    if _wants_json(request) or not form.thank_you_url:
        return JsonResponse({"ok": True}, status=201)
    return HttpResponseRedirect(form.thank_you_url, status=303)


def max_bytes() -> int:
    return getattr(settings, "WEB_TO_LEAD_MAX_BYTES", WEB_TO_LEAD_MAX_BYTES)


class _Refused(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _posted_fields(request: HttpRequest) -> QueryDict | dict:
    """The posted fields: a form's (urlencoded or multipart) or a JSON object's.
    _Refused says what is wrong with a body that cannot be read."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > max_bytes():
        # Refused before a byte of the body is read.
        raise _Refused(f"The post is larger than {max_bytes():,} bytes.", 413)
    try:
        if request.content_type == "application/json":
            data = json.loads(request.body or b"null")
            if not isinstance(data, dict):
                raise _Refused("Post a JSON object of field names and values.", 400)
            return {k: _json_value(v) for k, v in data.items()}
        return request.POST
    except RequestDataTooBig:
        raise _Refused(f"The post is larger than {max_bytes():,} bytes.", 413) from None
    except (TooManyFieldsSent, TooManyFilesSent):
        raise _Refused("The post has too many fields.", 400) from None
    except (ValueError, MultiPartParserError, UnreadablePostError, SuspiciousOperation):
        # ValueError: JSON that does not parse (JSONDecodeError), bad multipart.
        raise _Refused("The post could not be read.", 400) from None


def _json_value(value) -> str:
    """A JSON value as a form field's text: null is empty, numbers their digits."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


@login_not_required
@csrf_exempt
def submit(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        response = _error("Post the form's fields to this address.", 405)
        response["Allow"] = "POST"
        return response
    form = WebToLeadForm.objects.filter(token=token, is_active=True).first()
    if form is None:
        return _error("No such form.", 404)
    try:
        rate_limit.record_web_to_lead_post(form=form, ip=client_ip(request))
    except TooManyPosts as exc:
        return _error(exc.message, 429)
    try:
        posted = _posted_fields(request)
    except _Refused as exc:
        return _error(exc.message, exc.status)
    if posted.get(HONEYPOT_FIELD):
        return _success(request, form)
    submission = WebLeadSubmission(posted)
    if not submission.is_valid():
        errors = {name: list(messages) for name, messages in submission.errors.items()}
        return _error("Check the fields.", 400, errors=errors)
    try:
        web_to_lead.create_web_lead(form=form, data=submission.cleaned_data)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return _error("Check the fields.", 400, errors=errors)
    except NoLeadOwner as exc:
        # The organisation's set-up, not the visitor, is at fault: say so in the log.
        logger.error("Web-to-lead form %s: %s", form.pk, exc.message)
        return _error("The lead could not be taken right now; try again later.", 503)
    return _success(request, form)
