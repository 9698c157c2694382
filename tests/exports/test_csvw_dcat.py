"""The open data as UK portals take it: a CSVW metadata file beside every CSV, saying what the
datapackage says of it, and a DCAT 3 record of the dataset, both read back as JSON-LD (rdflib)."""

import csv
import json
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import rdflib

from exports.open_data import write_open_data
from exports.open_data_metadata import CSVW_DATATYPES

THRESHOLD = 5
COUNCIL = "E08000009"  # the demo's council
CSVW = rdflib.Namespace("http://www.w3.org/ns/csvw#")
# plain namespaces: pytest's introspection warns on rdflib's closed ones
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
FOAF = rdflib.Namespace("http://xmlns.com/foaf/0.1/")
RDF = rdflib.Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
# the terms of the CSVW context (http://www.w3.org/ns/csvw) these files use, inline: the tests run offline
CSVW_TERMS = {
    "@vocab": "http://www.w3.org/ns/csvw#",
    "dc": "http://purl.org/dc/terms/",
    "url": {"@id": "http://www.w3.org/ns/csvw#url", "@type": "@id"},
    "tableSchema": {"@id": "http://www.w3.org/ns/csvw#tableSchema"},
    "@language": "en",
}


@pytest.fixture(scope="module")
def folder(demo_baseline, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("csvw")
    shutil.copy(demo_baseline / "warehouse.duckdb", base / "warehouse.duckdb")
    with duckdb.connect(str(base / "warehouse.duckdb"), read_only=True) as connection:
        write_open_data(connection, base / "open-data", disclosure_min_count=THRESHOLD, council=COUNCIL)
    return base / "open-data"


def package(folder: Path) -> dict:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def csv_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.csv"))


def header_and_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def test_every_csv_has_csvw_metadata_that_names_it_and_says_what_the_datapackage_says(folder):
    described = package(folder)
    resources = {r["path"]: r for r in described["resources"]}
    assert csv_files(folder) == sorted(resources) and len(resources) > 5  # data files only in the package
    metadata_files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.csv-metadata.json"))
    assert metadata_files == [f"{path}-metadata.json" for path in csv_files(folder)]
    for path, resource in resources.items():
        metadata = json.loads((folder / f"{path}-metadata.json").read_text(encoding="utf-8"))
        assert metadata["@context"] == ["http://www.w3.org/ns/csvw", {"@language": "en"}]
        assert metadata["url"] == Path(path).name and metadata["dc:title"] == resource["title"]
        assert metadata["dc:license"] == {"@id": described["licenses"][0]["path"]}
        assert metadata["dc:publisher"] == "Trafford" and metadata["dc:description"] == described["description"]
        schema, fields = metadata["tableSchema"], resource["schema"]["fields"]
        header, _ = header_and_rows(folder / path)
        assert [c["name"] for c in schema["columns"]] == header == [f["name"] for f in fields], path
        for column, field in zip(schema["columns"], fields):
            assert column["titles"] == field["name"] and column["dc:description"] == field["description"]
            assert column["datatype"] == CSVW_DATATYPES[field["type"]], (path, field["name"])
            assert column.get("required", False) == field.get("constraints", {}).get("required", False)
        assert schema["primaryKey"] == resource["schema"]["primaryKey"]
        assert schema["null"] == resource["schema"]["missingValues"] == ["", "c"]


def _matches(cell: str, datatype) -> bool:
    """``cell`` is a value of the CSVW ``datatype`` as the metadata declares it."""
    base = datatype if isinstance(datatype, str) else datatype["base"]
    if base == "integer":
        return re.fullmatch(r"-?\d+", cell) is not None
    if base == "number":
        return re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|-?INF|NaN", cell) is not None
    if base == "date":
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", cell) is not None and bool(date.fromisoformat(cell))
    if base == "boolean":
        return cell in ("true", "false")
    if base == "datetime":  # yyyy-MM-dd HH:mm:ss, the fraction only when there is one, an offset
        return re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}:\d{2}", cell) is not None
    return base == "string"


