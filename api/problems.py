"""Every refusal as `application/problem+json` (RFC 9457): `type`, `title`,
`status`, `detail`, and a stable `code` named after the service's exception
(`lead_not_open`, `duplicates_found`, …), with `errors` by field for bad input.
One handler for the whole API (REST_FRAMEWORK's EXCEPTION_HANDLER)."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from accounts.exceptions import IsACustomer
from activities import exceptions as timeline_errors
from crm.services import RecordChanged
from leads import exceptions as lead_errors
from opportunities import exceptions as opportunity_errors
from opportunities.exceptions import OpportunityError

CONTENT_TYPE = "application/problem+json"

# Refusals of the state a record is in: 409 Conflict; the others are bad requests (422).
CONFLICTS = (
    lead_errors.LeadNotOpen
    | lead_errors.LeadNotInactive
    | lead_errors.DuplicatesFound
    | timeline_errors.RecordReadOnly
    | timeline_errors.ActivityNotOpen
    | opportunity_errors.OpportunityClosed
    | opportunity_errors.OpportunityNotClosed
    | opportunity_errors.NoSuchStage
)


def code_of(exc: BaseException) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def problem_body(status_code: int, code: str, detail, **extra) -> dict:
    return {
        "type": f"https://leadline.example/problems/{code}",
        "title": code.replace("_", " ").capitalize(),
        "status": status_code,
        "detail": detail,
        "code": code,
        **extra,
    }


def problem(status_code: int, code: str, detail, **extra) -> Response:
    body = problem_body(status_code, code, detail, **extra)
    return Response(body, status=status_code, content_type=CONTENT_TYPE)


@csrf_exempt  # a 404 for any method, even from a browser session without a token
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any address under /api/v1/ that is no operation's (a malformed id): a
    problem+json 404 rather than the site's HTML page."""
    body = problem_body(404, "not_found", "No API operation has this address.")
    return JsonResponse(body, status=404, content_type=CONTENT_TYPE)


def _contacts(contacts) -> list[dict]:
    return [{"id": c.pk, "name": c.full_name, "email": c.email} for c in contacts]


def handler(exc, context):
    if isinstance(exc, lead_errors.LeadChanged):
        return problem(412, "lead_changed", exc.message)
    if isinstance(exc, RecordChanged):
        return problem(412, exc.code, exc.message)
    if isinstance(exc, IsACustomer):
        return problem(409, "is_a_customer", exc.messages[0])
    if isinstance(exc, timeline_errors.AttachmentNotStored):
        return problem(503, "attachment_not_stored", exc.message_text)
    if isinstance(exc, timeline_errors.DuplicateContacts):
        return problem(409, "duplicate_contacts", exc.message, contacts=_contacts(exc.contacts))
    if isinstance(exc, lead_errors.DuplicatesFound):
        return problem(
            409,
            "duplicates_found",
            exc.message,
            accounts=[{"id": a.pk, "name": a.name} for a in exc.accounts],
            contacts=_contacts(exc.contacts),
        )
    if isinstance(exc, lead_errors.RequiredStepsMissing) or (
        isinstance(exc, OpportunityError) and hasattr(exc, "steps")
    ):
        return problem(422, "required_steps_missing", exc.message, steps=exc.steps)
    if isinstance(exc, opportunity_errors.StatusReasonNotAllowed):
        return problem(422, code_of(exc), exc.message, errors={"status_reason": [exc.message]})
    if isinstance(exc, lead_errors.LeadError | OpportunityError | timeline_errors.TimelineError):
        conflict = isinstance(exc, CONFLICTS)
        if isinstance(exc, timeline_errors.RecordGone):
            return problem(404, "record_gone", exc.message)
        return problem(409 if conflict else 422, code_of(exc), exc.message)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return problem(
            400, "invalid", " ".join(" ".join(m) for m in errors.values()), errors=errors
        )
    if isinstance(exc, DjangoPermissionDenied):
        return problem(403, "permission_denied", str(exc) or "You may not do this.")
    if isinstance(exc, Http404):
        return problem(404, "not_found", "No such record.")
    if isinstance(exc, RequestDataTooBig):
        return problem(413, "too_large", "The request body is too large.")
    if isinstance(exc, SuspiciousOperation):  # too many fields, a malformed multipart body
        return problem(400, "invalid", "The request body could not be read.")
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500
    if isinstance(exc, exceptions.ValidationError):
        return problem(400, "invalid", "Some fields are not valid.", errors=response.data)
    code = getattr(exc, "default_code", "error")
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    answer = problem(response.status_code, str(code), str(detail))
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            answer[header] = response[header]
    return answer


def describe(exc: BaseException) -> dict:
    """A refusal's problem body (a bulk action's outcome for one record)."""
    answer = handler(exc, {})
    if answer is None:
        return {"code": "error", "detail": "This record could not be changed; try it again."}
    body = dict(answer.data)
    for name in ("type", "title", "status"):
        body.pop(name, None)
    return body


def server_error(request, *args, **kwargs):
    """The site's 500 (urls.handler500): problem+json under /api/ (a client reads
    the same shape for every answer), else Django's own page."""
    if request.path.startswith("/api/"):
        body = problem_body(500, "server_error", "Something went wrong on our side; try again.")
        return JsonResponse(body, status=500, content_type=CONTENT_TYPE)
    return defaults.server_error(request, *args, **kwargs)
