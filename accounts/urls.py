"""Accounts at /accounts/ and contacts at /contacts/, both in the "accounts"
namespace; crm.urls includes this module at the site root."""

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/", views.account_list, name="list"),
    path("accounts/new/", views.account_create, name="create"),
    path("accounts/lookup/", views.account_lookup, name="lookup"),
    path("accounts/<int:pk>/", views.account_detail, name="detail"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="edit"),
    path("accounts/<int:pk>/delete/", views.account_delete, name="delete"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/lookup/", views.contact_lookup, name="contact_lookup"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
]
