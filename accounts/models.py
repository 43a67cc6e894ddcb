from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from crm.choices import Industry
from crm.fields import WebAddressField
from crm.internals import CachedHistoryManager
from crm.text import email_key, name_key, phone_key


class Account(models.Model):
    """An organisation we sell to."""

    name = models.CharField(max_length=160)
    # Derived from name; indexed so duplicate detection is one index lookup.
    name_key = models.CharField(max_length=160, editable=False, db_index=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    website = WebAddressField(blank=True)
    industry = models.CharField(max_length=30, choices=Industry.choices, blank=True)
    city = models.CharField(max_length=80, blank=True)
    country = models.CharField(max_length=80, blank=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="accounts"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    # Audit trail (see crm.history): the derived key is left out, and the copied
    # foreign key gets no index since history is looked up by record id.
    history = HistoricalRecords(
        history_id_field=models.BigAutoField(primary_key=True),
        history_manager=CachedHistoryManager,
        excluded_fields=["name_key"],
        no_db_index=["owner"],
    )

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["owner", "name"], name="account_owner_name_idx"),
            models.Index(fields=["-created_at"], name="account_created_idx"),
        ]

    # How crm.records.read_only_message speaks of an inactive one.
    inactive_label = "inactive"
    reactivate_hint = "make it active again"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.name_key = name_key(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("accounts:detail", args=[self.pk])


class Contact(models.Model):
    """A person; standalone or working for an account."""

    first_name = models.CharField(max_length=80, blank=True)
    last_name = models.CharField(max_length=80)
    email = models.EmailField(blank=True)
    # Derived keys for duplicate detection (see accounts.selectors).
    email_key = models.CharField(max_length=254, editable=False, db_index=True)
    name_key = models.CharField(max_length=170, editable=False, db_index=True)
    job_title = models.CharField(max_length=100, blank=True)
    business_phone = models.CharField(max_length=50, blank=True)
    mobile_phone = models.CharField(max_length=50, blank=True)
    # NULL when the number has too few digits to match on (crm.text.phone_key).
    business_phone_key = models.CharField(max_length=50, null=True, editable=False)
    mobile_phone_key = models.CharField(max_length=50, null=True, editable=False)
    account = models.ForeignKey(
        Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contacts"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    # Audit trail (see crm.history), without the derived keys or foreign key indexes.
    history = HistoricalRecords(
        history_id_field=models.BigAutoField(primary_key=True),
        history_manager=CachedHistoryManager,
        excluded_fields=["email_key", "name_key", "business_phone_key", "mobile_phone_key"],
        no_db_index=["account", "owner"],
    )

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        indexes = [
            models.Index(fields=["owner", "last_name"], name="contact_owner_name_idx"),
            models.Index(fields=["-created_at"], name="contact_created_idx"),
            # Duplicate detection by phone (partial, as leads.Lead's keys).
            *(
                models.Index(
                    fields=[key],
                    name=f"contact_{key}",
                    condition=models.Q(**{f"{key}__isnull": False}),
                )
                for key in ("business_phone_key", "mobile_phone_key")
            ),
        ]

    # How crm.records.read_only_message speaks of an inactive one.
    inactive_label = "inactive"
    reactivate_hint = "make it active again"

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def save(self, *args, **kwargs) -> None:
        self.email_key = email_key(self.email)
        self.name_key = self.person_key(self.first_name, self.last_name)
        self.business_phone_key = phone_key(self.business_phone) or None
        self.mobile_phone_key = phone_key(self.mobile_phone) or None
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("accounts:contact_detail", args=[self.pk])

    @staticmethod
    def person_key(first_name: str | None, last_name: str | None) -> str:
        return f"{name_key(first_name)}|{name_key(last_name)}"
