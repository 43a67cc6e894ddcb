"""/api/v1/: the REST API, its OpenAPI schema and its documentation pages.
Not behind the sign-in redirect: an unauthenticated call answers 401."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from . import problems, resources, views

app_name = "api"


def _open(view):
    return login_not_required(view)


def resources_at(plural: str, singular: str, listing, detail) -> list:
    """`plural/` (list, create) and `plural/<id>/` (read, change, delete)."""
    return [
        path(f"{plural}/", _open(listing.as_view()), name=plural),
        path(f"{plural}/<int:pk>/", _open(detail.as_view()), name=singular),
    ]


# Swagger UI and Redoc set styles from their scripts (Redoc also runs its search in
# a Web Worker made from a blob): on these two pages only, styles may be inline and
# such a worker may run. Scripts stay the site's own files.
_docs_csp = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})


urlpatterns = [
    path("schema/", _open(SpectacularAPIView.as_view()), name="schema"),
    path(
        "docs/",
        _open(_docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api:schema"))),
        name="docs",
    ),
    path(
        "redoc/",
        _open(_docs_csp(SpectacularRedocView.as_view(url_name="api:schema"))),
        name="redoc",
    ),
    path("leads/", _open(views.LeadList.as_view()), name="leads"),
    path("leads/<int:pk>/", _open(views.LeadDetail.as_view()), name="lead"),
    path("leads/<int:pk>/score", _open(views.LeadScore.as_view()), name="lead_score"),
    path("leads/qualify", _open(views.LeadsQualify.as_view()), name="leads_qualify"),
    path("leads/disqualify", _open(views.LeadsDisqualify.as_view()), name="leads_disqualify"),
    path("leads/<int:pk>/qualify", _open(views.LeadQualify.as_view()), name="lead_qualify"),
    path(
        "leads/<int:pk>/disqualify", _open(views.LeadDisqualify.as_view()), name="lead_disqualify"
    ),
    path(
        "leads/<int:pk>/reactivate", _open(views.LeadReactivate.as_view()), name="lead_reactivate"
    ),
    path("currencies/", _open(views.CurrencyList.as_view()), name="currencies"),
    path("users/", _open(views.UserList.as_view()), name="users"),
    path("process-flows/", _open(views.ProcessFlowList.as_view()), name="process_flows"),
    path("choices/", _open(views.ChoiceLists.as_view()), name="choices"),
    path("opportunities/", _open(views.OpportunityList.as_view()), name="opportunities"),
    path("opportunities/<int:pk>/", _open(views.OpportunityDetail.as_view()), name="opportunity"),
    path(
        "opportunities/<int:pk>/next-stage",
        _open(views.OpportunityNextStage.as_view()),
        name="opportunity_next_stage",
    ),
    path(
        "opportunities/<int:pk>/previous-stage",
        _open(views.OpportunityPreviousStage.as_view()),
        name="opportunity_previous_stage",
    ),
    path(
        "opportunities/<int:pk>/close",
        _open(views.OpportunityClose.as_view()),
        name="opportunity_close",
    ),
    path(
        "opportunities/<int:pk>/reopen",
        _open(views.OpportunityReopen.as_view()),
        name="opportunity_reopen",
    ),
    *resources_at("accounts", "account", resources.AccountList, resources.AccountDetail),
    *resources_at("contacts", "contact", resources.ContactList, resources.ContactDetail),
    *resources_at("notes", "note", resources.NoteList, resources.NoteDetail),
    path(
        "notes/<int:pk>/attachment",
        _open(resources.NoteAttachment.as_view()),
        name="note_attachment",
    ),
    *resources_at("activities", "activity", resources.ActivityList, resources.ActivityDetail),
    path(
        "activities/<int:pk>/complete",
        _open(resources.ActivityComplete.as_view()),
        name="activity_complete",
    ),
    path(
        "activities/<int:pk>/cancel",
        _open(resources.ActivityCancel.as_view()),
        name="activity_cancel",
    ),
    *resources_at(
        "stakeholders", "stakeholder", resources.StakeholderList, resources.StakeholderDetail
    ),
    # Any other address under /api/v1/ (a malformed id): a problem+json 404, not an HTML page.
    re_path(r"^[\s\S]*$", _open(problems.not_found), name="not_found"),
]
