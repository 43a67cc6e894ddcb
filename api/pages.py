"""The API tokens page (user menu › API tokens): create one (its key shown
once), see when each was last used, revoke one."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import services
from .models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “Website form”.")
    access = forms.ChoiceField(
        choices=[("read", "Read only"), ("write", "Read and write")],
        widget=forms.RadioSelect,
        initial="read",
    )
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: until you revoke it.",
    )


def token_list(request):
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        expires = form.cleaned_data["expires_on"]
        try:
            _, new_key = services.create_token(
                user=request.user,
                name=form.cleaned_data["name"],
                read_only=form.cleaned_data["access"] == "read",
                expires_at=timezone.make_aware(datetime.combine(expires, time.min))
                if expires
                else None,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error("expires_on" if field == "expires_at" else field, errors)
        else:
            form = TokenForm()
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "new_key": new_key,
            "tokens": ApiToken.objects.filter(user=request.user),
            "now": timezone.now(),
        },
    )


@require_POST
def token_revoke(request, pk: int):
    token = services.revoke_token(token=get_object_or_404(ApiToken, pk=pk), user=request.user)
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("tokens:list")
