"""Run by test_kestrapy.py with kestrapy 1.0.x (Kestra 1.3's API) on the path:
the real client, against a real `lanner server`. Prints a JSON summary."""

import io
import json
import sys
import time
import zipfile

from kestrapy import Configuration, KestraClient
from kestrapy.models.execution_controller_state_request import ExecutionControllerStateRequest
from kestrapy.models.id_with_namespace import IdWithNamespace
from kestrapy.models.label import Label
from kestrapy.models.query_filter import QueryFilter
from kestrapy.models.state_type import StateType
from kestrapy.models.trigger_controller_set_disabled_request import (
    TriggerControllerSetDisabledRequest,
)

url, hello, sleepy, paused, failing = sys.argv[1:6]
kc = KestraClient(Configuration(host=url))
T = "main"
out = {}

created = kc.flows.create_flow(tenant=T, body=hello)
out["created"] = [created.namespace, created.id, created.revision]
updated = kc.flows.update_flow(
    namespace="company.team", id="hello", tenant=T, body=hello.replace("careful", "mind")
)
out["updated_revision"] = updated.revision
kc.flows.create_flow(tenant=T, body=sleepy)
got = kc.flows.flow(
    namespace="company.team", id="hello", source=True, allow_deleted=False, tenant=T
)
out["got_source_has_mind"] = "mind" in (got.source or "")
out["revisions"] = [
    r.revision
    for r in kc.flows.list_flow_revisions(
        namespace="company.team", id="hello", allow_delete=False, tenant=T
    )
]
found = kc.flows.search_flows(
    page=1,
    size=10,
    tenant=T,
    filters=[QueryFilter(field="NAMESPACE", operation="EQUALS", value={"value": "company.team"})],
)
out["flows_found"] = sorted(f.id for f in found.results)
violations = kc.flows.validate_flows(tenant=T, body="id: x\nnamespace: a\ntasks: []\n")
out["violation"] = violations[0].constraints

execution = kc.executions.create_execution(
    namespace="company.team",
    id="hello",
    wait=True,
    tenant=T,
    labels=["client:v1"],
    additional_form_datas={"name": "Ada", "count": "2"},
)
out["run_state"] = execution.state.current.value
out["run_inputs"] = execution.inputs
again = kc.executions.execution(execution_id=execution.id, tenant=T)
out["read_back"] = [again.id == execution.id, again.state.current.value]
out["labels"] = sorted(
    f"{lb.key}:{lb.value}" for lb in again.labels or [] if not lb.key.startswith("system.")
)
searched = kc.executions.search_executions(
    page=1,
    size=10,
    tenant=T,
    filters=[
        QueryFilter(field="FLOW_ID", operation="EQUALS", value={"value": "hello"}),
        QueryFilter(field="LABELS", operation="EQUALS", value={"client": "v1"}),
    ],
)
out["searched"] = [searched.total, [e.id for e in searched.results] == [execution.id]]

running = kc.executions.create_execution(
    namespace="company.team", id="sleepy", wait=False, tenant=T
)
deadline = time.monotonic() + 60
while kc.executions.execution(execution_id=running.id, tenant=T).state.current.value != "RUNNING":
    assert time.monotonic() < deadline, "never RUNNING"
    time.sleep(0.05)
kc.executions.kill_execution(execution_id=running.id, is_on_kill_cascade=True, tenant=T)
while kc.executions.execution(execution_id=running.id, tenant=T).state.current.value != "KILLED":
    assert time.monotonic() < deadline, "never KILLED"
    time.sleep(0.05)
out["killed"] = True


def until(execution_id, *states):
    deadline = time.monotonic() + 60
    while True:
        current = kc.executions.execution(execution_id=execution_id, tenant=T)
        if current.state.current.value in states:
            return current
        assert time.monotonic() < deadline, f"never {states}"
        time.sleep(0.05)


