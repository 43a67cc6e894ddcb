"""Text normalisation shared by duplicate detection and the keys it indexes."""

import unicodedata

# Fewer digits than this is not a phone number worth matching on.
MIN_PHONE_DIGITS = 7


def name_key(value: str | None) -> str:
    """Case- and whitespace-insensitive key: 'ACME  Corp ' and 'acme corp' match."""
    return "".join((value or "").split()).casefold()


def email_key(value: str | None) -> str:
    return (value or "").strip().casefold()


def phone_key(value: str | None) -> str:
    """The digits of a phone number: '+1 (555) 010-2030' and '15550102030' match,
    and so do digits of other scripts with their ASCII ones. Empty when there are
    too few digits to be a phone number ('ext. 12')."""
    digits = "".join(str(unicodedata.decimal(c)) for c in value or "" if c.isdecimal())
    return digits if len(digits) >= MIN_PHONE_DIGITS else ""
