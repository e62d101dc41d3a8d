"""The OpenAPI schema of the JSON twins (`/api/openapi.json`), for the systems that call them with an API
token: FastAPI's generated schema restricted to the `/api/` paths (the HTML pages are for browsers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from web.deps import Monitor

router = APIRouter()


def api_schema(request: Request) -> dict[str, Any]:
    schema = dict(request.app.openapi())
    schema["paths"] = {path: item for path, item in schema["paths"].items() if path.startswith("/api/")}
    schema["components"] = schema.get("components", {})
    schema["components"]["securitySchemes"] = {"token": {"type": "http", "scheme": "bearer"}}
    schema["security"] = [{"token": []}]
    return schema


@router.get("/api/openapi.json", include_in_schema=False)
def openapi_json(request: Request, user: Monitor) -> JSONResponse:
    return JSONResponse(api_schema(request))
