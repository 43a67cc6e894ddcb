"""Text normalisation shared by duplicate detection and the keys it indexes."""


def name_key(value: str | None) -> str:
    """Case- and whitespace-insensitive key: 'ACME  Corp ' and 'acme corp' match."""
    return "".join((value or "").split()).casefold()


def email_key(value: str | None) -> str:
    return (value or "").strip().casefold()
