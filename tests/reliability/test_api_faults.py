"""API faults through the demo server's switches, each through a real Dagster run against the
real demo server on loopback.

A fault is either recovered (the raw LG Inform tables then equal a clean pull's, with no
duplicates) or the run fails naming the request or group, and the warehouse (every raw and
mart table) and the export folder are exactly as they were before.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from demo import DEMO_APPLICATION_KEY, DEMO_SECRET
from demo.server import DemoServer
from ingestion.lginform.load import KEYS
from tests.conftest import point_environment, small_config

FAMILY = "API faults"
LGINFORM_TABLES = tuple(KEYS)
INGESTION_KEYS = [dg.AssetKey(["raw", t]) for t in LGINFORM_TABLES]
PER_RUN = {"ingested_at", "run_id", "fetched_at"}  # differ between any two runs by design
FULL_REFRESH = {"ops": {"indicators_raw": {"config": {"full_refresh": True}}}}


# -- helpers ------------------------------------------------------------------------------------


def _config(read_seconds: float | None = None) -> dict:
    config = small_config()
    if read_seconds is not None:
        config["lginform"]["timeouts"] = {"connect_seconds": 5, "read_seconds": read_seconds}
    return config


def _definitions(monkeypatch, folder: Path, server: DemoServer, config: dict | None = None):
    from orchestration.definitions import build_definitions

    env = point_environment(
        monkeypatch,
        folder,
        config=config or _config(),
        LGINFORM_BASE_URL=server.url,
        LGINFORM_APPLICATION_KEY=DEMO_APPLICATION_KEY,
        LGINFORM_SECRET=DEMO_SECRET,
    )
    return env, build_definitions(env)


def ingest(monkeypatch, folder: Path, server: DemoServer, config: dict | None = None) -> dg.ExecuteInProcessResult:
    """A real Dagster run of the LG Inform ingestion asset into ``folder``'s warehouse."""
    folder.mkdir(parents=True, exist_ok=True)
    _, defs = _definitions(monkeypatch, folder, server, config)
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=INGESTION_KEYS, raise_on_error=False
    )


def lginform_raw(path: Path, *, with_body_hashes: bool = True) -> dict[str, list[tuple]]:
    """Every row of every raw LG Inform table, sorted, without the per-run columns. Without
    body hashes (a faulty answer has other bytes than a clean one), the responses table is
    compared by request and status only."""
    out = {}
    with duckdb.connect(str(path), read_only=True) as connection:
        for table in (*LGINFORM_TABLES, "lginform_responses"):
            columns = [
                r[0]
                for r in connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ? "
                    "ORDER BY ordinal_position",
                    [table],
                ).fetchall()
            ]
            keep = [c for c in columns if c not in PER_RUN]
            if not with_body_hashes:
                keep = [c for c in keep if c not in ("source_sha256", "sha256", "body_gzip", "bytes")]
            # the demo server's port differs between runs: compare the request from its path on
            selected = [
                f"regexp_replace({c}, '^https?://[^/]+', '')" if c in ("source_reference", "request") else c
                for c in keep
            ]
            out[table] = sorted(
                connection.execute(f"SELECT {', '.join(selected)} FROM raw.{table}").fetchall(), key=repr
            )
    return out


def duplicate_keys(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            table: connection.execute(
                f"SELECT count(*) - count(DISTINCT ({', '.join(keys)})) FROM raw.{table}"
            ).fetchall()[0][0]
            for table, keys in KEYS.items()
        }


def lginform_metadata(result: dg.ExecuteInProcessResult) -> dict:
    event = next(
        m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey(["raw", "lginform_values"])
    )
    return {k: v.value for k, v in event.materialization.metadata.items()}


def served(server: DemoServer, expected: int) -> int:
    """Requests the server has recorded; a slow answer is recorded when its pause ends, which
    can be after the client gave up on it, so wait (bounded) for the count to arrive."""
    deadline = time.monotonic() + 10
    while len(server.requests) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(server.requests)


def data_statuses(server: DemoServer) -> list[int | None]:
    return [r.status for r in server.requests if r.path.startswith("/data")]


