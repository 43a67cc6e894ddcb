from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.reports_index, name="index"),
    path("lead-sources/", views.lead_source_report_view, name="lead_sources"),
]