kc.flows.create_flow(tenant=T, body=paused)
pausing = kc.executions.create_execution(
    namespace="company.team", id="paused", wait=False, tenant=T
)
until(pausing.id, "PAUSED")
kc.executions.resume_execution(
    execution_id=pausing.id, tenant=T, additional_form_datas={"reason": "v1 said so"}
)
out["resumed"] = until(pausing.id, "SUCCESS", "FAILED").state.current.value

kc.flows.create_flow(tenant=T, body=failing)
failed = kc.executions.create_execution(namespace="company.ops", id="failing", wait=True, tenant=T)
restarted = kc.executions.restart_execution(execution_id=failed.id, tenant=T, revision=None)
out["restart_answer"] = restarted.id == failed.id
deadline = time.monotonic() + 60
while True:
    again = kc.executions.execution(execution_id=failed.id, tenant=T)
    seen = [h.state.value for h in again.state.histories]
    if "RESTARTED" in seen and again.state.current.value == "FAILED":
        break
    assert time.monotonic() < deadline, seen
    time.sleep(0.05)
out["restarted"] = True

HOOKED = """\
id: hooked
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "hooked"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: the-key
"""
kc.flows.create_flow(tenant=T, body=HOOKED)
hooked = kc.executions.trigger_execution_by_get_webhook(
    namespace="company.team", id="hooked", key="the-key", tenant=T
)
out["webhook"] = [hooked.flow_id, hooked.trigger.id]
posted = kc.executions.trigger_execution_by_post_webhook_with_path(
    namespace="company.team", id="hooked", key="the-key", path="extra", tenant=T
)
out["webhook_path"] = posted.trigger.type

kc.kv.set_key_value(namespace="company.team", key="color", tenant=T, body='"blue"')
kc.kv.set_key_value(namespace="company.team", key="size", tenant=T, body="3")
detail = kc.kv.key_value(namespace="company.team", key="size", tenant=T)
out["kv_get"] = [
    str(detail.type.value if hasattr(detail.type, "value") else detail.type),
    detail.value,
]
listed = kc.kv.list_keys(namespace="company.team", tenant=T)
out["kv_list"] = [len(listed), sorted(e.key for e in listed)]
out["kv_delete"] = kc.kv.delete_key_value(namespace="company.team", key="color", tenant=T)
out["kv_inherited"] = [
    e.key for e in kc.kv.list_keys_with_inheritence(namespace="company.team", tenant=T)
]

YEARLY = """\
id: yearly
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.date }}"
triggers:
  - id: newyear
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 0 1 1 *"
"""

kc.flows.create_flow(tenant=T, body=YEARLY)
deadline = time.monotonic() + 30
while True:  # the server's trigger runtime stores the context on its next tick
    found = kc.triggers.search_triggers(page=1, size=10, tenant=T)
    if found.total:
        break
    assert time.monotonic() < deadline
    time.sleep(0.1)
out["triggers"] = [r.trigger_context.trigger_id for r in found.results]
kc.triggers.disabled_triggers_by_ids(
    tenant=T,
    trigger_controller_set_disabled_request=TriggerControllerSetDisabledRequest(
        triggers=[found.results[0].trigger_context], disabled=True
    ),
)
again = kc.triggers.search_triggers(page=1, size=10, tenant=T)
out["trigger_disabled"] = again.results[0].trigger_context.disabled
unlocked = kc.triggers.unlock_trigger(
    namespace="company.team", flow_id="yearly", trigger_id="newyear", tenant=T
)
out["trigger_unlocked"] = unlocked.trigger_id
# A backfill: started with PUT /triggers (enabling the trigger again), paused,
# unpaused, paused by ids, deleted; each answer parsed as the client's Trigger.
from datetime import UTC, datetime  # noqa: E402

from kestrapy.models.backfill import Backfill  # noqa: E402

