"""`lanner schema` agrees with validation: a property rejected as not supported is
not offered, or only with the values that are accepted (issue 7 §6 rule)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.model.flowtools import flow_data, log
from tests.unit.model.test_not_supported import REJECTED, _subflow
from tests.unit.model.test_schema import DEFS, _validate


@pytest.mark.parametrize(("name", "data", "path"), REJECTED, ids=[f"{p}" for _, _, p in REJECTED])
def test_the_schema_rejects_what_validation_rejects(
    name: str, data: dict[str, Any], path: str
) -> None:
    assert _validate(data) != []


@pytest.mark.parametrize(
    "data",
    [
        flow_data([log("t", logToFile=False)]),
        flow_data(
            [
                log(
                    "t",
                    retry={"type": "constant", "interval": "PT1S", "behavior": "RETRY_FAILED_TASK"},
                )
            ]
        ),
        flow_data(deleted=False),
        flow_data([_subflow(restartBehavior="NEW_EXECUTION")]),
    ],
)
def test_the_schema_offers_the_accepted_values(data: dict[str, Any]) -> None:
    assert _validate(data) == []


def test_a_rejected_property_is_not_offered_and_an_accepted_value_is_explained() -> None:
    log_task = DEFS["task:io.kestra.plugin.core.log.Log"]["properties"]
    assert "workerGroup" not in log_task and "taskCache" not in log_task
    assert log_task["logToFile"]["enum"] == [False]
    assert "task logs are always stored" in log_task["logToFile"]["description"]
