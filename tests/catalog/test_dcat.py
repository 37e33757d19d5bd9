"""DCAT-AP 3 export: every mandatory property survives a round trip through JSON-LD, Turtle and RDF/XML."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rdflib import Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import DCTERMS, FOAF, RDF, SKOS

from govlink.catalog.dcat import (
    FREQUENCIES,
    HYDRA,
    VCARD,
    DcatCatalog,
    DcatDataset,
    DcatDistribution,
    DcatError,
    DcatPublisher,
    RdfFormat,
    catalog_graph,
    catalog_iri,
    dataset_graph,
    dataset_iri,
    distribution_iri,
    serialise,
)

BASE = "https://data.example.gov.cn"
FORMATS: tuple[RdfFormat, ...] = ("jsonld", "ttl", "rdf")
PARSERS = {"jsonld": "json-ld", "ttl": "turtle", "rdf": "xml"}
EU = "http://publications.europa.eu/resource/authority/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
# Spelt out rather than taken from rdflib, whose warning namespaces trip pytest's fixture scan.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

# rdflib's own JSON-LD parser still builds a ConjunctiveGraph when the tests read the export back.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

STATISTICS = DcatPublisher("DEPT-TJJ", "示范区统计局", "11330106002482110X")
CIVIL_AFFAIRS = DcatPublisher("DEPT-MZJ", "示范区民政局", None)
DATA_BUREAU = DcatPublisher("DEPT-SJJ", "示范区数据资源管理局", "11330106MB1234567X")

POPULATION = DcatDataset(
    code="101001-0001",
    title="户籍人口统计（按街道）",
    description="各街道户籍人口数、户数及性别构成，每月更新。",
    publisher=STATISTICS,
    keywords=("人口", "户籍", "街道"),
    theme="人口",
    issued=dt.date(2023, 3, 1),
    modified=dt.datetime(2024, 5, 1, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    update_cycle="每月",
    licence_url=CC_BY,
    open_type="无条件开放",
    landing_page=f"{BASE}/portal/resource/101001-0001",
    distributions=(
        DcatDistribution(f"{BASE}/files/101001-0001.csv", "CSV", "text/csv; charset=utf-8", "户籍人口统计 CSV"),
        DcatDistribution(
            f"{BASE}/files/户籍人口.xlsx",
            "XLSX",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "户籍人口统计 Excel",
        ),
    ),
)
ENTERPRISES = DcatDataset(
    code="204002-0007",
    title="企业登记基本信息",
    description="辖区内企业的名称、统一社会信用代码与登记状态。",
    publisher=STATISTICS,
    keywords=("企业", "市场主体"),
    theme="市场监管",
    issued=None,
    modified=dt.datetime(2024, 5, 2, 1, 0, tzinfo=dt.UTC),
    update_cycle="每日",
    licence_url=None,
    open_type="有条件开放",
    landing_page=f"{BASE}/portal/resource/204002-0007",
    distributions=(DcatDistribution(f"{BASE}/api/204002-0007.json", "JSON", "application/json", "企业登记 JSON"),),
)
ELDERLY_CARE = DcatDataset(
    code="201003-0012",
    title="养老服务机构名录",
    description="养老机构名称、地址、床位数与联系电话。",
    publisher=CIVIL_AFFAIRS,
    keywords=("养老", "社会福利"),
    theme="社会保障",
    issued=dt.date(2022, 11, 20),
    modified=dt.datetime(2024, 4, 18, 9, 15, tzinfo=dt.UTC),
    update_cycle="不定期",
    licence_url=CC_BY,
    open_type="无条件开放",
    landing_page=f"{BASE}/portal/resource/201003-0012",
    distributions=(DcatDistribution(f"{BASE}/files/201003-0012.csv", "CSV", "text/csv", "养老服务机构名录 CSV"),),
)
DATASETS = (POPULATION, ENTERPRISES, ELDERLY_CARE)

# Page 2 of 3: eight datasets at three a page.
CATALOG = DcatCatalog(
    base_url=BASE + "/",
    title="示范区公共数据开放目录",
    description="示范区政务信息资源目录中向社会开放的数据集。",
    publisher=DATA_BUREAU,
    modified=dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC),
    datasets=DATASETS,
    page=2,
    page_size=3,
    total=8,
)


def round_trip(fmt: RdfFormat, catalog: DcatCatalog = CATALOG) -> Graph:
    body, _ = serialise(catalog_graph(catalog, ext=fmt), fmt)
    return Graph().parse(data=body, format=PARSERS[fmt])


def values(graph: Graph, subject: URIRef, predicate: URIRef) -> set[object]:
    return set(graph.objects(subject, predicate))


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("jsonld", "application/ld+json"), ("ttl", "text/turtle"), ("rdf", "application/rdf+xml")],
)
def test_each_format_comes_with_its_media_type(fmt: RdfFormat, media_type: str) -> None:
    body, returned = serialise(catalog_graph(CATALOG), fmt)
    assert returned == media_type
    assert "户籍人口统计".encode() in body


def test_prefixes_are_bound() -> None:
    bound = dict(catalog_graph(CATALOG).namespaces())
    for prefix in ("dcat", "dct", "foaf", "vcard", "adms", "xsd", "skos", "hydra"):
        assert prefix in bound
    assert b"@prefix dcat: <http://www.w3.org/ns/dcat#>" in serialise(catalog_graph(CATALOG), "ttl")[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_catalog_has_every_mandatory_property(fmt: RdfFormat) -> None:
    graph = round_trip(fmt)
    ask = graph.query(
        """ASK {
            ?catalog a dcat:Catalog ; dct:title ?title ; dct:description ?description ;
                     dct:publisher ?publisher ; dcat:dataset ?dataset ;
                     dct:modified ?modified ; dct:language ?language ; dcat:themeTaxonomy ?scheme .
            ?publisher a foaf:Agent ; foaf:name ?name .
            ?scheme a skos:ConceptScheme ; dct:title ?scheme_title .
        }""",
        initNs={"dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "skos": SKOS},
    )
    assert ask.askAnswer
    catalog = catalog_iri(BASE)
    assert list(graph.subjects(RDF.type, DCAT.Catalog)) == [catalog]
    assert graph.value(catalog, DCTERMS.title) == RdfLiteral("示范区公共数据开放目录", lang="zh")
    publisher = graph.value(catalog, DCTERMS.publisher)
    assert publisher == URIRef(f"{BASE}/publisher/DEPT-SJJ")
    assert graph.value(publisher, FOAF.name) == RdfLiteral("示范区数据资源管理局", lang="zh")
    assert graph.value(publisher, DCTERMS.identifier) == RdfLiteral("11330106MB1234567X")
    assert graph.value(publisher, DCTERMS.type) == URIRef("http://purl.org/adms/publishertype/LocalAuthority")
    assert values(graph, catalog, DCAT.dataset) == {dataset_iri(BASE, d.code) for d in DATASETS}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_dataset_has_mandatory_and_recommended_properties(fmt: RdfFormat) -> None:
    graph = round_trip(fmt)
    for dataset in DATASETS:
        node = dataset_iri(BASE, dataset.code)
        assert node == URIRef(f"{BASE}/dataset/{dataset.code}")
        assert (node, RDF.type, DCAT.Dataset) in graph
        for predicate in (
            DCTERMS.title, DCTERMS.description, DCTERMS.identifier, DCAT.keyword, DCAT.theme, DCTERMS.publisher,
            DCTERMS.modified, DCTERMS.accrualPeriodicity, DCTERMS.language, DCAT.landingPage, DCAT.contactPoint,
            DCAT.distribution, DCTERMS.accessRights,
        ):  # fmt: skip
            assert graph.value(node, predicate) is not None, (dataset.code, predicate)
        assert graph.value(node, DCTERMS.identifier) == RdfLiteral(dataset.code)
        assert graph.value(node, DCTERMS.language) == URIRef(EU + "language/ZHO")
        assert graph.value(node, DCAT.landingPage) == URIRef(dataset.landing_page)
        modified = graph.value(node, DCTERMS.modified)
        assert isinstance(modified, RdfLiteral) and modified.datatype == XSD.dateTime
        assert modified.toPython() == dataset.modified
        issued = graph.value(node, DCTERMS.issued)
        if dataset.issued is None:
            assert issued is None
        else:
            assert isinstance(issued, RdfLiteral) and issued.datatype == XSD.date
            assert issued.toPython() == dataset.issued

        theme = graph.value(node, DCAT.theme)
        assert (theme, RDF.type, SKOS.Concept) in graph
        assert graph.value(theme, SKOS.prefLabel) == RdfLiteral(dataset.theme, lang="zh")
        publisher = graph.value(node, DCTERMS.publisher)
        assert (publisher, RDF.type, FOAF.Agent) in graph
        assert graph.value(publisher, FOAF.name) == RdfLiteral(dataset.publisher.name, lang="zh")
        contact = graph.value(node, DCAT.contactPoint)
        assert (contact, RDF.type, VCARD.Organization) in graph
        assert graph.value(contact, VCARD.fn) == RdfLiteral(dataset.publisher.name, lang="zh")


@pytest.mark.parametrize("fmt", FORMATS)
def test_publisher_identifier_is_the_credit_code_when_known(fmt: RdfFormat) -> None:
    graph = round_trip(fmt)
    assert graph.value(URIRef(f"{BASE}/publisher/DEPT-TJJ"), DCTERMS.identifier) == RdfLiteral("11330106002482110X")
    assert graph.value(URIRef(f"{BASE}/publisher/DEPT-MZJ"), DCTERMS.identifier) is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_distribution_has_access_url_format_and_media_type(fmt: RdfFormat) -> None:
    graph = round_trip(fmt)
    for dataset in DATASETS:
        expected = {distribution_iri(BASE, dataset.code, n) for n in range(1, len(dataset.distributions) + 1)}
        assert values(graph, dataset_iri(BASE, dataset.code), DCAT.distribution) == expected
        for number, distribution in enumerate(dataset.distributions, start=1):
            node = URIRef(f"{BASE}/dataset/{dataset.code}/distribution/{number}")
            assert (node, RDF.type, DCAT.Distribution) in graph
            assert graph.value(node, DCAT.accessURL) == URIRef(distribution.url)
            assert graph.value(node, DCAT.downloadURL) == URIRef(distribution.url)
            assert graph.value(node, DCTERMS.title) == RdfLiteral(distribution.title, lang="zh")
            assert graph.value(node, DCTERMS.format) == URIRef(f"{EU}file-type/{distribution.format}")
            essence = distribution.media_type.split(";")[0]
            assert graph.value(node, DCAT.mediaType) == URIRef(
                f"https://www.iana.org/assignments/media-types/{essence}"
            )
            licence = graph.value(node, DCTERMS.license)
            if dataset.licence_url is None:
                assert licence is None
            else:
                assert licence == URIRef(dataset.licence_url)
                assert (licence, RDF.type, DCTERMS.LicenseDocument) in graph


@pytest.mark.parametrize("fmt", FORMATS)
def test_chinese_literals_round_trip_with_the_zh_tag(fmt: RdfFormat) -> None:
    graph = round_trip(fmt)
    for dataset in DATASETS:
        node = dataset_iri(BASE, dataset.code)
        for predicate, text in ((DCTERMS.title, dataset.title), (DCTERMS.description, dataset.description)):
            literal = graph.value(node, predicate)
            assert isinstance(literal, RdfLiteral)
            assert (str(literal), literal.language) == (text, "zh")
        assert values(graph, node, DCAT.keyword) == {RdfLiteral(k, lang="zh") for k in dataset.keywords}


@pytest.mark.parametrize("fmt", FORMATS)
def test_frequency_and_access_rights_iris(fmt: RdfFormat) -> None:
    graph = round_trip(fmt)
    expected = {
        "101001-0001": ("MONTHLY", "PUBLIC"),
        "204002-0007": ("DAILY", "RESTRICTED"),
        "201003-0012": ("IRREG", "PUBLIC"),
    }
    for code, (frequency, access) in expected.items():
        node = dataset_iri(BASE, code)
        assert graph.value(node, DCTERMS.accrualPeriodicity) == URIRef(f"{EU}frequency/{frequency}")
        assert graph.value(node, DCTERMS.accessRights) == URIRef(f"{EU}access-right/{access}")


@pytest.mark.parametrize(
    ("cycle", "code"),
    [
        ("实时", "CONT"), ("每日", "DAILY"), ("每周", "WEEKLY"), ("每月", "MONTHLY"),
        ("每季度", "QUARTERLY"), ("每半年", "BIANNUAL"), ("每年", "ANNUAL"), ("不定期", "IRREG"),
    ],
)  # fmt: skip
def test_update_cycles_map_to_eu_frequencies(cycle: str, code: str) -> None:
    graph = dataset_graph(dataclasses.replace(POPULATION, update_cycle=cycle), BASE)
    frequency = URIRef(f"{EU}frequency/{code}")
    assert graph.value(dataset_iri(BASE, POPULATION.code), DCTERMS.accrualPeriodicity) == frequency
    assert (frequency, RDF.type, DCTERMS.Frequency) in graph


def test_every_update_cycle_is_mapped() -> None:
    assert set(FREQUENCIES) == {"实时", "每日", "每周", "每月", "每季度", "每半年", "每年", "不定期"}


@pytest.mark.parametrize(
    ("given", "code"),
    [("CSV", "CSV"), ("xlsx", "XLSX"), ("JSON", "JSON"), ("JSON-LD", "JSON_LD"), ("RDF/XML", "RDF_XML")],
)
def test_formats_map_to_eu_file_types(given: str, code: str) -> None:
    distribution = DcatDistribution(f"{BASE}/files/a", given, "application/octet-stream", "文件")
    graph = dataset_graph(dataclasses.replace(POPULATION, distributions=(distribution,)), BASE)
    file_type = URIRef(f"{EU}file-type/{code}")
    assert graph.value(distribution_iri(BASE, POPULATION.code, 1), DCTERMS.format) == file_type
    assert (file_type, RDF.type, DCTERMS.MediaTypeOrExtent) in graph


@pytest.mark.parametrize("fmt", FORMATS)
def test_paging_links_for_page_2_of_3(fmt: RdfFormat) -> None:
    graph = round_trip(fmt)
    catalog = catalog_iri(BASE)
    view = graph.value(catalog, HYDRA.view)
    assert view == URIRef(f"{BASE}/catalog.{fmt}?page=2")
    assert (view, RDF.type, HYDRA.PartialCollectionView) in graph
    links = {p: graph.value(view, p) for p in (HYDRA.first, HYDRA.previous, HYDRA.next, HYDRA.last)}
    assert links == {
        HYDRA.first: URIRef(f"{BASE}/catalog.{fmt}?page=1"),
        HYDRA.previous: URIRef(f"{BASE}/catalog.{fmt}?page=1"),
        HYDRA.next: URIRef(f"{BASE}/catalog.{fmt}?page=3"),
        HYDRA.last: URIRef(f"{BASE}/catalog.{fmt}?page=3"),
    }
    total = graph.value(catalog, HYDRA.totalItems)
    assert isinstance(total, RdfLiteral) and total.toPython() == 8


@pytest.mark.parametrize(("page", "absent"), [(1, HYDRA.previous), (3, HYDRA.next)])
def test_end_pages_have_no_link_beyond_them(page: int, absent: URIRef) -> None:
    graph = catalog_graph(dataclasses.replace(CATALOG, page=page, datasets=DATASETS[:2]), ext="rdf")
    view = URIRef(f"{BASE}/catalog.rdf?page={page}")
    assert graph.value(catalog_iri(BASE), HYDRA.view) == view
    assert graph.value(view, absent) is None
    assert graph.value(view, HYDRA.last) == URIRef(f"{BASE}/catalog.rdf?page=3")


def test_unpaged_catalog_has_no_hydra_view() -> None:
    graph = catalog_graph(dataclasses.replace(CATALOG, page=1, page_size=None, total=None))
    assert not list(graph.triples((None, None, HYDRA.PartialCollectionView)))
    assert graph.value(catalog_iri(BASE), HYDRA.totalItems) is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_listed_dataset_has_a_title(fmt: RdfFormat) -> None:
    graph = round_trip(fmt)
    listed = list(graph.objects(catalog_iri(BASE), DCAT.dataset))
    assert len(listed) == len(DATASETS)
    untitled = graph.query(
        "SELECT ?d WHERE { ?c a dcat:Catalog ; dcat:dataset ?d . FILTER NOT EXISTS { ?d dct:title ?t } }",
        initNs={"dcat": DCAT, "dct": DCTERMS},
    )
    assert list(untitled) == []


def test_dataset_graph_is_the_datasets_part_of_the_catalog_graph() -> None:
    whole = set(catalog_graph(CATALOG))
    for dataset in DATASETS:
        part = set(dataset_graph(dataset, BASE))
        assert part <= whole
        assert (dataset_iri(BASE, dataset.code), RDF.type, DCAT.Dataset) in part


def test_a_code_with_a_slash_stays_one_path_segment() -> None:
    assert dataset_iri(BASE, "330106/00001") == URIRef(f"{BASE}/dataset/330106%2F00001")
    assert distribution_iri(BASE + "/", "A1", 2) == URIRef(f"{BASE}/dataset/A1/distribution/2")


_XML_CHARS = st.characters(codec="utf-8")  # every code point but surrogates


@settings(max_examples=60, deadline=None)
@given(title=st.text(_XML_CHARS, min_size=1), keyword=st.text(_XML_CHARS, min_size=1))
@example(title="户籍\x0b人口\x00统计", keyword="养老\x1f\r\n")
def test_any_text_round_trips_in_every_format(title: str, keyword: str) -> None:
    graph = dataset_graph(dataclasses.replace(POPULATION, title=title, keywords=(keyword,)), BASE)
    node = dataset_iri(BASE, POPULATION.code)

    def xml_chars(text: str) -> str:  # the Char production of XML 1.0
        return "".join(
            c for c in text if c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c > "\uffff"
        )

    for fmt in FORMATS:
        parsed = Graph().parse(data=serialise(graph, fmt)[0], format=PARSERS[fmt])
        assert parsed.value(node, DCTERMS.title) == RdfLiteral(xml_chars(title), lang="zh"), fmt
        assert parsed.value(node, DCAT.keyword) == RdfLiteral(xml_chars(keyword), lang="zh"), fmt


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"update_cycle": "monthly"}, "dataset 101001-0001: update cycle 'monthly' is not one of 实时"),
        ({"open_type": "open"}, "dataset 101001-0001: open type 'open'"),
        ({"language": "fr"}, "dataset 101001-0001: language 'fr'"),
        (
            {"modified": dt.datetime(2024, 5, 1, 8, 0)},
            "dataset 101001-0001: modified 2024-05-01T08:00:00 has no time zone",
        ),
        ({"landing_page": "/portal/resource/1"}, "dataset 101001-0001: landing page '/portal/resource/1'"),
        ({"licence_url": "CC BY 4.0"}, "dataset 101001-0001: licence 'CC BY 4.0'"),
        (
            {"distributions": (DcatDistribution(f"{BASE}/f.csv", "CSV", "csv", "文件"),)},
            "dataset 101001-0001, distribution 1: media type 'csv'",
        ),
    ],
)
def test_values_dcat_ap_cannot_express_are_refused_by_name(change: dict[str, object], message: str) -> None:
    with pytest.raises(DcatError) as raised:
        dataset_graph(dataclasses.replace(POPULATION, **change), BASE)  # type: ignore[arg-type]
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"total": None}, "a paged catalog needs total"),
        ({"page": 4}, "page 4 is outside 1–3"),
        ({"page": 0}, "page 0 is outside 1–3"),
        ({"page_size": 2}, "page 2 holds 3 datasets but a page has at most 2"),
        ({"datasets": (POPULATION, POPULATION)}, "dataset 101001-0001 appears twice"),
        ({"base_url": "data.example.gov.cn"}, "base URL 'data.example.gov.cn'"),
        ({"modified": dt.datetime(2024, 5, 2)}, "the catalog's modified 2024-05-02T00:00:00 has no time zone"),
        ({"page_size": None, "total": None}, "page 2 given without page_size"),
    ],
)
def test_catalogs_that_do_not_add_up_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(DcatError, match=message):
        catalog_graph(dataclasses.replace(CATALOG, **change))  # type: ignore[arg-type]


def test_unknown_serialisation_is_refused() -> None:
    with pytest.raises(DcatError, match="one of jsonld, ttl, rdf"):
        serialise(Graph(), "xml")  # type: ignore[arg-type]