# -- the clean reference --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict:
    """A clean pull of the small demo: its raw rows and its number of requests."""
    folder = tmp_path_factory.mktemp("clean")
    with DemoServer() as server, pytest.MonkeyPatch.context() as monkeypatch:
        result = ingest(monkeypatch, folder, server)
        assert result.success
        requests = len(server.requests)
    assert all(n == 0 for n in duplicate_keys(folder / "warehouse.duckdb").values())
    return {
        "raw": lginform_raw(folder / "warehouse.duckdb"),
        "raw_no_hashes": lginform_raw(folder / "warehouse.duckdb", with_body_hashes=False),
        "requests": requests,
    }


# -- recovered faults ----------------------------------------------------------------------------

TRANSIENT = [
    pytest.param(
        "rate_limit",
        2,
        {"retry_after": 1},
        None,
        [429, 429, 200],
        "429 with Retry-After: 1, twice on the same /data call",
        "the client waits the server's 1 s each time, signs afresh and the pull completes; raw equals a clean pull's",
        id="429-retry-after",
    ),
    pytest.param(
        "server_error",
        3,
        {"status": 503},
        None,
        [503, 503, 503, 200],
        "a burst of three 503s on one /data call (the policy allows 4 attempts)",
        "retried with backoff until the 4th attempt succeeds; raw equals a clean pull's",
        id="5xx-burst",
    ),
    pytest.param(
        "slow",
        2,
        {"seconds": 2.5},
        1.0,
        [200, 200, 200],
        "two /data answers slower (2.5 s) than the client's 1 s read timeout",
        "each times out, is retried with a fresh signature; raw equals a clean pull's",
        id="slower-than-timeout",
    ),
    pytest.param(
        "truncated",
        2,
        {},
        None,
        [200, 200, 200],
        "the connection dropped mid-body twice (full length announced, half sent, closed)",
        "the short read is retried; raw equals a clean pull's, nothing half-loaded",
        id="dropped-mid-body",
    ),
]


@pytest.mark.parametrize("fault, times, params, read_seconds, first_statuses, what, expected", TRANSIENT)
def test_a_transient_fault_is_recovered_and_raw_equals_a_clean_pull(
    tried, clean, tmp_path, monkeypatch, fault, times, params, read_seconds, first_statuses, what, expected
):
    tried(what, expected, FAMILY)
    with DemoServer() as server:
        server.faults.add(fault, times=times, path_prefix="/data", **params)
        started = time.monotonic()
        result = ingest(monkeypatch, tmp_path, server, _config(read_seconds))
        elapsed = time.monotonic() - started
        assert served(server, clean["requests"] + times) == clean["requests"] + times  # one extra call per firing
        statuses = data_statuses(server)
        assert server.faults.pending() == 0  # every firing was used

    assert result.success
    # the first /data call met every firing and the retry got through; no other call was refused
    assert statuses[: len(first_statuses)] == first_statuses
    assert all(s == 200 for s in statuses[len(first_statuses) :])
    if fault == "rate_limit":
        assert elapsed >= 2.0  # Retry-After honoured both times
    warehouse = tmp_path / "warehouse.duckdb"
    assert lginform_raw(warehouse) == clean["raw"]
    assert all(n == 0 for n in duplicate_keys(warehouse).values())
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        attempts = connection.execute(
            "SELECT max(attempts), sum(attempts) - count(*) FROM audit.api_requests"
        ).fetchall()[0]
    assert attempts == (times + 1, times)  # recorded: one request needed the retries


def test_identical_duplicate_rows_are_loaded_once_and_counted(tried, clean, tmp_path, monkeypatch):
    tried(
        "a /data answer repeating its first 3 area rows, identical (every /data answer)",
        "each repeat loaded once; the run succeeds and reports duplicate_rows_dropped; raw equals a clean pull's, "
        "no duplicate keys",
        FAMILY,
    )
    with DemoServer() as server:
        server.faults.add("duplicate_rows", times=1000, path_prefix="/data", count=3)
        result = ingest(monkeypatch, tmp_path, server)
        data_calls = len(data_statuses(server))
        assert 1000 - server.faults.pending() == data_calls > 0

    assert result.success
    # 2 batches of metric types x 2 area tokens: the group's answers (16 areas) repeat 3 rows,
    # Trafford's own answers (1 row) repeat their one row
    assert data_calls == 4
    assert lginform_metadata(result)["duplicate_rows_dropped"] == 2 * (3 + 1)
    warehouse = tmp_path / "warehouse.duckdb"
    assert lginform_raw(warehouse, with_body_hashes=False) == clean["raw_no_hashes"]
    assert all(n == 0 for n in duplicate_keys(warehouse).values())


