from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

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
    path("leads/", include("leads.urls")),
    path("", include("accounts.urls")),
    path("opportunities/", include("opportunities.urls")),
    path("activities/", include("activities.urls")),
    path("reports/", include(([path("", views.reports_index, name="index")], "reports"))),
    path("admin/", admin.site.urls),
]
