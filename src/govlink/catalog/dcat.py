"""DCAT-AP 3 export of the catalog: plain dataclasses in, an RDF graph and its JSON-LD, Turtle or RDF/XML out.

The property list follows the DCAT Application Profile for data portals in Europe, DCAT-AP 3.0.0
(SEMIC, Interoperable Europe, June 2024; https://semiceu.github.io/DCAT-AP/releases/3.0.0/), a profile
of W3C DCAT 3. Every mandatory property of Catalogue (dct:title, dct:description, dct:publisher),
Dataset (dct:title, dct:description), Distribution (dcat:accessURL), Agent (foaf:name) and Category
(skos:prefLabel) is written, plus the recommended and optional ones the catalog can fill. Controlled
values come from the EU Publications Office authority tables (frequency, language, file-type,
access-right), the IANA media type register and the ADMS publisher types; objects are typed with the
ranges DCAT-AP's SHACL shapes check, so a validator needs no vocabulary imports.

Large catalogs are paged with the Hydra Core Vocabulary (hydra:PartialCollectionView, hydra:next …),
which the udata and piveau harvesters follow, and ckanext-dcat since late 2024 (before, it read only
the withdrawn hydra:PagedCollection).

Nothing here reads the database: the catalog service fills the dataclasses.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

from rdflib import Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

RdfFormat = Literal["jsonld", "ttl", "rdf"]

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
LANGUAGE = Namespace("http://publications.europa.eu/resource/authority/language/")
FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
ACCESS_RIGHT = Namespace("http://publications.europa.eu/resource/authority/access-right/")
PUBLISHER_TYPE = Namespace("http://purl.org/adms/publishertype/")
IANA_MEDIA_TYPE = Namespace("https://www.iana.org/assignments/media-types/")

PREFIXES: dict[str, str] = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "adms": str(ADMS),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "hydra": str(HYDRA),
}

MEDIA_TYPES: dict[RdfFormat, str] = {
    "jsonld": "application/ld+json",
    "ttl": "text/turtle",
    "rdf": "application/rdf+xml",
}
_RDFLIB_FORMATS: dict[RdfFormat, str] = {"jsonld": "json-ld", "ttl": "turtle", "rdf": "pretty-xml"}

# 更新周期 (the labels of catalog.vocabulary's UpdateCycle) → EU frequency authority codes.
FREQUENCIES: dict[str, str] = {
    "实时": "CONT",
    "每日": "DAILY",
    "每周": "WEEKLY",
    "每月": "MONTHLY",
    "每季度": "QUARTERLY",
    "每半年": "BIANNUAL",
    "每年": "ANNUAL",
    "不定期": "IRREG",
}

# 开放类型 (the labels of catalog.vocabulary's OpenType) → EU access-right authority codes.
ACCESS_RIGHTS: dict[str, str] = {"无条件开放": "PUBLIC", "有条件开放": "RESTRICTED", "不予开放": "NON_PUBLIC"}

# BCP 47 tags a dataset may be written in → EU language authority codes (ISO 639-3 based).
LANGUAGES: dict[str, str] = {"zh": "ZHO", "en": "ENG", "bo": "BOD", "ug": "UIG", "mn": "MON", "ko": "KOR"}

CATALOG_LANGUAGE = "zh"
THEME_SCHEME_TITLE = "政务信息资源分类"
# Every publisher is a department of the district government.
PUBLISHER_KIND = PUBLISHER_TYPE.LocalAuthority

# Characters XML 1.0 cannot carry; RDF/XML with them does not parse, so they are dropped from every format.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_EXTENSION = re.compile(r"[a-z0-9]+")
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|\\^`]')


class DcatError(ValueError):
    """Raised when a catalog cannot be exported; the message names the dataset and the offending value."""


@dataclass(frozen=True, slots=True)
class DcatPublisher:
    """A department publishing resources: its catalog code, name and unified social credit code if known."""

    code: str
    name: str
    uscc: str | None


@dataclass(frozen=True, slots=True)
class DcatDistribution:
    """One downloadable form of a dataset; ``format`` is a file type such as CSV, XLSX or JSON."""

    url: str
    format: str
    media_type: str
    title: str


@dataclass(frozen=True, slots=True)
class DcatDataset:
    """A catalogued information resource; ``theme`` is its top classification, e.g. 人口."""

    code: str
    title: str
    description: str
    publisher: DcatPublisher
    keywords: tuple[str, ...]
    theme: str
    issued: dt.date | None
    modified: dt.datetime
    update_cycle: str
    licence_url: str | None
    open_type: str
    landing_page: str
    distributions: tuple[DcatDistribution, ...]
    language: str = "zh"


@dataclass(frozen=True, slots=True)
class DcatCatalog:
    """The catalog, or one page of it when ``page_size`` is given (then ``datasets`` holds that page only)."""

    base_url: str
    title: str
    description: str
    publisher: DcatPublisher
    modified: dt.datetime
    datasets: tuple[DcatDataset, ...]
    page: int = 1
    page_size: int | None = None
    total: int | None = None


def catalog_iri(base_url: str) -> URIRef:
    return URIRef(f"{_base(base_url)}/catalog")


def dataset_iri(base_url: str, code: str) -> URIRef:
    return URIRef(f"{_base(base_url)}/dataset/{_segment(code)}")


def distribution_iri(base_url: str, code: str, number: int) -> URIRef:
    """The IRI of a dataset's ``number``-th distribution, counting from 1."""
    return URIRef(f"{dataset_iri(base_url, code)}/distribution/{number}")


