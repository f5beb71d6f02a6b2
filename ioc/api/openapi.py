"""The OpenAPI document: tags, the bearer scheme, and every error declared as problem+json.

FastAPI writes the document from the routes (their ``response_model``, parameters and
dependencies); :func:`install` adds what FastAPI cannot know: which errors each route may
answer with — all of them ``application/problem+json`` with the :class:`ioc.api.models.Problem`
schema, 422 included (FastAPI would document its own validation shape, which the API never
sends) — and names operations by their route (``kpis_current``), so generated clients read well.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel

from ioc.api.models import STREAM_EVENTS
from ioc.api.models import Problem as ProblemModel
from ioc.api.problems import TITLES

__all__ = ["TAGS", "bearer", "install", "operation_id", "print_document"]

TAGS: Final = [
    {"name": "me", "description": "The calling key."},
    {"name": "areas", "description": "Areas and the map of an area's children."},
    {"name": "kpis", "description": "The catalogue, current values, series, drill-through."},
    {"name": "reports", "description": "KPIs per official period, and the period report."},
    {
        "name": "indicators",
        "description": "Periodic indicators a department enters: state, values, upload.",
    },
    {"name": "feeds", "description": "Feed health and what is down now."},
    {"name": "windows", "description": "Window rows of one metric."},
    {"name": "alerts", "description": "Alerts, their history, acknowledging."},
    {"name": "silences", "description": "Holding a rule's notifications back for a while."},
    {"name": "dead letters", "description": "Messages the pipeline could not use; replay."},
    {"name": "audit", "description": "The audit log (admin)."},
    {"name": "live", "description": "The live board's server-sent events."},
    {"name": "operations", "description": "Health, readiness and Prometheus metrics."},
]

# The header every key-checked route reads; declared so the document has a security scheme.
# auto_error=False: ioc.api.security answers a missing or wrong key itself (problem+json, audit).
bearer = HTTPBearer(
    scheme_name="apiKey",
    bearerFormat="ioc_<id>_<secret>",
    description="A key from `ioc api keys create`: `Authorization: Bearer ioc_<id>_<secret>`.",
    auto_error=False,
)

# Errors any key-checked route may answer with, beside the ones it declares itself.
_KEYED: Final = (401, 403, 429)
_ALWAYS: Final = (500, 503)
_PROBLEM_REF: Final = {"$ref": "#/components/schemas/Problem"}


def operation_id(route: APIRoute) -> str:
    """A route's operation id: its name (``kpis_current``), unique across the API."""
    return route.name


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": TITLES.get(status, "Error") + " (problem details)",
        "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
    }


def _stream_items(doc: dict[str, Any]) -> None:
    """Each live stream event (name, JSON data and its schema), as OpenAPI 3.2 describes SSE."""
    for item in doc["paths"].values():
        for operation in item.values():
            content = operation["responses"].get("200", {}).get("content", {})
            if "text/event-stream" not in content:
                continue
            content["text/event-stream"]["itemSchema"] = {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["event", "data"],
                        "properties": {
                            "event": {"const": name},
                            "data": {
                                "type": "string",
                                "contentMediaType": "application/json",
                                "contentSchema": {"$ref": f"#/components/schemas/{model.__name__}"},
                            },
                        },
                    }
                    for name, model in STREAM_EVENTS.items()
                ]
            }


def _document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with every error as problem+json and the stream's events typed.

    Each operation declares the errors it may answer with: those its route names, 422 when it
    takes parameters or a body, 404 when it names a thing or an area, 401/403/429 when it
    needs a key, and 500/503 everywhere (a bug, the database away).
    """
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=TAGS,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    named: list[type[BaseModel]] = [ProblemModel, *STREAM_EVENTS.values()]
    for model in named:
        schema = model.model_json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        for name, sub in schema.pop("$defs", {}).items():
            schemas.setdefault(name, sub)
        schemas.setdefault(model.__name__, schema)
    _stream_items(doc)
    for item in doc["paths"].values():
        for operation in item.values():
            responses = operation["responses"]
            keyed = "security" in operation
            wanted = {int(code) for code in responses if str(code)[0] in "45"}
            parameters = operation.get("parameters", [])
            if parameters or "requestBody" in operation:
                wanted.add(422)
            # A path names a thing, an `area` a place: either may not exist (or be out of scope).
            if any(p["in"] == "path" or p["name"] == "area" for p in parameters):
                wanted.add(404)
            wanted.update(_ALWAYS)
            if keyed:
                wanted.update(_KEYED)
            for status in sorted(wanted):
                declared = responses.get(str(status), {}).get("description")
                responses[str(status)] = _problem(status)
                if declared and declared != "Validation Error":  # FastAPI's, for its own shape
                    responses[str(status)]["description"] = declared
    # FastAPI's own validation shapes describe nothing the API sends.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def install(app: FastAPI) -> None:
    """Serve :func:`_document` (built once) as ``/openapi.json``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def print_document() -> None:
    """Print the document of an app with default settings: the board's gen-types.mjs reads it."""
    import json
    import sys

    from ioc.api.app import create_app
    from ioc.config import Settings

    json.dump(create_app(Settings()).openapi(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
