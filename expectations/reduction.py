"""Let the warehouse reduce a suite's frame before Great Expectations judges it.

GX on pandas checks row by row in Python, and a whole mart copied into pandas is what made
the gate slow and memory-hungry at scale. So SQL does the scanning where the data is (DuckDB,
or PostgreSQL through ``lgperf.postgres.Reader``): one aggregate pass counts, per expectation,
the rows it applies to and the rows that break it (uniqueness by a GROUP BY of the key); only
when a count is not zero does a second pass fetch those rows. GX gets two compact frames:

- the *violating rows*: every row that breaks a column expectation (at most ``ROWS_PER_EXPECTATION``
  of them per expectation, duplicates kept together, so each failed expectation keeps rows GX
  can see fail), and
- the *table*: as many rows as the frame has, with no columns, for the row-count expectations.

The counts an auditor reads (how many values were checked, how many broke the rule) are the
aggregates SQL computed over the whole frame. GX still decides each expectation on the
rows it is given, and the runner refuses to go on if GX and SQL disagree about a failure.

Each supported expectation is written here as the SQL condition that marks a row as breaking
it, in the terms GX's own pandas implementation uses (nulls are "missing", not breaking, except
for the null checks; uniqueness marks every row of a repeated key).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ROWS_PER_EXPECTATION = 1000
TABLE_EXPECTATIONS = {"expect_table_row_count_to_be_between"}
_CONDITION = re.compile(r'^\s*([a-z_][a-z0-9_]*)\s*==\s*"([^"\\]*)"\s*$')


@dataclass(frozen=True)
class Scan:
    """How one column expectation is found in SQL: the rows it applies to (its row condition,
    and for value checks the rows where the column is not missing) and the rows that break it."""

    applies: str  # SQL boolean: the row is in the expectation's domain, missing values included (GX's element count)
    breaks: str  # SQL boolean: the row breaks it (GX's unexpected rows); only ever true where ``applies``
    order: str  # how its breaking rows are listed: a repeated key's rows side by side ("" for any order)
    keys: str = ""  # uniqueness: the key columns, counted by a GROUP BY (a window over every row costs far more)


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"no SQL literal for {value!r} in an expectation")
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _regex_matches(dialect: str) -> Callable[[str, str], str]:
    """The SQL that tests a (search, not anchored) regular expression, as GX's ``str.contains`` does."""
    if dialect == "duckdb":  # RE2: \b, \d, \s and (?:...) as in Python
        return lambda column, pattern: f"regexp_matches(cast({column} as varchar), {_literal(pattern)})"
    # PostgreSQL's advanced regular expressions write a word boundary as \y (\b is a backspace there)
    return lambda column, pattern: (
        f"(cast({column} as text) ~ {_literal(pattern.replace(chr(92) + 'b', chr(92) + 'y'))})"
    )


def row_condition(kwargs: dict[str, Any], where: str) -> str:
    """A suite's pandas ``row_condition`` (only ``column=="value"`` is used, and accepted) as SQL."""
    condition = kwargs.get("row_condition")
    if condition is None:
        return "true"
    match = _CONDITION.match(condition)
    if not match or kwargs.get("condition_parser") != "pandas":
        raise ValueError(f'{where}: row_condition {condition!r} is not of the form column=="value" (pandas parser)')
    return f"({quote_identifier(match.group(1))} = {_literal(match.group(2))})"