def page_iri(base_url: str, ext: str, page: int) -> URIRef:
    return URIRef(f"{_base(base_url)}/catalog.{ext}?page={page}")


def catalog_graph(catalog: DcatCatalog, ext: str = "jsonld") -> Graph:
    """The catalog and all its datasets as one graph; ``ext`` is the extension used in the paging IRIs.

    Raises DcatError for a value DCAT-AP cannot express (an unknown update cycle, a naive datetime …)
    or for paging that does not add up.
    """
    base = _base(catalog.base_url)
    graph = _new_graph()
    node = catalog_iri(base)
    graph.add((node, RDF.type, DCAT.Catalog))
    graph.add((node, DCTERMS.title, _text(catalog.title, CATALOG_LANGUAGE)))
    graph.add((node, DCTERMS.description, _text(catalog.description, CATALOG_LANGUAGE)))
    graph.add((node, DCTERMS.publisher, _add_agent(graph, base, catalog.publisher)))
    graph.add((node, DCTERMS.modified, _timestamp(catalog.modified, "the catalog's modified")))
    graph.add((node, DCTERMS.language, _add_language(graph, CATALOG_LANGUAGE, "the catalog")))
    graph.add((node, DCAT.themeTaxonomy, _add_theme_scheme(graph, base)))
    seen: set[str] = set()
    for dataset in catalog.datasets:
        if dataset.code in seen:
            raise DcatError(f"dataset {dataset.code} appears twice in the catalog")
        seen.add(dataset.code)
        graph.add((node, DCAT.dataset, _add_dataset(graph, base, dataset)))
    if catalog.page_size is not None:
        _add_paging(graph, node, catalog, catalog.page_size, ext)
    elif catalog.page != 1:
        raise DcatError(f"page {catalog.page} given without page_size")
    return graph


def dataset_graph(dataset: DcatDataset, base_url: str) -> Graph:
    """One dataset with its publisher, contact point, theme and distributions, as a graph of its own."""
    graph = _new_graph()
    _add_dataset(graph, _base(base_url), dataset)
    return graph


def serialise(graph: Graph, fmt: RdfFormat) -> tuple[bytes, str]:
    """The graph as UTF-8 JSON-LD (compacted with the bound prefixes), Turtle or RDF/XML, and its media type."""
    if fmt not in MEDIA_TYPES:
        raise DcatError(f"unknown format {fmt!r}; one of {', '.join(MEDIA_TYPES)}")
    if fmt == "jsonld":
        body = graph.serialize(format="json-ld", context=dict(PREFIXES), auto_compact=True, encoding="utf-8")
    else:
        body = graph.serialize(format=_RDFLIB_FORMATS[fmt], encoding="utf-8")
    return body, MEDIA_TYPES[fmt]


def _new_graph() -> Graph:
    graph = Graph(bind_namespaces="core")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


