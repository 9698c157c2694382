"""Plain-Python ingestion: clients, readers, parsers. No Dagster imports here."""
