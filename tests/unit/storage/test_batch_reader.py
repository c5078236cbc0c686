"""A ForEachItem batch file is readable by the one child execution made for it
(storage/uris.py `batch_reader_id`), by no other execution."""

from __future__ import annotations

from lanner.engine.foreachitem import BATCH_SEED as ENGINE_SEED
from lanner.engine.foreachitem import child_id
from lanner.storage.uris import BATCH_SEED, batch_reader_id, may_read

BATCH = "kestra:///company/team/parent/executions/P/tasks/each_split/R/orders_0.csv"
OTHER = "kestra:///company/team/parent/executions/P/tasks/each_split/R/orders_1.csv"


def test_the_storage_and_the_engine_name_the_same_child() -> None:
    assert BATCH_SEED == ENGINE_SEED
    assert batch_reader_id(BATCH) == child_id(BATCH)
    assert batch_reader_id(BATCH) != batch_reader_id(OTHER)


def test_the_child_of_a_batch_reads_that_batch_only() -> None:
    child = child_id(BATCH)
    assert may_read(BATCH, "other.ns", "child", child)
    assert not may_read(OTHER, "other.ns", "child", child)
    assert not may_read(BATCH, "other.ns", "child", child_id(OTHER))
    assert not may_read(BATCH, "other.ns", "child")  # who reads is not known: no


def test_only_a_task_file_can_be_a_batch() -> None:
    for uri in (
        "kestra:///company/team/parent/executions/P/inputs/file/orders.csv",
        "kestra:///company/team/_files/orders.csv",
    ):
        assert not may_read(uri, "other.ns", "child", batch_reader_id(uri))


def test_the_usual_rules_still_hold_with_an_execution_id() -> None:
    own = "kestra:///company/team/parent/executions/P/tasks/t/R/out.txt"
    assert may_read(own, "company.team", "parent", "P")
    assert may_read("kestra:///company/_files/x.txt", "company.team", "parent", "P")