def _add_dataset(graph: Graph, base: str, dataset: DcatDataset) -> URIRef:
    code, lang = dataset.code, dataset.language
    where = f"dataset {code}"
    node = dataset_iri(base, code)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.title, _text(dataset.title, lang)))
    graph.add((node, DCTERMS.description, _text(dataset.description, lang)))
    graph.add((node, DCTERMS.identifier, _text(code)))
    for keyword in dataset.keywords:
        graph.add((node, DCAT.keyword, _text(keyword, lang)))
    graph.add((node, DCAT.theme, _add_theme(graph, base, dataset.theme)))
    publisher = _add_agent(graph, base, dataset.publisher)
    graph.add((node, DCTERMS.publisher, publisher))
    graph.add((node, DCAT.contactPoint, _add_contact_point(graph, publisher, dataset.publisher)))
    if dataset.issued is not None:
        issued = dataset.issued.date() if isinstance(dataset.issued, dt.datetime) else dataset.issued
        graph.add((node, DCTERMS.issued, RdfLiteral(issued.isoformat(), datatype=XSD.date)))
    graph.add((node, DCTERMS.modified, _timestamp(dataset.modified, f"{where}: modified")))
    graph.add((node, DCTERMS.accrualPeriodicity, _add_frequency(graph, dataset.update_cycle, where)))
    graph.add((node, DCTERMS.language, _add_language(graph, lang, where)))
    graph.add((node, DCTERMS.accessRights, _add_access_rights(graph, dataset.open_type, where)))
    landing_page = _iri(dataset.landing_page, f"{where}: landing page")
    graph.add((landing_page, RDF.type, FOAF.Document))
    graph.add((node, DCAT.landingPage, landing_page))
    licence = _iri(dataset.licence_url, f"{where}: licence") if dataset.licence_url is not None else None
    for number, distribution in enumerate(dataset.distributions, start=1):
        target = distribution_iri(base, code, number)
        _add_distribution(graph, target, distribution, licence, lang, f"{where}, distribution {number}")
        graph.add((node, DCAT.distribution, target))
    return node


def _add_distribution(
    graph: Graph, node: URIRef, distribution: DcatDistribution, licence: URIRef | None, lang: str, where: str
) -> None:
    url = _iri(distribution.url, f"{where}: url")
    graph.add((node, RDF.type, DCAT.Distribution))
    # One URL serves both: it is where the data is reached and the file itself.
    graph.add((node, DCAT.accessURL, url))
    graph.add((node, DCAT.downloadURL, url))
    graph.add((node, DCTERMS.title, _text(distribution.title, lang)))
    file_type = FILE_TYPE[_file_type_code(distribution.format, where)]
    graph.add((file_type, RDF.type, DCTERMS.MediaTypeOrExtent))
    graph.add((node, DCTERMS.format, file_type))
    media_type = IANA_MEDIA_TYPE[_media_type(distribution.media_type, where)]
    graph.add((media_type, RDF.type, DCTERMS.MediaType))
    graph.add((node, DCAT.mediaType, media_type))
    if licence is not None:
        graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
        graph.add((node, DCTERMS.license, licence))


def _add_agent(graph: Graph, base: str, publisher: DcatPublisher) -> URIRef:
    node = URIRef(f"{base}/publisher/{_segment(publisher.code)}")
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, FOAF.name, _text(publisher.name, CATALOG_LANGUAGE)))
    if publisher.uscc:
        graph.add((node, DCTERMS.identifier, _text(publisher.uscc)))
    graph.add((node, DCTERMS.type, PUBLISHER_KIND))
    graph.add((PUBLISHER_KIND, RDF.type, SKOS.Concept))
    graph.add((PUBLISHER_KIND, SKOS.prefLabel, RdfLiteral("Local Authority", lang="en")))
    return node


def _add_contact_point(graph: Graph, agent: URIRef, publisher: DcatPublisher) -> URIRef:
    node = URIRef(f"{agent}#contact")
    graph.add((node, RDF.type, VCARD.Organization))
    graph.add((node, VCARD.fn, _text(publisher.name, CATALOG_LANGUAGE)))
    return node


def _add_theme_scheme(graph: Graph, base: str) -> URIRef:
    node = URIRef(f"{base}/theme")
    graph.add((node, RDF.type, SKOS.ConceptScheme))
    graph.add((node, DCTERMS.title, _text(THEME_SCHEME_TITLE, CATALOG_LANGUAGE)))
    return node


def _add_theme(graph: Graph, base: str, theme: str) -> URIRef:
    node = URIRef(f"{base}/theme/{_segment(theme)}")
    graph.add((node, RDF.type, SKOS.Concept))
    graph.add((node, SKOS.prefLabel, _text(theme, CATALOG_LANGUAGE)))
    graph.add((node, SKOS.inScheme, _add_theme_scheme(graph, base)))
    return node


