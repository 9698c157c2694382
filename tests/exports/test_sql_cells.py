"""A CSV written by DuckDB's COPY (exports/sql_cells.py) is byte for byte the one the Python
writer (exports/publish.py) gives from the same rows."""

import math
import random
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from exports.publish import write_csv
from exports.sql_cells import CSV_OPTIONS, row_sql

EDGE_NUMBERS = [
    0.0,
    -0.0,
    1e-05,
    -1e-05,
    1.5e-12,
    1e16,
    1e22,
    2.0**60,
    123456789012345.6,
    0.1 + 0.2,
    -3.5,
    1e300,
    -1e300,
    1.7976931348623157e308,
    5e-324,
    1e-4,
    9999999999999998.0,
    5.0,
    -7.0,
    100.0,
    float("nan"),
    float("inf"),
    float("-inf"),
    None,
]
TRICKY_TEXT = [
    "=SUM(A1)",
    "-3.5",
    "+1",
    "@x",
    "a,b",
    'say "hi"',
    "line\nbreak",
    "",
    None,
    "\t5",
    "\tx",
    "\rx",
    "a\rb",
    "a\r\nb",
    "-inf",
    "-nan",
    "+Infinity",
    "-1_000",
    "-1__0",
    "-1e5",
    "-.5",
    "-5.",
    "-.",
    "-",
    "--1",
    " -1",
    "-1 ",
    "-\u0663",
    "-1\u00a0",
    "#x",
    " x ",
    "\ufeffx",
    "x\u2028y",
    "é",
    "'quoted",
    "+44 161",
    "=",
    "@",
    "-e5",
    "-1e",
    "-0x10",
    "=1+1",
    "plain",
]


def random_numbers(count: int) -> list[float]:
    generator = random.Random(20261202)
    numbers = []
    for _ in range(count):
        kind = generator.random()
        if kind < 0.25:
            numbers.append(generator.uniform(-1e6, 1e6))
        elif kind < 0.45:  # any bit pattern: every exponent, subnormals
            value = struct.unpack("d", struct.pack("Q", generator.getrandbits(64)))[0]
            numbers.append(value if math.isfinite(value) else 1.0)
        elif kind < 0.65:  # values with few decimals, as indicators have
            numbers.append(round(generator.uniform(-1000, 1000), generator.randint(0, 6)))
        elif kind < 0.8:  # whole numbers of every size
            numbers.append(float(generator.randint(-(10**18), 10**18)) * 10.0 ** generator.randint(-20, 20))
        else:
            numbers.append(generator.random() * 10.0 ** generator.randint(-30, 30))
    return numbers


def both_ways(connection: duckdb.DuckDBPyConnection, tmp_path: Path) -> tuple[str, str]:
    """The table ``cells`` written by the Python writer and by COPY, as text."""
    columns = dict(connection.execute("SELECT column_name, column_type FROM (DESCRIBE cells)").fetchall())
    cursor = connection.execute("SELECT * FROM cells ORDER BY i")
    write_csv(tmp_path / "python.csv", list(columns), cursor.fetchall())
    connection.execute(
        f"COPY (SELECT {row_sql(columns)} FROM cells AS source ORDER BY source.i) TO '{tmp_path / 'sql.csv'}' "
        f"({CSV_OPTIONS})"
    ).fetchall()
    return [(tmp_path / name).read_bytes().decode("utf-8") for name in ("python.csv", "sql.csv")]


def test_numbers_and_text_are_the_same_bytes_by_either_writer(tmp_path):
    numbers = EDGE_NUMBERS + random_numbers(60_000)
    texts = (TRICKY_TEXT * (len(numbers) // len(TRICKY_TEXT) + 1))[: len(numbers)]
    with duckdb.connect() as connection:
        connection.execute(
            "CREATE TABLE cells AS SELECT i, value, TRY_CAST(value AS FLOAT) AS single, label, "
            "CASE WHEN value > 0 THEN true WHEN value < 0 THEN false END AS flag, "
            "CASE WHEN abs(value) < 1e15 THEN trunc(value)::BIGINT END AS whole "
            "FROM (SELECT unnest(range(len($n))) AS i, unnest($n::DOUBLE[]) AS value, unnest($t::VARCHAR[]) AS label)",
            {"n": numbers, "t": texts},
        ).fetchall()
        python, sql = both_ways(connection, tmp_path)
    assert python.count("\n") > len(numbers) and "'=SUM(A1)" in python and ",-3.5," in python
    assert python == sql, next(
        f"line {n}: {a!r} != {b!r}" for n, (a, b) in enumerate(zip(python.split("\n"), sql.split("\n"))) if a != b
    )


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_dates_and_times_are_the_same_bytes_by_either_writer(tmp_path, zone):
    start = datetime(2024, 3, 31, 23, 59, 59, tzinfo=UTC)
    moments = [
        start + timedelta(seconds=7919 * n, microseconds=(0 if n % 3 else 123457 * n % 1_000_000)) for n in range(500)
    ] + [None]
    with duckdb.connect() as connection:
        connection.execute(f"SET TimeZone = '{zone}'").fetchall()
        connection.execute(
            "CREATE TABLE cells AS SELECT unnest(range(len($m))) AS i, unnest($m::TIMESTAMPTZ[]) AS published_at, "
            "unnest($m::TIMESTAMPTZ[])::TIMESTAMP AS local_time, unnest($m::TIMESTAMPTZ[])::DATE AS day",
            {"m": moments},
        ).fetchall()
        python, sql = both_ways(connection, tmp_path)
    assert python == sql
    assert python.count("\n") == len(moments) + 1 and ".370371" in python  # microseconds when there are any


def test_a_type_without_a_cell_format_is_refused():
    with pytest.raises(ValueError, match="no CSV cell format"):
        row_sql({"amount": "DECIMAL(18,3)"})
