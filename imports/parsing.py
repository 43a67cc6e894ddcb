"""Reading CSV files exported by people and by other CRMs: the encoding, the
delimiter, the rows with their line numbers, and which column is which field."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

# UTF-8 first (with or without Excel's byte order mark); else the Windows
# code page Excel writes on Western systems; Latin-1 decodes any byte at all.
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
DELIMITERS = (",", ";", "\t")

# What a header may say for each lead field, compared without case, spaces or
# punctuation ("E-mail" is "email").
SYNONYMS = {
    "topic": ["topic", "subject", "leadtopic", "interest"],
    "first_name": ["firstname", "first", "givenname", "forename"],
    "last_name": ["lastname", "last", "surname", "familyname"],
    "company_name": [
        "company",
        "companyname",
        "organization",
        "organisation",
        "account",
        "accountname",
    ],
    "job_title": ["jobtitle", "title", "position"],
    "business_phone": [
        "businessphone",
        "phone",
        "phonenumber",
        "workphone",
        "officephone",
        "telephone",
    ],
    "mobile_phone": ["mobilephone", "mobile", "mobilephonenumber", "cellphone", "cell"],
    "email": ["email", "emailaddress", "mail"],
    "website": ["website", "websiteurl", "web", "url", "companywebsite"],
    "lead_source": ["leadsource", "source", "originalsource"],
    "rating": ["rating", "leadrating"],
    "industry": ["industry"],
    "budget_amount": ["budgetamount", "budget"],
    "currency": ["currency", "currencycode"],
    "purchase_timeframe": ["purchasetimeframe", "timeframe"],
    "purchase_process": ["purchaseprocess"],
    "do_not_email": ["donotemail", "emailoptout"],
    "do_not_call": ["donotcall", "donotphone"],
    "description": ["description", "notes", "note", "comments"],
    "owner": ["owner", "leadowner", "ownername", "assignedto"],
}


class FileProblem(Exception):
    """A file that cannot be imported at all; the message says why, for the user."""


@dataclass(frozen=True)
class ParsedFile:
    text: str
    encoding: str
    delimiter: str
    headers: list[str]
    row_count: int


@dataclass(frozen=True)
class Row:
    line: int  # where the row starts in the file; the header is line 1
    values: list[str]
    end: int = 0  # the offset in the text after the row
    next_line: int = 0  # the line after the row


def header_key(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.casefold())


def _looks_binary(sample: bytes) -> bool:
    """A spreadsheet, an archive or UTF-16 without its byte order mark is full of
    zero bytes; a text file with one stray NUL is not binary: that row alone
    fails when it is imported."""
    return sample.count(b"\x00") > max(2, len(sample) // 1000)


def decode(raw: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read with."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise FileProblem("The file says it is UTF-16 but is not.") from None
    if _looks_binary(raw[:65536]):
        raise FileProblem(
            "This is not a text file (is it a spreadsheet?). Save it as CSV and upload that."
        )
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("Latin-1 decodes every byte")  # pragma: no cover


def sniff_delimiter(text: str) -> str:
    """The delimiter the header line uses most: comma, semicolon or tab."""
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(text: str, delimiter: str, *, start: int, line: int) -> Iterator[Row]:
    """Every record from `start` (the header too when start is 0), blank ones
    included, each with the line it starts on and the offset after it."""
    buffer = io.StringIO(text, newline="")
    buffer.seek(start)
    reader = csv.reader(buffer, delimiter=delimiter, strict=True)
    next_line = line
    try:
        for values in reader:
            row_line, next_line = next_line, line + reader.line_num
            yield Row(line=row_line, values=values, end=buffer.tell(), next_line=next_line)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise FileProblem(
                f"Line {next_line} has a value over {csv.field_size_limit():,} characters "
                "long; no field of a lead holds that much. Check the file's quotes."
            ) from None
        raise FileProblem(f"Line {next_line} cannot be read: {exc}.") from None


def rows(text: str, delimiter: str, *, start: int = 0, line: int = 1) -> Iterator[Row]:
    """The data rows after the header, each with the line it starts on and the
    offset in `text` just after it, where a later read may resume (`start`,
    with the `line` found there). Blank lines are left out. Raises FileProblem
    on a broken quote."""
    for row in _records(text, delimiter, start=start, line=line):
        if row.line != 1 and any(v.strip() for v in row.values):
            yield row


def parse(raw: bytes, *, max_columns: int, max_line_chars: int) -> ParsedFile:
    """Check a whole uploaded file; FileProblem says what is wrong with it.

    Besides the encoding and the quoting, the file's shape is bounded: at most
    `max_columns` columns on any line and `max_line_chars` characters in any
    row, so that no page or batch built from it can grow without limit.
    """
    if not raw.strip():
        raise FileProblem("The file is empty.")
    text, encoding = decode(raw)
    delimiter = sniff_delimiter(text)
    headers: list[str] | None = None
    count, start = 0, 0
    for record in _records(text, delimiter, start=0, line=1):
        if len(record.values) > max_columns:
            what = "The first line (the column names)" if headers is None else f"Line {record.line}"
            raise FileProblem(
                f"{what} has {len(record.values):,} columns; at most {max_columns:,} can be "
                "imported. Remove the columns you do not need and upload the file again."
            )
        if record.end - start > max_line_chars:
            raise FileProblem(
                f"Line {record.line} is {record.end - start:,} characters long; a row may be "
                f"at most {max_line_chars:,}. Check the file's quotes, or shorten that row."
            )
        start = record.end
        if headers is None:
            headers = [h.strip() for h in record.values]
            if not any(headers):
                raise FileProblem("The first line should name the columns, but it is empty.")
            if any("\x00" in h for h in headers):
                raise FileProblem(
                    "The first line (the column names) contains a NUL character (a zero "
                    "byte), which cannot be stored. Save the file again as CSV and upload that."
                )
        elif any(v.strip() for v in record.values):
            count += 1
    if headers is None:
        raise FileProblem("The file is empty.")
    if not count:
        raise FileProblem("The file has a header line but no rows of leads.")
    return ParsedFile(
        text=text, encoding=encoding, delimiter=delimiter, headers=headers, row_count=count
    )


def auto_mapping(headers: list[str], fields: list[str]) -> dict[str, int]:
    """Lead field -> column index for each header that names a field (first match wins)."""
    by_key: dict[str, int] = {}
    for i, header in enumerate(headers):
        by_key.setdefault(header_key(header), i)
    mapping = {}
    for field in fields:
        for synonym in SYNONYMS.get(field, []):
            if synonym in by_key and by_key[synonym] not in mapping.values():
                mapping[field] = by_key[synonym]
                break
    return mapping
