"""The public web-to-lead endpoint, outside the signed-in app's /leads/ URLs."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("<str:token>/", public_views.submit, name="web_to_lead"),
]
