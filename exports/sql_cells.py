"""CSV cells written by DuckDB, as the same text exports/publish.py ``format_cell`` gives in Python.

The large marts go to CSV by DuckDB's ``COPY`` (no row passes through Python), and a reader must
not be able to tell which path wrote a file: ``cell_sql`` renders one column as the very text
``format_cell`` writes, and ``CSV_OPTIONS`` quotes as ``write_csv`` does. An empty cell is NULL
here, not '': COPY writes NULL bare and an empty string as ``""``, where the Python writer writes
both bare. tests/exports/test_sql_cells.py proves byte identity on random doubles and tricky text.

DuckDB spells a double as Python's ``repr`` does (the shortest round-trip digits, an exponent
below 1e-4 and from 1e16), so a number's text starts from ``v::VARCHAR``, as ``format_number``
starts from ``repr``: a whole number loses its ``.0`` and has its exponent spelt out in zeros,
zero has no sign, and any other value keeps its spelling.
"""

from __future__ import annotations

# what Python's float() accepts (exports/publish.py neutralise_formula leaves such text alone):
# str.isspace() around it, Unicode decimal digits, single underscores between digits, inf and nan
_SPACE = (
    r"[\t\n\x{0b}\x{0c}\r \x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
    r"\x{205f}\x{3000}]"
)
_DIGITS = r"\p{Nd}(?:_?\p{Nd})*"
_NUMBER = rf"(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?"
PYTHON_FLOAT = rf"{_SPACE}*[+-]?(?:{_NUMBER}|(?i:inf|infinity|nan)){_SPACE}*"
FORMULA_START = r"^[=+@\t\r-]"  # exports/publish.py FORMULA_TRIGGERS

CSV_OPTIONS = "FORMAT csv, HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR '', COMMENT ''"  # no '#' quoting

_INTEGERS = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
}


def sql_literal(value: object) -> str:
    """``value`` (text or a path) as a SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def number_sql(value: str) -> str:
    """A DOUBLE as ``format_number(v, None)`` writes it; NULL for NULL and NaN (an empty cell)."""
    text = f"({value})::VARCHAR"
    mantissa, exponent = f"split_part({text}, 'e', 1)", f"split_part({text}, 'e', 2)"
    spelt_out = (
        f"replace({mantissa}, '.', '') || repeat('0', {exponent}::INTEGER - length(split_part({mantissa}, '.', 2)))"
    )
    return (
        f"CASE WHEN isnan({value}) THEN NULL WHEN {value} = 0 THEN '0' "
        f"WHEN isinf({value}) OR {value} <> trunc({value}) THEN {text} "
        f"WHEN contains({text}, 'e') THEN {spelt_out} "
        f"ELSE left({text}, -2) END"
    )  # whole, below 1e16: '123.0'


def text_sql(value: str) -> str:
    """A VARCHAR neutralised as ``neutralise_formula`` does: a leading = + - @ tab or CR gets an
    apostrophe unless the text is a number Python's float() reads; '' is an empty cell."""
    return (
        f"nullif(CASE WHEN regexp_matches({value}, {sql_literal(FORMULA_START)}) "
        f"AND NOT regexp_full_match({value}, {sql_literal(PYTHON_FLOAT)}) "
        f"THEN '''' || {value} ELSE {value} END, '')"
    )


def _timestamp_sql(value: str, with_zone: bool) -> str:
    """``str(datetime)``: microseconds only when there are any, and the offset as +HH:MM."""
    micros = f"(microsecond({value}) % 1000000)"
    text = (
        f"strftime({value}, '%Y-%m-%d %H:%M:%S') || "
        f"CASE WHEN {micros} = 0 THEN '' ELSE '.' || lpad({micros}::VARCHAR, 6, '0') END"
    )
    if with_zone:
        minutes = f"(timezone_hour({value}) * 60 + timezone_minute({value}))"
        text += (
            f" || CASE WHEN {minutes} < 0 THEN '-' ELSE '+' END || lpad((abs({minutes}) // 60)::VARCHAR, 2, '0') "
            f"|| ':' || lpad((abs({minutes}) % 60)::VARCHAR, 2, '0')"
        )
    return text


def cell_sql(column: str, duckdb_type: str) -> str:
    """The SQL giving ``column`` (of DuckDB type ``duckdb_type``) as its CSV cell text, or NULL."""
    value = quoted(column)
    kind = duckdb_type.upper()
    if kind in ("DOUBLE", "FLOAT", "REAL"):
        return number_sql(f"{value}::DOUBLE")  # a FLOAT reaches Python as the double it widens to
    if kind == "VARCHAR":
        return text_sql(value)
    if kind == "BOOLEAN":
        return f"CASE WHEN {value} THEN 'true' WHEN NOT {value} THEN 'false' END"
    if kind in _INTEGERS or kind == "DATE":
        return f"{value}::VARCHAR"
    if kind in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return _timestamp_sql(value, with_zone=True)
    if kind == "TIMESTAMP":
        return _timestamp_sql(value, with_zone=False)
    raise ValueError(f"no CSV cell format in SQL for {column} of type {duckdb_type}")


def row_sql(columns: dict[str, str]) -> str:
    """The SELECT list rendering every column (name to DuckDB type) as its cell, named as before."""
    return ", ".join(f"{cell_sql(name, kind)} AS {quoted(name)}" for name, kind in columns.items())