state = kc.triggers.search_triggers(page=1, size=10, tenant=T).results[0].trigger_context
state.disabled = False
state.backfill = Backfill(
    start=datetime(1950, 1, 1, tzinfo=UTC),
    end=datetime(2020, 1, 1, tzinfo=UTC),
    labels=[Label(key="batch", value="v1")],
)
started = kc.triggers.update_trigger(tenant=T, trigger=state)
paused = kc.triggers.pause_backfill(tenant=T, trigger=started)
unpaused = kc.triggers.unpause_backfill(tenant=T, trigger=paused)
bulk_paused = kc.triggers.pause_backfill_by_ids(tenant=T, trigger=[unpaused])
deleted = kc.triggers.delete_backfill(tenant=T, trigger=unpaused)
out["backfill"] = [
    started.disabled,
    started.backfill.start.year,
    [(label.key, label.value) for label in started.backfill.labels],
    paused.backfill.paused,
    unpaused.backfill.paused,
    bulk_paused["count"] if isinstance(bulk_paused, dict) else bulk_paused.count,
    deleted.backfill is None,
]
# Replay, bulk actions by ids, flows export and import (issue 10's remaining API).
replayed = kc.executions.replay_execution(execution.id, T)
out["replayed"] = [replayed.id != execution.id, until(replayed.id, "SUCCESS").inputs]
# A replay of the replay: the chain keeps the first execution as its originalId.
twice = until(kc.executions.replay_execution(replayed.id, T).id, "SUCCESS")
first = kc.executions.execution(execution_id=execution.id, tenant=T)
out["replay_chain"] = [
    first.original_id == execution.id,
    replayed.original_id == execution.id,
    twice.original_id == execution.id,
    [
        first.metadata.attempt_number,
        replayed.metadata.attempt_number,
        twice.metadata.attempt_number,
    ],
    twice.metadata.original_created_date == first.metadata.original_created_date,
]
bulk = kc.executions.restart_executions_by_ids(T, [failed.id])
out["bulk_restart"] = bulk["count"] if isinstance(bulk, dict) else bulk.count
exported = kc.flows.export_flows_by_ids(T, [IdWithNamespace(namespace="company.ops", id="failing")])
with zipfile.ZipFile(io.BytesIO(bytes(exported))) as archive:
    out["exported"] = archive.namelist()
IMPORTED = "id: imported\nnamespace: company.ops\ntasks:\n  - id: x\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
out["import_problems"] = kc.flows.import_flows(
    False, T, file_upload=("flows.yml", IMPORTED.encode())
)
out["imported"] = kc.flows.flow(
    namespace="company.ops", id="imported", source=False, allow_deleted=False, tenant=T
).id

graph = kc.flows.generate_flow_graph(namespace="company.ops", id="failing", tenant=T)
out["graph"] = sorted(n.uid for n in graph.nodes or [])

# Replay from a task run, pause a running execution, a bulk action by query (issue 10).
done = kc.executions.execution(execution_id=execution.id, tenant=T)
warn_run = next(t.id for t in done.task_run_list if t.task_id == "warn")
from_warn = kc.executions.replay_execution(execution.id, T, task_run_id=warn_run)
from_warn = until(from_warn.id, "SUCCESS")
out["replayed_from"] = sorted((t.task_id, len(t.attempts or [])) for t in from_warn.task_run_list)
napping = kc.executions.create_execution(
    namespace="company.team", id="sleepy", wait=False, tenant=T
)
until(napping.id, "RUNNING")
kc.executions.pause_execution(napping.id, T)
out["paused"] = until(napping.id, "PAUSED").state.current.value
killed = kc.executions.kill_executions_by_query(
    T, filters=[QueryFilter(field="FLOW_ID", operation="EQUALS", value={"value": "sleepy"})]
)
out["killed_by_query"] = killed["count"] if isinstance(killed, dict) else killed.count
out["killed_state"] = until(napping.id, "KILLED").state.current.value
deleted = kc.executions.delete_executions_by_query(
    T, filters=[QueryFilter(field="FLOW_ID", operation="EQUALS", value={"value": "sleepy"})]
)
out["deleted_by_query"] = deleted["count"] if isinstance(deleted, dict) else deleted.count

