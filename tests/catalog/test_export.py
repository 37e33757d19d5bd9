"""DCAT-AP 3 export of the catalog, parsed back by rdflib."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.schemas import DepartmentIn
from govlink.catalog import service as catalog
from govlink.catalog.schemas import ResourceIn

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")


def publish(session: Session, name: str, open_type: str = "open") -> str:
    resource = catalog.register_and_publish(session, SYSTEM, ResourceIn.model_validate({
        "name": name, "classification": "204", "department_code": "SC", "share_type": "unconditional",
        "open_type": open_type, "licence": "CC-BY-4.0" if open_type != "closed" else None,
        "update_cycle": "monthly", "summary": f"{name}的说明，按月更新，供公众下载使用。",
        "items": [{"name": "行业"}, {"name": "数量", "data_type": "integer"}],
    }))
    return resource.code


@pytest.fixture
def codes(session: Session) -> list[str]:
    accounts.create_department(session, SYSTEM, DepartmentIn(code="SC", name="市场监督管理局"))
    found = [publish(session, f"市场主体统计{n}") for n in range(3)] + [publish(session, "内部名单", "closed")]
    session.commit()
    return found


@pytest.mark.parametrize("fmt", ["jsonld", "ttl", "rdf"])
def test_catalog_parses_back_with_mandatory_properties(client: TestClient, codes: list[str], fmt: str) -> None:
    response = client.get(f"/catalog.{fmt}")
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format={"jsonld": "json-ld", "ttl": "turtle", "rdf": "xml"}[fmt])
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    assert len(catalogs) == 1
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.publisher):
        assert graph.value(catalogs[0], prop) is not None
    datasets = set(graph.objects(catalogs[0], DCAT.dataset))
    assert {str(d).rsplit("/", 1)[1] for d in datasets} == set(codes[:3])  # the closed one is not exported
    for node in datasets:
        assert graph.value(node, DCTERMS.title) is not None and graph.value(node, DCTERMS.description) is not None
        distribution = graph.value(node, DCAT.distribution)
        assert isinstance(graph.value(distribution, DCAT.accessURL), URIRef)
    assert int(graph.value(catalogs[0], HYDRA.totalItems)) == 3


def test_single_dataset_and_missing_one(client: TestClient, codes: list[str]) -> None:
    graph = Graph().parse(data=client.get(f"/dataset/{codes[0]}.ttl").content, format="turtle")
    assert (None, RDF.type, DCAT.Dataset) in graph
    assert client.get(f"/dataset/{codes[3]}.ttl").status_code == 404
    assert client.get("/dataset/nothing.ttl").status_code == 404
    assert client.get("/catalog.ttl", params={"page": 9}).status_code == 422
    assert client.get("/catalog.exe").status_code == 422
