"""`io.kestra.plugin.core.http.Trigger` as the trigger runtime polls it (docs/triggers.md,
"HTTP Trigger").

Each interval it sends its request with the `Request` task's code, every response code
accepted (as Kestra does: the condition decides, not the code), then renders
`responseCondition` with `response.statusCode`, `response.body` and
`response.headers`. When that is truthy it starts ONE execution whose `trigger.*` are
the Request's outputs: `uri`, `code`, `headers` and `body`. As in Kestra it fires at
every interval its condition holds (`stopAfter` ends that); the execution id derives
from the interval's date, so one date never fires twice. A request that gets no
response (connection refused, timeout) is an evaluation that failed: logged, tried
again at the next interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lanner.engine.schedule import iso
from lanner.errors import LannerError
from lanner.expr.scope import is_truthy
from lanner.model.flow import Flow
from lanner.model.polltriggers import HTTP_TRIGGER
from lanner.model.states import State
from lanner.model.triggers import HttpTrigger
from lanner.runtime.pollbase import Poll, PollingType
from lanner.store.base import TriggerContext
from lanner.tasks.core.log import as_text
from lanner.tasks.http.request import Request, run_request

log = logging.getLogger(__name__)


class HttpTriggerType(PollingType):
    type_name = HTTP_TRIGGER

    def fingerprint(self, trigger: HttpTrigger) -> str:
        return f"{trigger.interval}|{trigger.method}|{trigger.uri}|{trigger.responseCondition}"

    def poll(
        self,
        flow: Flow,
        revision: int,
        trigger: HttpTrigger,
        context: TriggerContext,
        now: datetime,
        execution_id: Callable[[str], str],
    ) -> Poll:
        assert context.next_date is not None
        new_id = execution_id(iso(context.next_date))
        render = self.renderer(flow, revision, now)
        ctx = self.task_context(flow, trigger.id, context, new_id, render, log)
        try:
            outcome = run_request(_request_task(trigger), ctx)
        finally:
            ctx.close()
        if outcome.state is not State.SUCCESS:
            raise LannerError(outcome.error or f"the request ended {outcome.state.value}")
        outputs = dict(outcome.outputs)
        response = {
            "statusCode": outputs.get("code"),
            "body": outputs.get("body"),
            "headers": outputs.get("headers"),
        }
        condition = self.renderer(flow, revision, now, {"response": response})
        if not is_truthy(as_text(condition(trigger.responseCondition))):
            return Poll()
        return Poll(variables=outputs)


def _request_task(trigger: HttpTrigger) -> Request:
    """The trigger's request as a Request task (validated by its model); every response
    code accepted, so that the condition sees 4xx and 5xx answers too."""
    options = (
        trigger.options.model_dump(exclude_unset=True, by_alias=True) if trigger.options else {}
    )
    options["allowFailed"] = True
    values: dict[str, Any] = {
        "id": trigger.id,
        "type": "io.kestra.plugin.core.http.Request",
        "uri": trigger.uri,
        "method": trigger.method,
        "contentType": trigger.contentType,
        "options": options,
    }
    for key in ("body", "formData", "headers"):
        value = getattr(trigger, key)
        if value is not None:
            values[key] = value
    if trigger.sslOptions is not None:
        values["sslOptions"] = trigger.sslOptions.model_dump(exclude_unset=True)
    return Request.model_validate(values)
