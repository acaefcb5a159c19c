"""OpenAPI for request bodies an endpoint reads itself (for speed) instead of through a FastAPI parameter."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

REF_TEMPLATE = "#/components/schemas/{model}"
BODY_SCHEMAS: dict[str, Any] = {}
"""Component schemas such bodies refer to; ``errors.install_problem_schema`` adds them to the document."""


def json_body(shape: Any, title: str) -> dict[str, Any]:
    """``openapi_extra`` declaring a required JSON body of ``shape``, documented as FastAPI documents a body
    parameter of that type."""
    schema = TypeAdapter(shape).json_schema(ref_template=REF_TEMPLATE)
    BODY_SCHEMAS.update(schema.pop("$defs", {}))
    return {"requestBody": {"content": {"application/json": {"schema": {**schema, "title": title}}}, "required": True}}