kc.executions.set_labels_on_terminated_execution(
    from_warn.id, T, [Label(key="reviewed", value="yes")]
)
deadline = time.monotonic() + 60
while True:
    current = kc.executions.execution(execution_id=from_warn.id, tenant=T)
    found = {lb.key: lb.value for lb in current.labels or []}
    if found.get("reviewed") == "yes" or time.monotonic() > deadline:
        break
    time.sleep(0.05)
out["labeled"] = sorted(f"{k}:{v}" for k, v in found.items() if not k.startswith("system."))

# Replay with new inputs, a task run's state, unqueue and force-run (issue 10, the rest).
with_inputs = kc.executions.replay_execution_withinputs(
    execution.id, T, additional_form_datas={"name": "Rex"}
)
out["replayed_with_inputs"] = until(with_inputs.id, "SUCCESS").inputs
to_mark = kc.executions.create_execution(namespace="company.ops", id="failing", wait=True, tenant=T)
fails_run = next(t.id for t in to_mark.task_run_list if t.task_id == "fails")
kc.executions.update_task_run_state(
    to_mark.id,
    T,
    ExecutionControllerStateRequest(taskRunId=fails_run, state=StateType.WARNING),
)
out["marked"] = until(to_mark.id, "WARNING").state.current.value

QUEUED = """id: one_at_a_time
namespace: company.ops
concurrency:
  limit: 1
  behavior: QUEUE
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
"""
kc.flows.create_flow(tenant=T, body=QUEUED)
queued = [
    kc.executions.create_execution(
        namespace="company.ops", id="one_at_a_time", wait=False, tenant=T
    ).id
    for _ in range(1)
]
until(queued[0], "RUNNING")
queued += [
    kc.executions.create_execution(
        namespace="company.ops", id="one_at_a_time", wait=False, tenant=T
    ).id
    for _ in range(2)
]
until(queued[1], "QUEUED")
until(queued[2], "QUEUED")
kc.executions.unqueue_execution(queued[1], StateType.RUNNING, T)
kc.executions.force_run_execution(queued[2], T)
out["unqueued"] = [until(i, "RUNNING").state.current.value for i in queued[1:]]


# The same by ids and by query.
def more_queued(count):
    ids = [
        kc.executions.create_execution(
            namespace="company.ops", id="one_at_a_time", wait=False, tenant=T
        ).id
        for _ in range(count)
    ]
    for i in ids:
        until(i, "QUEUED")
    return ids


def count_of(answer):
    return answer["count"] if isinstance(answer, dict) else answer.count


ONE_AT_A_TIME = [QueryFilter(field="FLOW_ID", operation="EQUALS", value={"value": "one_at_a_time"})]
q3, q4 = more_queued(2)
bulk = [count_of(kc.executions.unqueue_executions_by_ids(StateType.CANCELLED, T, [q3]))]
bulk.append(count_of(kc.executions.force_run_by_ids(T, [q4])))
[q5] = more_queued(1)
bulk.append(count_of(kc.executions.force_run_executions_by_query(T, filters=ONE_AT_A_TIME)))
[q6] = more_queued(1)
bulk.append(
    count_of(
        kc.executions.unqueue_executions_by_query(
            T, filters=ONE_AT_A_TIME, new_state=StateType.CANCELLED
        )
    )
)
bulk.append([until(i, "RUNNING", "CANCELLED").state.current.value for i in (q3, q4, q5, q6)])
out["queue_bulk"] = bulk
kc.executions.kill_executions_by_query(T, filters=ONE_AT_A_TIME)
found_namespaces = kc.namespaces.search_namespaces(
    page=1, size=10, existing=False, tenant=T, q="company"
)
out["namespaces"] = [found_namespaces.total, [n.id for n in found_namespaces.results]]
out["namespace"] = kc.namespaces.namespace(id="company.team", tenant=T).id

print(json.dumps(out))
