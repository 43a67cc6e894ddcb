"""Money in several currencies: converting an amount, and adding amounts up in
the organisation's base currency, with the exchange rates admins keep
(Currency.exchange_rate: units of the currency per one base unit)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import DecimalField, Expression, ExpressionWrapper, F

from .models import Currency


def convert(amount: Decimal | None, *, source: Currency | None, target: Currency) -> Decimal | None:
    """`amount` in `source` as `target`, rounded to the target's decimal places.
    An amount without a currency (None `source`) is taken as already in `target`."""
    if amount is None or source is None or source.pk == target.pk:
        return amount
    converted = Decimal(amount) / source.exchange_rate * target.exchange_rate
    return converted.quantize(Decimal(1).scaleb(-target.decimal_places), ROUND_HALF_EVEN)


def in_base(amount: str | Expression, currency: str = "currency") -> ExpressionWrapper:
    """An SQL expression for `amount` (a field name or an expression) in the base
    currency, at the current rate of the row's `currency` (sum it to add amounts
    in several currencies)."""
    value = F(amount) if isinstance(amount, str) else amount
    return ExpressionWrapper(
        value / F(f"{currency}__exchange_rate"),
        output_field=DecimalField(max_digits=30, decimal_places=6),
    )


def base_amount(amount: Decimal | None) -> Decimal | None:
    """A sum of in_base() values, rounded to cents for display."""
    return None if amount is None else Decimal(amount).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