def test_the_cells_are_of_the_declared_datatypes_and_an_empty_one_is_a_declared_null(folder):
    checked: dict[str, int] = {}
    for path in csv_files(folder):
        metadata = json.loads((folder / f"{path}-metadata.json").read_text(encoding="utf-8"))
        columns, nulls = metadata["tableSchema"]["columns"], metadata["tableSchema"]["null"]
        _, rows = header_and_rows(folder / path)
        for row in rows[:200]:  # a sample of every file
            for cell, column in zip(row, columns, strict=True):
                if cell in nulls:
                    assert not column.get("required"), (path, column["name"])
                    checked["null"] = checked.get("null", 0) + 1
                    continue
                assert _matches(cell, column["datatype"]), (path, column["name"], cell)
                kind = column["datatype"] if isinstance(column["datatype"], str) else column["datatype"]["base"]
                checked[kind] = checked.get(kind, 0) + 1
    assert {"integer", "number", "string", "date", "boolean", "null"} <= set(checked), checked


def test_every_csvw_file_reads_as_json_ld_about_its_csv(folder):
    for path in csv_files(folder):
        metadata = json.loads((folder / f"{path}-metadata.json").read_text(encoding="utf-8"))
        metadata["@context"] = CSVW_TERMS
        location = (folder / f"{path}-metadata.json").as_uri()
        graph = rdflib.Graph().parse(data=json.dumps(metadata), format="json-ld", base=location)
        table = graph.value(predicate=CSVW.url, object=rdflib.URIRef((folder / path).as_uri()))
        assert table is not None, path
        assert graph.value(table, DCTERMS.title) == rdflib.Literal(metadata["dc:title"], lang="en")
        schema = graph.value(table, CSVW.tableSchema)
        assert len(list(graph.objects(schema, CSVW.columns))) == len(metadata["tableSchema"]["columns"])


def test_the_dcat_record_is_a_dataset_with_a_distribution_per_csv_and_one_for_the_package(folder):
    location = (folder / "dcat.jsonld").as_uri()
    graph = rdflib.Graph().parse(folder / "dcat.jsonld", format="json-ld", base=location)
    described = package(folder)
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 1
    dataset = datasets[0]
    assert str(graph.value(dataset, DCTERMS.title)) == described["title"]
    assert graph.value(dataset, DCTERMS.license) == rdflib.URIRef(described["licenses"][0]["path"])
    publisher = graph.value(dataset, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Organization) in graph and str(graph.value(publisher, FOAF.name)) == "Trafford"
    assert str(graph.value(dataset, DCTERMS.modified)) == described["created"]
    assert {str(k) for k in graph.objects(dataset, DCAT.keyword)} == set(described["keywords"])
    temporal = graph.value(dataset, DCTERMS.temporal)
    start, end = graph.value(temporal, DCAT.startDate).toPython(), graph.value(temporal, DCAT.endDate).toPython()
    assert isinstance(start, date) and start < end
    by_file = {}
    for distribution in graph.objects(dataset, DCAT.distribution):
        assert (distribution, RDF.type, DCAT.Distribution) in graph
        url = graph.value(distribution, DCAT.downloadURL)
        assert url == graph.value(distribution, DCAT.accessURL)
        path = Path(url.removeprefix("file://"))
        assert graph.value(distribution, DCAT.byteSize).toPython() == path.stat().st_size
        by_file[path.relative_to(folder).as_posix()] = distribution
    assert sorted(by_file) == sorted([*csv_files(folder), "datapackage.json"])
    for path, distribution in by_file.items():
        media = "application/json" if path == "datapackage.json" else "text/csv"
        assert str(graph.value(distribution, DCAT.mediaType)).endswith("/" + media)
        if path != "datapackage.json":
            conforms = Path(graph.value(distribution, DCTERMS.conformsTo).removeprefix("file://"))
            assert conforms == folder / f"{path}-metadata.json" and conforms.is_file()
