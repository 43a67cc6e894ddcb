"""Exchange rates (Currency.exchange_rate: units per one base unit) and money in
several currencies: converting a budget, adding amounts up in the base currency."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum

from crm.models import Currency, OrganizationSettings
from crm.money import convert, in_base
from opportunities.models import Opportunity
from tests.factories import OpportunityFactory, currency

pytestmark = pytest.mark.django_db


def test_the_organisation_starts_with_usd_as_its_base_currency():
    settings = OrganizationSettings.load()
    assert settings.base_currency.code == "USD"
    assert settings.base_currency.exchange_rate == 1


@pytest.mark.parametrize(
    ("amount", "source", "target", "expected"),
    [
        ("184500", "GBP", "JPY", "35031646"),  # 184,500 / 0.79 * 150, no yen decimals
        ("1000", "USD", "EUR", "920.00"),
        ("920", "EUR", "USD", "1000.00"),
        ("100.50", "GBP", "GBP", "100.50"),
    ],
)
def test_convert(amount, source, target, expected):
    result = convert(Decimal(amount), source=currency(source), target=currency(target))
    assert result == Decimal(expected)


def test_convert_keeps_an_amount_without_a_currency_or_an_amount():
    assert convert(Decimal("10"), source=None, target=currency("EUR")) == Decimal("10")
    assert convert(None, source=currency("GBP"), target=currency("EUR")) is None


def test_in_base_adds_amounts_in_several_currencies():
    OpportunityFactory(currency=currency("USD"), estimated_revenue=Decimal("100"))
    OpportunityFactory(currency=currency("EUR"), estimated_revenue=Decimal("92"))
    OpportunityFactory(currency=currency("JPY"), estimated_revenue=Decimal("15000"))
    total = Opportunity.objects.aggregate(total=Sum(in_base("estimated_revenue")))["total"]
    assert Decimal(total).quantize(Decimal("0.01")) == Decimal("300.00")


def test_the_base_currency_rate_must_be_1():
    usd = currency("USD")
    usd.exchange_rate = Decimal("2")
    with pytest.raises(ValidationError, match="base currency"):
        usd.full_clean()


def test_a_currency_with_a_rate_other_than_1_cannot_become_the_base():
    settings = OrganizationSettings.load()
    settings.base_currency = currency("EUR")
    with pytest.raises(ValidationError, match="set it to 1 first"):
        settings.full_clean()


@pytest.mark.parametrize("rate", ["0", "-1"])
def test_the_database_refuses_a_rate_that_is_not_positive(rate):
    with transaction.atomic(), pytest.raises(IntegrityError):
        Currency.objects.filter(code="EUR").update(exchange_rate=Decimal(rate))


def test_admin_keeps_the_rates_in_the_currency_list(admin_client):
    eur = currency("EUR")
    response = admin_client.get("/admin/crm/currency/")
    assert response.status_code == 200
    assert f'name="form-{list(Currency.objects.order_by("code")).index(eur)}-exchange_rate"' in (
        response.content.decode()
    )