def _add_frequency(graph: Graph, update_cycle: str, where: str) -> URIRef:
    if update_cycle not in FREQUENCIES:
        raise DcatError(f"{where}: update cycle {update_cycle!r} is not one of {'、'.join(FREQUENCIES)}")
    node = FREQUENCY[FREQUENCIES[update_cycle]]
    graph.add((node, RDF.type, DCTERMS.Frequency))
    return node


def _add_language(graph: Graph, lang: str, where: str) -> URIRef:
    if lang not in LANGUAGES:
        raise DcatError(f"{where}: language {lang!r} is not one of {', '.join(LANGUAGES)}")
    node = LANGUAGE[LANGUAGES[lang]]
    graph.add((node, RDF.type, DCTERMS.LinguisticSystem))
    return node


def _add_access_rights(graph: Graph, open_type: str, where: str) -> URIRef:
    if open_type not in ACCESS_RIGHTS:
        raise DcatError(f"{where}: open type {open_type!r} is not one of {'、'.join(ACCESS_RIGHTS)}")
    node = ACCESS_RIGHT[ACCESS_RIGHTS[open_type]]
    graph.add((node, RDF.type, DCTERMS.RightsStatement))
    return node


def _add_paging(graph: Graph, node: URIRef, catalog: DcatCatalog, size: int, ext: str) -> None:
    total, page = catalog.total, catalog.page
    if size < 1:
        raise DcatError(f"page_size must be at least 1, got {size}")
    if total is None or total < 0:
        raise DcatError("a paged catalog needs total, the number of datasets across all pages")
    if not _EXTENSION.fullmatch(ext):
        raise DcatError(f"the paging extension is letters and digits such as jsonld, ttl or rdf, got {ext!r}")
    last = max(1, math.ceil(total / size))
    if not 1 <= page <= last:
        raise DcatError(f"page {page} is outside 1–{last} ({total} datasets at {size} a page)")
    if len(catalog.datasets) > size:
        raise DcatError(f"page {page} holds {len(catalog.datasets)} datasets but a page has at most {size}")
    view = page_iri(catalog.base_url, ext, page)
    # Hydra puts totalItems and view on the collection: here the catalog itself.
    graph.add((node, RDF.type, HYDRA.Collection))
    graph.add((node, HYDRA.totalItems, RdfLiteral(total)))
    graph.add((node, HYDRA.view, view))
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((view, HYDRA.first, page_iri(catalog.base_url, ext, 1)))
    graph.add((view, HYDRA.last, page_iri(catalog.base_url, ext, last)))
    if page > 1:
        graph.add((view, HYDRA.previous, page_iri(catalog.base_url, ext, page - 1)))
    if page < last:
        graph.add((view, HYDRA.next, page_iri(catalog.base_url, ext, page + 1)))


def _text(value: str, lang: str | None = None) -> RdfLiteral:
    return RdfLiteral(_NOT_XML.sub("", value), lang=lang)


def _timestamp(value: dt.datetime, where: str) -> RdfLiteral:
    if value.tzinfo is None or value.utcoffset() is None:
        raise DcatError(f"{where} {value.isoformat()} has no time zone; pass an aware datetime")
    return RdfLiteral(value.astimezone(dt.UTC).isoformat(), datatype=XSD.dateTime)


def _file_type_code(value: str, where: str) -> str:
    # The file-type table spells CSV, XLSX, JSON_LD, RDF_XML …: upper case, other characters as _.
    code = re.sub(r"[^A-Z0-9]+", "_", value.strip().upper()).strip("_")
    if not code:
        raise DcatError(f"{where}: format {value!r} names no file type such as CSV, XLSX or JSON")
    return code


def _media_type(value: str, where: str) -> str:
    essence = value.split(";", 1)[0].strip().lower()
    if not _MEDIA_TYPE.fullmatch(essence):
        raise DcatError(f"{where}: media type {value!r} is not of the form type/subtype, e.g. text/csv")
    return essence


def _iri(value: str, where: str) -> URIRef:
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc or _IRI_FORBIDDEN.search(value):
        raise DcatError(f"{where} {value!r} is not an absolute URL without spaces, e.g. https://…")
    return URIRef(value)


def _base(base_url: str) -> str:
    base = base_url.rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise DcatError(f"base URL {base_url!r} is not an http(s) URL without query, e.g. https://data.example.gov.cn")
    return base


def _segment(value: str) -> str:
    # Codes and theme names become one path segment each; a / in a code must not add a level.
    return quote(value, safe="")
