from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from leads import web_to_lead

from . import views
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
    path(
        "reports/",
        include(
            (
                [
                    path("", views.reports_index, name="index"),
                    path("lead-sources/", views.lead_source_report_view, name="lead_sources"),
                ],
                "reports",
            )
        ),
    ),
    path("web-to-lead/<str:token>/", web_to_lead.submit, name="web_to_lead"),
    path("admin/", admin.site.urls),
]
