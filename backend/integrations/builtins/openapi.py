"""OpenAPI 3 import for the ``http`` type: one tool per operation, stored in the integration's cache.

Each generated tool takes the operation's path, query and header parameters as top-level
arguments and its JSON request body as ``body``. Local ``$ref``s are inlined (bounded depth, so
recursive schemas end in an open object).
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from backend.errors import Invalid

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
MAX_OPERATIONS = 200
MAX_DOCUMENT_BYTES = 2_000_000
_REF_DEPTH = 6


def parse_document(document: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    if len(document) > MAX_DOCUMENT_BYTES:
        raise Invalid("the OpenAPI document is too large", field="document")
    try:
        parsed = json.loads(document)
    except ValueError:
        try:
            parsed = yaml.safe_load(document)
        except yaml.YAMLError:
            raise Invalid("the OpenAPI document is neither JSON nor YAML", field="document") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("paths"), dict):
        raise Invalid("not an OpenAPI document (no 'paths')", field="document")
    return parsed


def _resolve(doc: dict[str, Any], node: Any, depth: int = 0) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if depth >= _REF_DEPTH or not ref.startswith("#/"):
                return {"type": "object"}
            target: Any = doc
            for part in ref[2:].split("/"):
                target = (
                    target.get(part.replace("~1", "/").replace("~0", "~"), {})
                    if isinstance(target, dict)
                    else {}
                )
            return _resolve(doc, target, depth + 1)
        return {k: _resolve(doc, v, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(doc, v, depth) for v in node]
    return node


def _tool_name(operation: dict[str, Any], method: str, path: str, taken: set[str]) -> str:
    raw = operation.get("operationId") or f"{method}_{path}"
    raw = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(raw))
    name = re.sub(r"[^A-Za-z0-9]+", "_", raw).strip("_").lower()[:56] or method
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _operation_tool(
    doc: dict[str, Any], path: str, method: str, operation: dict[str, Any], shared: list[Any], taken: set[str]
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    params: list[dict[str, str]] = []
    for raw in [*shared, *(operation.get("parameters") or [])]:
        param = _resolve(doc, raw)
        if not isinstance(param, dict) or param.get("in") not in ("path", "query", "header"):
            continue
        name = str(param.get("name"))
        schema = dict(param.get("schema") or {"type": "string"})
        if param.get("description"):
            schema["description"] = param["description"]
        properties[name] = schema
        params.append({"name": name, "in": param["in"]})
        if param.get("required") or param["in"] == "path":
            required.append(name)
    body = _resolve(doc, operation.get("requestBody") or {})
    json_body = ((body.get("content") or {}).get("application/json") or {}) if isinstance(body, dict) else {}
    if json_body:
        properties["body"] = json_body.get("schema") or {"type": "object"}
        if body.get("required"):
            required.append("body")
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = sorted(set(required))
    summary = operation.get("summary") or operation.get("description") or ""
    return {
        "name": _tool_name(operation, method, path, taken),
        "description": f"{method.upper()} {path}" + (f": {summary}" if summary else ""),
        "parameters": parameters,
        "operation": {"method": method.upper(), "path": path, "params": params, "body": bool(json_body)},
    }


def tools_from_openapi(
    document: str | dict[str, Any], reserved: set[str] | None = None
) -> list[dict[str, Any]]:
    doc = parse_document(document)
    taken = set(reserved or ())
    tools: list[dict[str, Any]] = []
    for path, item in doc["paths"].items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                tools.append(_operation_tool(doc, str(path), method, operation, shared, taken))
    if not tools:
        raise Invalid("the OpenAPI document has no operations", field="document")
    if len(tools) > MAX_OPERATIONS:
        raise Invalid(f"the OpenAPI document has more than {MAX_OPERATIONS} operations", field="document")
    return tools


def find_operation(cache: dict[str, Any], name: str) -> dict[str, Any] | None:
    for item in cache.get("tools") or []:
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get("operation"), dict):
            operation: dict[str, Any] = item["operation"]
            return operation
    return None
