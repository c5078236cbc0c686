"""`kv()` in a flow's input declarations, whatever creates the execution: a Subflow's
child (created in the executor's cycle), a Schedule, a polling trigger and a realtime
trigger (created by the trigger runtime), as for an execution started by hand
(docs/kv.md)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from lanner.config import Config
from lanner.engine.schedule import CronClock
from lanner.model.kvtypes import KVEntry, KVType
from lanner.model.polltriggers import HTTP_TRIGGER
from lanner.model.states import State
from lanner.model.triggers import Schedule
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.pollbase import PollingType
from lanner.runtime.process import Process
from lanner.runtime.schedule import SCHEDULE_TYPE, ScheduleType
from lanner.runtime.triggers import TriggerRuntime
from lanner.store import open_store
from lanner.store.base import Store
from tests.support.mosquitto import Mosquitto, mosquitto_fixture  # noqa: F401 (fixture)
from tests.support.trigger_store import store_fixture, wait_until  # noqa: F401 (fixture)

# The input's default reads the KV store of the flow's namespace.
INPUTS = """
inputs:
  - id: region
    type: STRING
    defaults: "{{ kv('region') }}"
"""

CHILD = (
    """id: child
namespace: company.team
"""
    + INPUTS
    + """
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.region }}"
"""
)

PARENT = """id: parent
namespace: company.team
tasks:
  - id: call
    type: io.kestra.plugin.core.flow.Subflow
    namespace: company.team
    flowId: child
"""


def _region(store: Store) -> None:
    store.kv_put(KVEntry("company.team", "region", KVType.STRING, "eu-west"), datetime.now(UTC))


def test_a_subflow_child_reads_kv_in_its_input_declarations(db_url: str) -> None:
    registry = TaskRegistry.from_entry_points()
    store = open_store(db_url)
    _region(store)
    runtime = Process(store, registry, Config(), alone=True)
    runtime.start()
    try:
        store.deploy_flow("company.team", "child", CHILD)
        revision, _ = store.deploy_flow("company.team", "parent", PARENT)
        parent = runtime.create_execution(load_flow(PARENT, registry), revision, {})
        final = runtime.wait_finalized(parent.id, timeout=120)
        assert final.state is State.SUCCESS
        [child] = store.list_executions(flow_id="child", limit=10)
        assert child.inputs == {"region": "eu-west"}
    finally:
        runtime.stop()
        store.close()


def test_a_schedule_and_a_polling_trigger_read_kv_in_the_input_declarations(
    store: Store,
) -> None:
    _region(store)
    source = (
        "id: watched\nnamespace: company.team\n"
        + INPUTS
        + """
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.region }}"
triggers:
  - id: daily
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "@daily"
  - id: poll
    type: io.kestra.plugin.core.http.Trigger
    uri: http://127.0.0.1:9/
"""
    )
    flow = load_flow(source, TaskRegistry.from_entry_points())
    schedule, poll = flow.triggers or []
    rt = TriggerRuntime(store, TaskRegistry.from_entry_points(), Config())
    try:
        now = datetime.now(UTC)
        scheduled = rt.types[SCHEDULE_TYPE]
        assert isinstance(scheduled, ScheduleType) and isinstance(schedule, Schedule)
        made = scheduled.execution(flow, 1, schedule, CronClock.of(schedule), now, now)
        assert made is not None and made.inputs == {"region": "eu-west"}
        polling = rt.types[HTTP_TRIGGER]
        assert isinstance(polling, PollingType)
        polled = polling.execution(flow, 1, poll, "exec-1", {"body": ""}, now)
        assert polled.inputs == {"region": "eu-west"}
    finally:
        rt.close()


def test_a_realtime_trigger_reads_kv_in_the_input_declarations(
    store: Store, mosquitto: Mosquitto
) -> None:
    _region(store)
    store.deploy_flow(
        "company.team",
        "sensors",
        "id: sensors\nnamespace: company.team\n"
        + INPUTS
        + f"""
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ inputs.region }}}}"
triggers:
  - id: realtime
    type: io.kestra.plugin.mqtt.RealtimeTrigger
    server: {mosquitto.server}
    clientId: {mosquitto.prefix.replace("/", "-")}
    topic: {mosquitto.topic("cpu")}
    serdeType: STRING
""",
    )
    rt = TriggerRuntime(store, TaskRegistry.from_entry_points(), Config())
    try:
        rt.tick()
        wait_until(lambda: all(r.is_alive() for r in rt.runners.values()), "the listener")
        time.sleep(0.5)  # subscribed
        mosquitto.publish(mosquitto.topic("cpu"), ["42"])
        wait_until(lambda: rt.fired == 1, "one execution")
        [execution] = store.list_executions(flow_id="sensors", limit=10)
        assert execution.inputs == {"region": "eu-west"}
    finally:
        rt.close()
