"""The API's OpenAPI schema is a contract: a golden file catches unintended changes."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.golden import assert_golden


def test_openapi_schema_matches_golden_file(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert_golden("openapi.json", json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def test_every_api_operation_is_documented(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    for path, operations in schema["paths"].items():
        assert path.startswith(("/api/", "/catalog.", "/dataset/", "/open/")), path  # JSON API, DCAT, open data
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"


def test_api_errors_have_a_stable_shape(client: TestClient) -> None:
    for response in (client.get("/api/nothing-here"), client.get("/api/me"), client.get("/api/jobs/abc")):
        body = response.json()
        assert set(body) == {"error"}
        assert set(body["error"]) == {"code", "message", "field"}


def test_html_errors_are_pages_without_traces(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
