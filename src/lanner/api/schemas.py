"""The JSON shapes of Kestra's API: request bodies as pydantic models, and
answers built from Lanner's objects in the fields `kestrapy` reads.

An execution is `lanner executions show`'s JSON (`lanner.cli.views`, secrets
masked there, with `originalId` and `metadata`) plus the fields Kestra's API
adds and its clients require (`deleted`, task runs' `namespace`/`flowId`, state
dates and duration)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from lanner.cli.views import display_masker, execution_json, log_json
from lanner.engine.execution import Execution, History
from lanner.engine.variables import iso
from lanner.model.states import State
from lanner.model.yamlsource import load_yaml
from lanner.store.base import FlowRecord, LogRecord


class IdWithNamespace(BaseModel):
    model_config = ConfigDict(extra="ignore")
    namespace: str
    id: str


class BulkResponse(BaseModel):
    count: int


class ValidateConstraintViolation(BaseModel):
    index: int
    namespace: str | None = None
    flow: str | None = None
    constraints: str | None = None
    outdated: bool = False
    deprecationPaths: list[str] = []
    warnings: list[str] = []
    infos: list[str] = []


def paged(results: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {"results": results, "total": total}


def _duration(start: datetime, end: datetime) -> str:
    return f"PT{max(0.0, (end - start).total_seconds()):.3f}S"


def _state_dates(state: dict[str, Any], current: State, histories: tuple[History, ...]) -> None:
    if not histories:
        return
    start = histories[0].date
    end = histories[-1].date if current.terminated else None
    state["startDate"] = iso(start)
    state["endDate"] = iso(end) if end is not None else None
    if end is not None:
        state["duration"] = _duration(start, end)


def execution_answer(execution: Execution) -> dict[str, Any]:
    """The execution as Kestra's API returns it, secrets masked."""
    body = execution_json(execution, display_masker(execution))
    _state_dates(body["state"], execution.state, execution.histories)
    runs = execution.task_runs
    for run_json in body["taskRunList"]:
        run_json["namespace"] = execution.namespace
        run_json["flowId"] = execution.flow_id
        value = run_json.get("value")
        if value is not None and not isinstance(value, str):
            # Kestra's task run value is a string (a ForEach value rendered as JSON).
            run_json["value"] = json.dumps(value)
        run = runs.get(run_json["id"])
        if run is not None:
            _state_dates(run_json["state"], run.state, run.histories)
    body.update(
        {
            "deleted": False,
            "scheduleDate": None,
            "kind": None,
        }
    )
    return body


def log_answer(record: LogRecord, execution: Execution, masker: Any) -> dict[str, Any]:
    body = log_json(record, masker)
    body["namespace"] = execution.namespace
    body["flowId"] = execution.flow_id
    return body


def flow_document(source: str) -> dict[str, Any]:
    """The flow's YAML as a mapping (already validated when it was deployed), read by
    the loader that validated it: as Kestra does, not with PyYAML's YAML 1.1 rules
    (which would make `id: yes` true and a date a datetime)."""
    data, _ = load_yaml(source)
    return data if isinstance(data, dict) else {}


def flow_answer(record: FlowRecord, *, with_source: bool) -> dict[str, Any]:
    """A deployed revision as Kestra's Flow (or FlowWithSource) JSON."""
    data = flow_document(record.source)
    labels = data.get("labels")
    if isinstance(labels, dict):
        data["labels"] = [{"key": str(k), "value": str(v)} for k, v in labels.items()]
    data.update(
        {
            "id": record.id,
            "namespace": record.namespace,
            "revision": record.revision,
            "updated": iso(record.updated_at),
            "disabled": bool(data.get("disabled", False)),
            "deleted": False,
        }
    )
    inputs = data.get("inputs")
    if isinstance(inputs, list):
        data["inputs"] = [_property_defaults(i) if isinstance(i, dict) else i for i in inputs]
    if with_source:
        data["source"] = record.source
    return data


def _property_defaults(declared: dict[str, Any]) -> dict[str, Any]:
    """An input's `defaults` is a Kestra Property: JSON text unless it is a string or
    an object (kestrapy 1.x cannot read `defaults: 1` otherwise)."""
    defaults = declared.get("defaults")
    if defaults is None or isinstance(defaults, str | dict):
        return declared
    return {**declared, "defaults": json.dumps(defaults)}
