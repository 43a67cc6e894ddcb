"""What the OpenAPI schema says of the API's own classes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (Profile › API tokens): `Bearer ll_…`.",
        }


PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem: `code` is stable, `errors` lists bad fields.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "example": "lead_not_open"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "additionalProperties": True,
}
REFUSALS = {
    "400": "Bad input (`errors` by field); nothing changed.",
    "401": "No valid token or session.",
    "403": "The token is read-only, or the user may not do this.",
    "404": "No such record.",
    "409": "The record's state refuses it (not open, duplicates found, a customer).",
    "412": "The record changed since the If-Match version.",
    "422": "A rule refuses it (required steps missing, reason not allowed).",
    "429": "Too many requests for this token: wait `Retry-After` seconds.",
}


def problems_and_links(result, generator, request, public):
    """Every operation's refusals as application/problem+json, and links from
    each created record (its `id`) to the operations on it, which clients and
    Schemathesis' stateful tests follow."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    operations = [
        (path, operation)
        for path, methods in result["paths"].items()
        for operation in methods.values()
    ]
    for path, operation in operations:
        responses = operation.setdefault("responses", {})
        for status, description in REFUSALS.items():
            responses.setdefault(status, {"description": description, "content": problem})
        created = responses.get("201")
        if created is None:
            continue
        created["links"] = {
            other["operationId"]: {
                "operationId": other["operationId"],
                "parameters": {"id": "$response.body#/id"},
            }
            for other_path, other in operations
            if other_path.startswith(f"{path}{{id}}")
        }
    return result
