from django.urls import path

from . import views

app_name = "activities"

KIND = "<str:kind>/<int:pk>"

urlpatterns = [
    path("", views.my_activities, name="list"),
    path(f"add/{KIND}/<str:type>/", views.activity_add, name="add"),
    path(f"add/{KIND}/<str:type>/form/", views.activity_add_form, name="add_form"),
    path("<int:pk>/edit/", views.activity_edit, name="edit"),
    path("<int:pk>/complete/", views.activity_complete, name="complete"),
    path("<int:pk>/cancel/", views.activity_cancel, name="cancel"),
    path("<int:pk>/delete/", views.activity_delete, name="delete"),
    path(f"notes/add/{KIND}/", views.note_add, name="note_add"),
    path("notes/<int:pk>/edit/", views.note_edit, name="note_edit"),
    path("notes/<int:pk>/delete/", views.note_delete, name="note_delete"),
    path("notes/<int:pk>/attachment/", views.note_attachment, name="attachment"),
    path(f"stakeholders/add/{KIND}/", views.stakeholder_add, name="stakeholder_add"),
    path(f"stakeholders/new/{KIND}/", views.stakeholder_new, name="stakeholder_new"),
    path(f"stakeholders/search/{KIND}/", views.stakeholder_search, name="stakeholder_search"),
    path("stakeholders/<int:pk>/role/", views.stakeholder_role, name="stakeholder_role"),
    path("stakeholders/<int:pk>/remove/", views.stakeholder_remove, name="stakeholder_remove"),
]
