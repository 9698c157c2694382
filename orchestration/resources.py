"""Resources: the warehouse, the pipeline settings and the LG Inform API.

When the demo is asked for (``LGPERF_DEMO=1``) the API resource starts the embedded demo server on
a free loopback port for the duration of the run, so ``make run``, ``make dev`` and the tests all
use one code path against a real HTTP server. Without it, a missing ``LGINFORM_BASE_URL`` is an
error (lgperf/settings.py ``Environment.require_source``), never the demo.
"""

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from ingestion.lginform.client import LgInformClient, RetryPolicy
from lgperf import origin, postgres, publication, warehouse
from lgperf.settings import Environment, PipelineConfig, load_pipeline_config

# Every step that opens the warehouse holds this Dagster concurrency pool: DuckDB allows one
# writing process. Its limit (1) is set in dagster.yaml (concurrency.pools.default_limit).
WAREHOUSE_POOL = "warehouse"
WAREHOUSE_POOL_LIMIT = 1
RUN_PRIORITY_TAG = "dagster/priority"  # Dagster's documented run tag; a run's steps claim slots at its priority
CLAIM_BACKOFF_MAX_SECONDS = 15  # a blocked claim is retried after 1.1**n seconds up to this, as a step's is


def ensure_warehouse_pool(instance: dg.DagsterInstance) -> None:
    """Make sure ``instance`` enforces the warehouse pool across processes before a run starts.

    Dagster enforces a pool only through the instance's storage (op concurrency slots) and only
    for a pool with a limit: ``concurrency.pools.default_limit`` in DAGSTER_HOME/dagster.yaml, or
    a limit set in storage. A DAGSTER_HOME without the project's dagster.yaml (created by hand,
    or by a tool) would let two runs open the warehouse at once, and DuckDB refuses the second
    writer ("Could not set lock on file"). Then the limit is set in storage; an instance that
    cannot hold slots at all is refused.
    """
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        raise dg.DagsterInvariantViolationError(
            f"the Dagster instance ({type(storage).__name__}) cannot enforce the concurrency pool "
            f"{WAREHOUSE_POOL!r}; use the SQLite or PostgreSQL storage of dagster.yaml"
        )
    if instance.get_concurrency_config().pool_config.default_pool_limit is not None:
        return  # dagster.yaml's default limit applies (the pool is created on its first claim)
    if WAREHOUSE_POOL not in {pool.name for pool in storage.get_pool_limits()}:
        storage.set_concurrency_slots(WAREHOUSE_POOL, WAREHOUSE_POOL_LIMIT)


@contextlib.contextmanager
def holding_warehouse_pool(instance: dg.DagsterInstance, run_id: str, step_key: str) -> Iterator[None]:
    """Hold a slot of the warehouse pool outside a step (e.g. ``make run``'s summary, which
    reads the warehouse after its run while another run may be writing), as a step of
    ``run_id`` named ``step_key``; waits for the slot like a step does.

    Claimed through the instance's event-log storage, whose public methods are the ones a step's
    executor calls: queued at the run's priority, polled with the executor's back-off, and freed
    on the way out, a claim still queued (the wait interrupted) included."""
    run = instance.get_run_by_id(run_id)
    storage = instance.event_log_storage
    if run is None or not storage.supports_global_concurrency_limits:
        yield
        return
    granularity = storage.get_pool_config().pool_granularity
    if granularity is not None and granularity.value == "run":
        yield  # the pool limits whole runs, which the run coordinator enforces before a run starts
        return
    try:
        priority = int(run.tags.get(RUN_PRIORITY_TAG, "0"))
    except ValueError:
        priority = 0
    try:
        polls = 0
        while _warehouse_pool_limit(instance) is not None:  # no limit, or removed while waiting: nothing to hold
            status = storage.claim_concurrency_slot(WAREHOUSE_POOL, run_id, step_key, priority)
            if status.is_claimed:
                break
            time.sleep(status.sleep_interval or min(CLAIM_BACKOFF_MAX_SECONDS, 1.1**polls))
            polls += 1
        yield
    finally:
        storage.free_concurrency_slot_for_step(run_id, step_key)


def _warehouse_pool_limit(instance: dg.DagsterInstance) -> int | None:
    """The warehouse pool's limit in storage, first set from the instance's default limit when the
    pool has none yet or still has an earlier default (as a step's claim does)."""
    storage = instance.event_log_storage
    default = storage.get_pool_config().default_pool_limit
    pool = next((p for p in storage.get_pool_limits() if p.name == WAREHOUSE_POOL), None)
    if (pool is None and default is not None) or (pool is not None and pool.from_default and pool.limit != default):
        storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
        pool = next((p for p in storage.get_pool_limits() if p.name == WAREHOUSE_POOL), None)
    return None if pool is None else pool.limit