def test_reordered_rows_give_the_same_raw_rows(tried, clean, tmp_path, monkeypatch):
    tried(
        "every /data answer with its area rows in reverse order",
        "the run succeeds; raw equals a clean pull's row for row (only the response hashes differ), no duplicate keys",
        FAMILY,
    )
    with DemoServer() as server:
        server.faults.add("reorder_rows", times=1000, path_prefix="/data")
        result = ingest(monkeypatch, tmp_path, server)
        fired = 1000 - server.faults.pending()

    assert result.success
    assert fired == len(data_statuses(server)) > 0
    warehouse = tmp_path / "warehouse.duckdb"
    assert lginform_raw(warehouse, with_body_hashes=False) == clean["raw_no_hashes"]
    assert (
        lginform_raw(warehouse)["lginform_responses"] != clean["raw"]["lginform_responses"]
    )  # the fault did change the bodies
    assert all(n == 0 for n in duplicate_keys(warehouse).values())


# -- refused answers: their metric types fall behind, the rest loads -----------------------------------

GROUP = "Trafford_CIPFA_Near_Neighbours"
# fault, its parameters, the metric type whose /data answer for the comparison group it spoils,
# what the check's description must name, the case and what must hold. All three are planted in
# one run: with one metric type per /data call, each spoils a metric type of its own and the
# fourth (91023) is the rest that must publish.
REFUSED = [
    (
        "truncated_json",
        {},
        "90005",
        ["/data?metricType=90005", "not valid JSON"],
        "a complete HTTP 200 whose JSON body is cut in half (on one /data answer)",
        "that answer's metric type is held back and named (request and reason) in the check and audit.api_requests; "
        "its raw rows and sync state exactly as before; the run goes on and the other metric types publish",
    ),
    (
        "duplicate_rows",
        {"count": 1, "conflicting": True},
        "90101",
        ["/data?metricType=90101", "conflicting duplicate rows", "repeats area E"],
        "a /data answer repeating an area row with different values",
        "that answer's metric type is held back, naming the request and the area (which value is right cannot be "
        "known); its raw rows and sync state exactly as before; the others publish",
    ),
    (
        "empty_group",
        {},
        "91003",
        [f"comparison group '{GROUP}' expanded to no areas", f"area={GROUP}"],
        f"the comparison-group id {GROUP} expanding to no areas",
        "that answer's metric type is held back naming the group (no silent empty benchmark); its raw rows and "
        "sync state exactly as before; the others publish",
    ),
]
HELD_BACK = [metric_type for _, _, metric_type, *_ in REFUSED]


def _sync_state(path: Path) -> dict[str, tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            r[0]: r[1:]
            for r in connection.execute(
                "SELECT metric_type_id, last_success_at, run_id FROM audit.lginform_sync_state"
            ).fetchall()
        }


def _values_of(path: Path, metric_types: list[str]) -> list[tuple]:
    """Every raw value row of ``metric_types``, every column, in one order."""
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            "SELECT * FROM raw.lginform_values WHERE list_contains(?, metric_type_id) ORDER BY ALL", [metric_types]
        ).fetchall()


