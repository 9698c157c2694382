"""What the open-data files are, said three ways from one description: Frictionless, CSVW and DCAT 3.

exports/open_data.py describes each CSV once, as a ``DescribedTable`` (its columns with the types,
descriptions and constraints that come from the marts and dbt's documentation). From that one
structure come the CSV's resource in ``datapackage.json`` (Frictionless Table Schema), its
``<file>.csv-metadata.json`` (W3C CSV on the Web, the file-by-file convention ONS and others
publish beside a CSV) and its ``dcat:Distribution`` in ``dcat.jsonld`` (the DCAT 3 record that
UK portals harvest). None of them holds the time of the export: an unchanged warehouse gives
the same bytes, and an unchanged year's CSV keeps its metadata file as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exports.partitions import UNKNOWN

# Table Schema types (what datapackage.json says) to CSVW datatypes. A timestamp is written as
# Python's str(datetime) ('2025-04-01 09:30:00.123456+01:00'), not XML Schema's 'T' form, so
# its CSVW datatype says the pattern (exports/sql_cells.py _timestamp_sql).
CSVW_DATATYPES: dict[str, Any] = {
    "integer": "integer",
    "number": "number",
    "string": "string",
    "date": "date",
    "boolean": "boolean",
    "datetime": {"base": "datetime", "format": "yyyy-MM-dd HH:mm:ss.SSSSSSXXX"},
}
CSVW_CONTEXT = ["http://www.w3.org/ns/csvw", {"@language": "en"}]
DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
DATA_PACKAGE_SPEC = "https://specs.frictionlessdata.io/data-package/"
DATA_PACKAGE = "datapackage.json"
DCAT_RECORD = "dcat.jsonld"


@dataclass(frozen=True)
class DescribedColumn:
    name: str
    type: str  # a Table Schema type: integer, number, string, date, datetime or boolean
    description: str
    constraints: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DescribedTable:
    """One CSV of the export as every descriptor of it needs it."""

    name: str
    title: str
    path: str  # relative to the export folder, '/'-separated
    columns: tuple[DescribedColumn, ...]
    primary_key: tuple[str, ...]
    missing_values: tuple[str, ...]  # how the writer spells a cell with no value: '' and the suppressed mark
    partition_of: str | None = None  # a file of a resource written one per financial year: which resource
    financial_year: str | None = None

    @property
    def metadata_path(self) -> str:
        """The CSVW metadata file of this CSV: ``<file>.csv-metadata.json`` beside it."""
        return self.path + "-metadata.json"


def datapackage_resource(table: DescribedTable) -> dict[str, Any]:
    """The table as a tabular-data-resource of ``datapackage.json``."""
    fields = [
        {
            "name": c.name,
            "type": c.type,
            "description": c.description,
            **({"constraints": c.constraints} if c.constraints else {}),
        }
        for c in table.columns
    ]
    if table.partition_of is None:
        part: dict[str, Any] = {"name": table.name, "title": table.title}
    else:  # one file of a resource written per financial year: the whole resource's schema, and which year
        part = {
            "name": table.name,
            "title": table.title,
            "partition_of": table.partition_of,
            "financial_year": table.financial_year,
        }
    return {
        **part,
        "path": table.path,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": {
            "fields": fields,
            "primaryKey": list(table.primary_key),
            "missingValues": list(table.missing_values),
        },
    }


def partition_title(title: str, financial_year: str) -> str:
    year = "periods not in dim_periods" if financial_year == UNKNOWN else f"financial year {financial_year}"
    return f"{title}, {year}"


def _publisher(package: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in package.get("contributors", []) if c.get("role") == "publisher"), None)


def csvw_metadata(table: DescribedTable, package: dict[str, Any]) -> dict[str, Any]:
    """The table's CSVW metadata (``<file>.csv-metadata.json``): its url relative to that file,
    the package's title, licence and publisher, and a column per CSV column in header order."""
    publisher = _publisher(package)
    columns = [
        {
            "name": c.name,
            "titles": c.name,
            "dc:description": c.description,
            "datatype": CSVW_DATATYPES[c.type],
            **({"required": True} if c.constraints.get("required") else {}),
        }
        for c in table.columns
    ]
    return {
        "@context": CSVW_CONTEXT,
        "url": Path(table.path).name,
        "dc:title": table.title,
        "dc:description": package["description"],
        "dc:license": {"@id": package["licenses"][0]["path"]},
        **({"dc:publisher": publisher["title"]} if publisher else {}),
        "dialect": {"encoding": "utf-8", "header": True},
        "tableSchema": {"columns": columns, "primaryKey": list(table.primary_key), "null": list(table.missing_values)},
    }


def _typed(value: object, datatype: str) -> dict[str, str]:
    return {"@value": str(value), "@type": f"xsd:{datatype}"}


def _distribution(path: str, title: str, media_type: str, byte_size: int, conforms_to: str) -> dict[str, Any]:
    return {
        "@id": f"#{path}",
        "@type": "dcat:Distribution",
        "dct:title": title,
        "dcat:downloadURL": {"@id": path},
        "dcat:accessURL": {"@id": path},
        "dcat:mediaType": {"@id": MEDIA_TYPES + media_type},
        "dct:format": media_type,
        "dct:conformsTo": {"@id": conforms_to},
        "dcat:byteSize": _typed(byte_size, "nonNegativeInteger"),
    }


def dcat_record(
    package: dict[str, Any], tables: list[DescribedTable], folder: Path, period: tuple[str, str] | None
) -> dict[str, Any]:
    """The export as one ``dcat:Dataset`` (JSON-LD, IRIs relative to ``dcat.jsonld``): a distribution
    per CSV, conforming to its CSVW metadata, and one for ``datapackage.json``. ``folder`` holds the
    written files (for their sizes); ``period`` is the first and last day the data cover, if known."""
    publisher = _publisher(package)
    distributions = [
        _distribution(t.path, t.title, "text/csv", (folder / t.path).stat().st_size, t.metadata_path)
        for t in sorted(tables, key=lambda t: t.path)
    ]
    distributions.append(
        _distribution(
            DATA_PACKAGE,
            "Frictionless Data Package descriptor",
            "application/json",
            (folder / DATA_PACKAGE).stat().st_size,
            DATA_PACKAGE_SPEC,
        )
    )
    return {
        "@context": DCAT_CONTEXT,
        "@id": "#dataset",
        "@type": "dcat:Dataset",
        "dct:identifier": package["name"],
        "dct:title": package["title"],
        "dct:description": package["description"],
        "dct:license": {"@id": package["licenses"][0]["path"]},
        **(
            {"dct:publisher": {"@id": publisher["path"], "@type": "foaf:Organization", "foaf:name": publisher["title"]}}
            if publisher
            else {}
        ),
        # the data's newest ingestion (the package's 'created'): not the time of the export
        **({"dct:modified": _typed(package["created"], "dateTime")} if package.get("created") else {}),
        "dcat:keyword": sorted(package.get("keywords", [])),
        **(
            {
                "dct:temporal": {
                    "@type": "dct:PeriodOfTime",
                    "dcat:startDate": _typed(period[0], "date"),
                    "dcat:endDate": _typed(period[1], "date"),
                }
            }
            if period
            else {}
        ),
        "dcat:distribution": distributions,
    }