def scan_for(expectation: dict[str, Any], dialect: str, where: str) -> Scan:
    """The SQL of one column expectation; an expectation type without one is refused by name, so
    a suite never gains a check the gate cannot run in the warehouse."""
    kind, kwargs = expectation["type"], expectation["kwargs"]
    if "mostly" in kwargs:  # GX would judge the share on the reduced rows, not on the whole frame
        raise ValueError(f"{where}: 'mostly' is not supported by the warehouse scan")
    applies = row_condition(kwargs, where)
    column = quote_identifier(kwargs["column"]) if "column" in kwargs else None
    present = f"{applies} and {column} is not null" if column else applies  # a missing value is not a breaking one
    anywhere = ""
    if kind == "expect_column_values_to_not_be_null":
        return Scan(applies, f"{applies} and {column} is null", anywhere)
    if kind == "expect_column_values_to_be_null":
        return Scan(applies, f"{applies} and {column} is not null", anywhere)
    if kind == "expect_column_values_to_be_between":
        if any(isinstance(kwargs.get(k), dict) for k in ("min_value", "max_value")):
            raise ValueError(f"{where}: a column range bound cannot be a $PARAMETER")
        outside = []
        if kwargs.get("min_value") is not None:
            outside.append(f"{column} {'<=' if kwargs.get('strict_min') else '<'} {_literal(kwargs['min_value'])}")
        if kwargs.get("max_value") is not None:
            outside.append(f"{column} {'>=' if kwargs.get('strict_max') else '>'} {_literal(kwargs['max_value'])}")
        return Scan(applies, f"{present} and ({' or '.join(outside) or 'false'})", anywhere)
    if kind == "expect_column_values_to_be_in_set":
        values = ", ".join(_literal(v) for v in kwargs["value_set"])
        return Scan(applies, f"{present} and {column} not in ({values})", anywhere)
    if kind == "expect_column_values_to_match_regex":
        matches = _regex_matches(dialect)
        return Scan(applies, f"{present} and not {matches(column, kwargs['regex'])}", anywhere)
    if kind == "expect_column_values_to_not_match_regex_list":
        matches = _regex_matches(dialect)
        if kwargs.get("match_on", "any") != "any":
            raise ValueError(f"{where}: only match_on='any' is supported")
        return Scan(
            applies, f"{present} and ({' or '.join(matches(column, p) for p in kwargs['regex_list'])})", anywhere
        )
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        columns = [quote_identifier(c) for c in (kwargs.get("column_list") or [kwargs["column"]])]
        keys = ", ".join(columns)
        # GX leaves a row out when its key is wholly missing (compound: ignore_row_if all_values_are_missing)
        applies_here = f"{applies} and not ({' and '.join(f'{c} is null' for c in columns)})"
        repeated = f"count(*) over (partition by {keys}) > 1"
        return Scan(applies_here, f"{applies_here} and {repeated}", keys, keys)
    raise ValueError(
        f"{where}: expectation {kind} has no SQL scan in expectations/reduction.py; add one before using it"
    )


@dataclass(frozen=True)
class Reduction:
    """The SQL that scans a frame: once for the counts, and (only when a count says some rows
    break an expectation) once more for those rows."""

    frame_sql: str
    columns: list[str]  # the frame's own columns
    column_expectations: list[int]  # positions (in the suite) of the column expectations, in the SQL's order
    scans: list[Scan]  # their scans, in the same order

    @property
    def counts_sql(self) -> str:
        """One row: the frame's rows, then per column expectation its elements and breaking rows."""

        def unexpected(k: int, scan: Scan) -> str:
            if scan.keys:  # every row of a repeated key
                return (
                    f"(select cast(coalesce(sum(__n), 0) as bigint) from (select count(*) as __n from __frame "
                    f"where {scan.applies} group by {scan.keys} having count(*) > 1) as __repeated)"
                )
            return f"sum(case when {scan.breaks} then 1 else 0 end)"

        totals = ["count(*) as __rows"] + [
            f"sum(case when {s.applies} then 1 else 0 end) as __elements_{k}, {unexpected(k, s)} as __unexpected_{k}"
            for k, s in enumerate(self.scans)
        ]
        return f"with __frame as ({self.frame_sql}\n)\nselect {', '.join(totals)} from __frame"

    def violations_sql(self, failing: list[int]) -> str:
        """The rows that break the column expectations at ``failing`` (indexes into ``scans``), at
        most ``ROWS_PER_EXPECTATION`` each, with the frame's own columns only."""
        scans = {k: self.scans[k] for k in failing}
        flags = ", ".join([f"({s.breaks}) as __breaks_{k}" for k, s in scans.items()] or ["false as __breaks_none"])
        any_breaks = " or ".join(f"coalesce(__breaks_{k}, false)" for k in scans) or "false"
        ranks = ", ".join(
            [
                f"case when __breaks_{k} then row_number() over (partition by coalesce(__breaks_{k}, false)"
                f"{' order by ' + s.order if s.order else ''}) end as __rank_{k}"
                for k, s in scans.items()
            ]
            or ["1 as __rank_none"]
        )
        kept = " or ".join(f"__rank_{k} <= {ROWS_PER_EXPECTATION}" for k in scans) or "false"
        own = ", ".join(quote_identifier(c) for c in self.columns)
        return (
            f"with __frame as ({self.frame_sql}\n), __flagged as (select *, {flags} from __frame),"
            f" __violating as (select * from __flagged where {any_breaks}),"
            f" __ranked as (select *, {ranks} from __violating)\nselect {own} from __ranked where {kept}"
        )


KEY_EXPECTATIONS = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}


def reduction(
    frame_sql: str,
    columns: list[str],
    expectations: list[dict[str, Any]],
    dialect: str,
    where: str,
    only: Callable[[dict[str, Any]], bool] = lambda expectation: True,
) -> Reduction:
    """The scans of the suite's column expectations (those ``only`` accepts) over ``frame_sql``."""
    positions = [i for i, e in enumerate(expectations) if e["type"] not in TABLE_EXPECTATIONS and only(e)]
    scans = [scan_for(expectations[i], dialect, f"{where}, expectation {i + 1}") for i in positions]
    return Reduction(frame_sql.strip().rstrip(";"), columns, positions, scans)
