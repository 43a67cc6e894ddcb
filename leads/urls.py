from django.urls import path

from . import views

app_name = "leads"

urlpatterns = [
    path("", views.lead_list, name="list"),
    path("new/", views.lead_create, name="create"),
    path("export/", views.lead_export, name="export"),
    path("export/start/", views.lead_export_start, name="export_start"),
    path("exports/<int:pk>/", views.lead_export_status, name="export_status"),
    path("exports/<int:pk>/download/", views.lead_export_download, name="export_download"),
    path("bulk-qualify/", views.lead_bulk_qualify, name="bulk_qualify"),
    path("bulk-disqualify/", views.lead_bulk_disqualify, name="bulk_disqualify"),
    path("bulk/<int:pk>/", views.lead_bulk_status, name="bulk_status"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/score/", views.lead_score, name="score"),
    path("<int:pk>/qualify/", views.lead_qualify, name="qualify"),
    path("<int:pk>/disqualify/", views.lead_disqualify, name="disqualify"),
    path("<int:pk>/reactivate/", views.lead_reactivate, name="reactivate"),
    path("<int:pk>/delete/", views.lead_delete, name="delete"),
    path("<int:pk>/steps/", views.lead_steps, name="steps"),
    path("<int:pk>/steps/edit/", views.lead_steps, {"edit": True}, name="edit_steps"),
    path("<int:pk>/switch-process/", views.lead_switch_process, name="switch_process"),
]
