"""The public web-to-lead endpoint, outside the signed-in app's /leads/ URLs."""

from django.urls import path

from . import web_to_lead

urlpatterns = [
    path("<str:token>/", web_to_lead.submit, name="web_to_lead"),
]