class WarehouseResource(DuckDBResource):
    """The DuckDB warehouse file (``database``), with the raw and audit tables in place, and
    where dbt builds the marts (``kind``: the same file, or PostgreSQL with ``WAREHOUSE=postgres``).

    dagster-duckdb's ``get_connection`` backs off while another process holds the file's lock;
    this wrapper also closes the connection when the block raises, so a failed step never
    keeps the lock that the next step (dbt, in its own process) needs.
    """

    kind: str = "duckdb"

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with self.get_connection() as connection:
            try:
                try:
                    warehouse.initialise(connection)
                except warehouse.WarehouseLayoutError as error:
                    raise dg.Failure(description=str(error), allow_retries=False) from None  # retrying cannot help
                yield connection
            finally:
                connection.close()

    def copy_to_marts_warehouse(self) -> dict[str, int]:
        """Before a dbt build on PostgreSQL: the raw and audit tables copied there (rows per table)."""
        return postgres.copy_tables(Path(self.database)) if self.kind == "postgres" else {}

    @contextlib.contextmanager
    def marts_query(self) -> Iterator[duckdb.DuckDBPyConnection | postgres.Reader]:
        """Where the gate's frame queries over the marts run: this file, or the PostgreSQL server."""
        if self.kind == "postgres":
            with postgres.reader() as reader:
                yield reader
        else:
            with self.connect() as connection:
                yield connection

    @contextlib.contextmanager
    def audit_and_marts(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, publication.MartsStore]]:
        """The audit tables (always this file) and the store of the marts (this file, through the
        same connection, or the PostgreSQL server), for the publish step and the exports' check."""
        with self.connect() as connection:
            if self.kind == "postgres":
                with postgres.connect() as server:
                    yield connection, publication.PostgresMartsStore(server)
            else:
                yield connection, publication.MartsStore(connection)

    @contextlib.contextmanager
    def marts_for_export(self, tables: Sequence[str]) -> Iterator[duckdb.DuckDBPyConnection]:
        """The marts the exports read, as DuckDB: this file, or a copy of PostgreSQL's ``tables``."""
        if self.kind == "postgres":
            with postgres.mirrored_marts(tables) as mirror:
                yield mirror
        else:
            with self.connect() as connection:
                yield connection


class PipelineSettings(dg.ConfigurableResource):
    """``pipeline.yml`` and the folders named by the environment."""

    config_path: str
    export_dir: str
    inbox_dir: str
    demo: bool = False  # the demo was asked for: ingestion marks the warehouse so (lgperf/origin.py)

    def load(self) -> PipelineConfig:
        return load_pipeline_config(self.config_path)


def claim_origin(
    context: dg.AssetExecutionContext, connection: duckdb.DuckDBPyConnection, *, demo: bool, where: str
) -> None:
    """Mark the warehouse as holding demo data on a demo load (lgperf/origin.py); the demo on a
    real warehouse fails, unretried; a real run on a demo warehouse is warned that its exports stay marked."""
    try:
        warning = origin.claim(connection, demo=demo, run_id=context.run.run_id, where=where)
    except origin.MixedOrigin as error:
        raise dg.Failure(description=str(error), allow_retries=False) from None
    if warning:
        context.log.warning(warning)


class LgInformApi(dg.ConfigurableResource):
    """The LG Inform API, or the embedded demo when the demo was asked for."""

    base_url: str | None = None
    demo: bool = False
    application_key: str | None = None
    secret: str | None = None
    _demo: object | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.demo:
            from demo.server import DemoServer  # the demo is only imported when it is used

            self._demo = DemoServer().start()
            context.log.info(f"demo asked for: started the embedded demo API at {self._demo.url}")
        elif not self.base_url:
            raise dg.DagsterInvariantViolationError(
                "LGINFORM_BASE_URL is not set and the demo was not asked for (LGPERF_DEMO=1)"
            )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._demo is not None:
            self._demo.stop()
            self._demo = None

    @property
    def resolved_base_url(self) -> str:
        return self.base_url or self._demo.url

    def client(self, config: PipelineConfig) -> LgInformClient:
        key, secret = self.application_key or "", self.secret or ""
        if self._demo is not None:
            from demo import DEMO_APPLICATION_KEY, DEMO_SECRET

            key, secret = DEMO_APPLICATION_KEY, DEMO_SECRET
        settings = config.lginform
        return LgInformClient(
            self.resolved_base_url,
            key,
            secret,
            connect_timeout=settings.timeouts.connect_seconds,
            read_timeout=settings.timeouts.read_seconds,
            retry=RetryPolicy(**settings.retry.model_dump()),
        )


def build_resources(environment: Environment | None = None) -> dict[str, dg.ConfigurableResource]:
    """The resources with every path made absolute, so Dagster and dbt see the same files."""
    env = environment or Environment.from_environ()
    return {
        "warehouse": WarehouseResource(
            database=str(env.warehouse_path), connection_config=warehouse.connection_config(), kind=env.warehouse
        ),
        "settings": PipelineSettings(
            config_path=str(env.config_path),
            export_dir=str(env.export_dir),
            inbox_dir=str(env.inbox_dir),
            demo=env.demo,
        ),
        "lginform": LgInformApi(
            base_url=env.lginform_base_url,
            demo=env.demo,
            application_key=dg.EnvVar("LGINFORM_APPLICATION_KEY") if env.lginform_application_key else None,
            secret=dg.EnvVar("LGINFORM_SECRET") if env.lginform_secret else None,
        ),
    }
