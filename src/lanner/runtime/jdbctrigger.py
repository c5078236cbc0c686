"""The JDBC `Trigger` of each JDBC family as the trigger runtime polls it
(docs/tasks-jdbc.md, "Trigger").

Each interval it runs `sql` with the JDBC Query task's code; when the query returns
rows it starts ONE execution with `trigger.rows` (FETCH), `trigger.row` (FETCH_ONE)
or `trigger.uri` (STORE, an Ion file in the execution's `trigger/` folder), and
`trigger.size`. With fetchType NONE it starts one when there is a row, with no row
variables. As in Kestra, the query decides what is new: it fires at every interval
its query returns rows (a query usually selects what a flow has not marked done).
The execution id derives from the interval's date, so one date never fires twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lanner.engine.schedule import iso
from lanner.errors import LannerError
from lanner.model.flow import Flow
from lanner.model.polltriggers import JDBC_TRIGGERS, FetchType
from lanner.model.states import State
from lanner.model.triggers import JdbcTrigger
from lanner.runtime.pollbase import Poll, PollingType
from lanner.storage.uris import storage_path
from lanner.store.base import TriggerContext
from lanner.tasks.jdbc import task_types as jdbc_task_types
from lanner.tasks.jdbc.run import run_jdbc

log = logging.getLogger(__name__)


class JdbcTriggerType(PollingType):
    def __init__(self, family: str = "postgresql", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.family = family
        self.type_name = f"io.kestra.plugin.jdbc.{family}.Trigger"

    def bound(self, storage: Any) -> JdbcTriggerType:
        return JdbcTriggerType(self.family, storage, self.engine)

    def fingerprint(self, trigger: JdbcTrigger) -> str:
        return f"{trigger.interval}|{trigger.url}|{trigger.sql}"

    def poll(
        self,
        flow: Flow,
        revision: int,
        trigger: JdbcTrigger,
        context: TriggerContext,
        now: datetime,
        execution_id: Callable[[str], str],
    ) -> Poll:
        assert context.next_date is not None
        new_id = execution_id(iso(context.next_date))
        render = self.renderer(flow, revision, now)
        ctx = self.task_context(flow, trigger.id, context, new_id, render, log)
        fetch = trigger.fetchType
        # NONE reads whether there is a row, and keeps none.
        run_as = FetchType.FETCH_ONE if fetch is FetchType.NONE else fetch
        task = _query_task(self.family, trigger, run_as)
        try:
            outcome = run_jdbc(task, ctx, self.family)
        finally:
            ctx.close()
        if outcome.state is not State.SUCCESS:
            raise LannerError(outcome.error or f"the query ended {outcome.state.value}")
        size = int(outcome.outputs.get("size") or 0)
        if size == 0:
            stored = outcome.outputs.get("uri")
            if isinstance(stored, str) and self.storage is not None:
                # STORE wrote an empty file for an execution that will not exist.
                self.storage.delete(storage_path(stored))
            return Poll()
        variables = {} if fetch is FetchType.NONE else dict(outcome.outputs)
        return Poll(variables=variables)


def _query_task(family: str, trigger: JdbcTrigger, fetch: FetchType) -> Any:
    """The trigger's query as the family's Query task (validated by its model)."""
    name = f"io.kestra.plugin.jdbc.{family}.Query"
    model = next(t.model for t in jdbc_task_types() if t.name == name)
    values: dict[str, Any] = {
        "id": trigger.id,
        "type": name,
        "url": trigger.url,
        "sql": trigger.sql,
        "fetchType": fetch.value,
        "fetchSize": trigger.fetchSize,
    }
    for key in ("username", "password", "parameters", "timeZoneId"):
        value = getattr(trigger, key)
        if value is not None:
            values[key] = value
    return model.model_validate(values)


JDBC_TRIGGER_TYPES = {name: JdbcTriggerType(family) for name, family in JDBC_TRIGGERS.items()}
