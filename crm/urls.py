"""The composition root: every app's URLs, named by string (the core imports no app)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from . import inbox_urls
from .forms import LoginForm

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="leads:list", permanent=False), name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=LoginForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("leads/import/", include("imports.urls")),
    path("leads/", include("leads.urls")),
    path("", include("accounts.urls")),
    path("opportunities/", include("opportunities.urls")),
    path("activities/", include("activities.urls")),
    path("reports/", include("reports.urls")),
    path("web-to-lead/", include("leads.web_to_lead_urls")),
    path("notifications/", include("crm.inbox_urls")),
    path("jobs/", include(inbox_urls.jobs_urlpatterns)),
    path("api/v1/", include("api.urls")),
    path("profile/tokens/", include("api.page_urls")),
    path("admin/", admin.site.urls),
]

# A bug under /api/ answers problem+json like every other API answer.
handler500 = "api.problems.server_error"