@pytest.mark.soak  # a refresh of its own: make soak, not make test
def test_each_refused_answer_holds_back_its_metric_type_and_the_rest_publishes(
    tried, demo_baseline, tmp_path, monkeypatch
):
    for _, _, _, _, what, expected in REFUSED:
        tried(what, expected, FAMILY)
    folder = tmp_path / "pipeline"
    shutil.copytree(demo_baseline, folder)
    warehouse = folder / "warehouse.duckdb"
    values_before = _values_of(warehouse, HELD_BACK)
    sync_before = _sync_state(warehouse)
    config = _config()
    config["lginform"]["batch_size"] = 1  # one /data call per metric type and area token

    with DemoServer() as server:
        for fault, params, metric_type, *_ in REFUSED:
            server.faults.add(
                fault, times=1, path_prefix="/data", query_contains=f"metricType={metric_type}&area={GROUP}", **params
            )
        _, defs = _definitions(monkeypatch, folder, server, config)
        result = defs.resolve_job_def("refresh_all").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), run_config=FULL_REFRESH, raise_on_error=False
        )
        assert server.faults.pending() == 0

    assert result.success  # the refresh went on: marts and exports from what loaded
    check = next(
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == "metric_types_current"
    )
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["metric_types_behind"].value == HELD_BACK
    for _, _, _, named, *_ in REFUSED:
        for text in named:
            assert text in check.description
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "candidate/fct_indicator_values" in materialised and "marts/publication" in materialised
    assert "exports/open_data" in materialised
    # the held-back metric types: raw rows as they were, sync state not advanced; the other re-pulled
    assert _values_of(warehouse, HELD_BACK) == values_before
    sync_after = _sync_state(warehouse)
    assert {m: sync_after[m] for m in HELD_BACK} == {m: sync_before[m] for m in HELD_BACK}
    assert sync_after["91023"] != sync_before["91023"]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        errors = dict(
            connection.execute("SELECT metric_types, error FROM audit.api_requests WHERE error IS NOT NULL").fetchall()
        )
    assert sorted(errors) == HELD_BACK  # one refused request per fault, naming its metric type
    for _, _, metric_type, named, *_ in REFUSED:
        assert all(text in errors[metric_type] for text in named if not text.startswith(("/data", "area=")))


# -- the demo server's new switches themselves ------------------------------------------------------


def test_the_new_demo_switches_alter_only_what_they_name(tried):
    tried(
        "the demo server's switches duplicate_rows, reorder_rows, empty_group and truncated_json on direct /data calls",
        "each changes the answer exactly as named and only on the call it fires on",
        FAMILY,
    )
    import json

    from ingestion.lginform.client import LgInformClient, ResponseNotUnderstood, RetryPolicy

    group = [
        ("metricType", "91003"),
        ("area", "Trafford_CIPFA_Near_Neighbours,E92000001"),
        ("period", "latest:2"),
        ("value.valueType", "raw"),
    ]
    with DemoServer() as server:
        client = LgInformClient(server.url, DEMO_APPLICATION_KEY, DEMO_SECRET, retry=RetryPolicy(max_attempts=1))

        def rows() -> list[dict]:
            return client.get_json("/data", group).document["rows"]

        clean = rows()
        assert len(clean) == 16 and clean[-1]["area"]["identifier"] == "E92000001"  # the 15 neighbours, then England
        server.faults.add("duplicate_rows", times=1, path_prefix="/data", count=2)
        assert rows() == [*clean[:2], *clean[:2], *clean[2:]]
        server.faults.add("duplicate_rows", times=1, path_prefix="/data", conflicting=True)
        conflicting = rows()
        assert conflicting[0]["area"] == conflicting[1]["area"] and conflicting[2:] == clean[1:]
        assert [c["value"] + 1 if c["value"] is not None else None for c in conflicting[0]["values"]] == [
            c["value"] for c in conflicting[1]["values"]
        ]
        server.faults.add("reorder_rows", times=1, path_prefix="/data")
        assert rows() == clean[::-1]
        server.faults.add("empty_group", times=1, path_prefix="/data")
        assert [r["area"]["identifier"] for r in rows()] == ["E92000001"]  # the group gave nothing, England still there
        server.faults.add("truncated_json", times=1, path_prefix="/data")
        with pytest.raises(ResponseNotUnderstood, match="not valid JSON"):
            client.get_json("/data", group)
        server.faults.add("empty_group", times=1, path_prefix="/metricTypes")
        assert (
            json.loads(client.get_json("/metricTypes/91003", []).body)["metricType"]["identifier"] == "91003"
        )  # not /data: unchanged
        # a fault for another call's query does not fire on this one
        server.faults.add("reorder_rows", times=1, path_prefix="/data", query_contains="metricType=90005&")
        assert rows() == clean and server.faults.pending() == 1
        server.faults.clear()
        assert rows() == clean and server.faults.pending() == 0
        client.close()
