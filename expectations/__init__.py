"""Great Expectations suites (``suites/*.json``, under version control) and the code that runs
them on DataFrames read from DuckDB. GX's SQL datasource cannot read DuckDB reliably, so every
suite validates a pandas DataFrame."""
