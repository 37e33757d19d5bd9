"""The CKAN-compatible Action API: envelopes, errors, and the real ckanapi client against a served GovLink."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import ckanapi
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.schemas import DepartmentIn
from govlink.catalog import service as catalog
from govlink.catalog.schemas import ResourceIn

BASE: dict[str, Any] = {
    "classification": "102", "format": "CSV", "subject_type": "enterprise", "share_type": "unconditional",
    "update_cycle": "daily", "summary": "本区企业的登记信息，包括名称、统一社会信用代码和登记状态，每日更新。",
    "items": [{"name": "企业名称", "semantic_type": "enterprise.name"},
              {"name": "统一社会信用代码", "semantic_type": "enterprise.uscc"}],
}


@pytest.fixture
def published(session: Session) -> dict[str, str]:
    accounts.create_department(session, SYSTEM, DepartmentIn(code="SC", name="市场监督管理局"))
    accounts.create_department(session, SYSTEM, DepartmentIn(code="GA", name="公安分局"))
    codes = {}
    for key, department, extra in (
        ("open", "SC", {"name": "企业登记信息", "open_type": "open", "licence": "CC-BY-4.0"}),
        ("closed", "GA", {"name": "户籍人口信息", "classification": "101", "subject_type": "person",
                          "share_type": "conditional", "share_condition": "户籍核验",
                          "items": [{"name": "姓名", "semantic_type": "person.name"}]}),
    ):
        resource = catalog.register_and_publish(session, SYSTEM, ResourceIn.model_validate(
            {**BASE, **extra, "department_code": department}))
        codes[key] = resource.code
    session.commit()
    return codes


def test_envelopes_and_anonymous_visibility(client: TestClient, published: dict[str, str]) -> None:
    for prefix in ("/api/action", "/api/3/action"):
        body = client.get(f"{prefix}/package_search", params={"q": "企业"}).json()
        assert body["success"] is True and body["help"].endswith("help_show?name=package_search")
        assert body["result"]["count"] == 1 and body["result"]["results"][0]["name"] == published["open"]
    assert client.get("/api/action/package_list").json()["result"] == [published["open"]]
    hidden = client.get("/api/action/package_show", params={"id": published["closed"]})
    assert hidden.status_code == 404 and hidden.json()["error"]["__type"] == "Not Found Error"
    posted = client.post("/api/3/action/package_show", json={"id": published["open"]}).json()
    assert posted["result"]["organization"]["name"] == "SC" and posted["result"]["title"] == "企业登记信息"


@pytest.mark.parametrize("params", [{"fq": "organization:"}, {"fq": "nonsense(("}, {"fq": "password:x"},
                                    {"sort": "drop table"}, {"rows": "-1"}, {"rows": "many"},
                                    {"facet.field": "[1"}])
def test_malformed_search_is_a_validation_error(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/action/package_search", params=params)
    assert response.status_code == 409
    assert response.json()["error"]["__type"] == "Validation Error"


def test_unknown_action_and_non_json_body(client: TestClient) -> None:
    assert client.get("/api/action/package_create").status_code == 400
    bad = client.post("/api/action/package_search", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 409


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_the_real_ckanapi_client_works(live_server: str, published: dict[str, str],
                                       make_user: Callable[..., str]) -> None:
    remote = ckanapi.RemoteCKAN(live_server, user_agent="govlink-test")
    found = remote.action.package_search(q="企业", rows=5, **{"facet.field": ["organization", "res_format"]})
    assert found["count"] == 1 and found["facets"]["organization"] == {"SC": 1}
    package = remote.action.package_show(id=published["open"])
    assert package["organization"]["title"] == "市场监督管理局"
    assert remote.action.organization_list() == ["GA", "SC"]
    assert remote.action.status_show()["site_title"] == "GovLink"
    resource = remote.action.resource_show(id=package["resources"][0]["id"])
    assert resource["package_id"] == published["open"]
    with pytest.raises(ckanapi.NotFound):
        remote.action.package_show(id=published["closed"])
    with pytest.raises(ckanapi.ValidationError):
        remote.action.package_search(fq="nonsense((")
    assert "GA" in [o["name"] for o in remote.action.organization_list(all_fields=True)]
