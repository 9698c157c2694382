"""holding_warehouse_pool: a slot of the pool ``warehouse`` held outside a step, as `make run`'s
summary holds it while it reads the warehouse, so another run's writing steps wait for it."""

from __future__ import annotations

import threading
import time

import dagster as dg
import pytest

from orchestration.resources import WAREHOUSE_POOL, holding_warehouse_pool


@dg.op
def nothing() -> None:
    pass


@dg.job
def one_step() -> None:
    nothing()


@pytest.fixture
def instance(tmp_path):
    """A SQLite instance whose pools have the project's limit (dagster.yaml's default_limit: 1)."""
    with dg.instance_for_test(
        temp_dir=str(tmp_path), overrides={"concurrency": {"pools": {"default_limit": 1}}}
    ) as instance:
        yield instance


def held(instance: dg.DagsterInstance) -> set[str]:
    """The runs holding a slot of the warehouse pool."""
    return instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).active_run_ids


def test_the_slot_is_held_inside_the_block_and_freed_after(instance):
    run_id = one_step.execute_in_process(instance=instance).run_id
    with holding_warehouse_pool(instance, run_id, "make_run_summary"):
        assert held(instance) == {run_id}
    assert held(instance) == set()
    with pytest.raises(RuntimeError), holding_warehouse_pool(instance, run_id, "make_run_summary"):
        raise RuntimeError("the summary failed")
    assert held(instance) == set()


def test_it_waits_while_another_run_holds_the_slot(instance):
    writer, summary = (one_step.execute_in_process(instance=instance).run_id for _ in range(2))
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)  # as a writing step's first claim does
    assert storage.claim_concurrency_slot(WAREHOUSE_POOL, writer, "ingest", 0).is_claimed
    entered = threading.Event()

    def read_summary() -> None:
        with holding_warehouse_pool(instance, summary, "make_run_summary"):
            entered.set()

    reader = threading.Thread(target=read_summary)
    reader.start()
    assert not entered.wait(1.5), "the summary took the slot another run held"
    assert storage.get_concurrency_info(WAREHOUSE_POOL).pending_run_ids == {summary}
    freed = time.monotonic()
    storage.free_concurrency_slot_for_step(writer, "ingest")
    assert entered.wait(20)
    reader.join(20)
    assert time.monotonic() - freed < 20
    assert held(instance) == set() and storage.get_concurrency_info(WAREHOUSE_POOL).pending_run_ids == set()


def test_without_a_pool_limit_nothing_is_held(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        run_id = one_step.execute_in_process(instance=instance).run_id
        with holding_warehouse_pool(instance, run_id, "make_run_summary"):
            assert WAREHOUSE_POOL not in instance.event_log_storage.get_concurrency_keys()


def test_an_unknown_run_holds_nothing(instance):
    with holding_warehouse_pool(instance, "no-such-run", "make_run_summary"):
        assert WAREHOUSE_POOL not in instance.event_log_storage.get_concurrency_keys()
