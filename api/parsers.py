"""The API's JSON parser: DRF's, with a body nested too deeply for Python's
decoder (a thousand brackets) refused as malformed, like any other bad JSON,
instead of escaping as a RecursionError (a 500)."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
