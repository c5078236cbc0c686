"""Run by test_kestrapy.py with kestrapy 2.0.x (Kestra 2.0's API) on the path:
the real client, against a real `lanner server`. Prints a JSON summary."""

import io
import json
import sys
import time
import zipfile

from kestrapy import KestraClient
from kestrapy.models.execution_controller_state_request import ExecutionControllerStateRequest
from kestrapy.models.id_with_namespace import IdWithNamespace
from kestrapy.models.label import Label
from kestrapy.models.query_filter import QueryFilter
from kestrapy.models.state_type import StateType
from kestrapy.models.trigger_controller_api_trigger_id import TriggerControllerApiTriggerId
from kestrapy.models.trigger_controller_set_disabled_request import (
    TriggerControllerSetDisabledRequest,
)

url, hello, sleepy, paused, failing = sys.argv[1:6]
kc = KestraClient(host=url, timeout=60)
T = "main"
out = {}

created = kc.flows.create_flow(T, hello)
out["created"] = [created.namespace, created.id, created.revision]
updated = kc.flows.update_flow("company.team", "hello", T, hello.replace("careful", "mind"))
out["updated_revision"] = updated.revision
kc.flows.create_flow(T, sleepy)
got = kc.flows.flow("company.team", "hello", T)
out["got_source_has_mind"] = "mind" in (got.source or "")
out["revisions"] = [r.revision for r in kc.flows.list_flow_revisions("company.team", "hello", T)]
found = kc.flows.search_flows(
    T,
    page=1,
    size=10,
    filters=[QueryFilter(field="namespace", operation="EQUALS", value="company.team")],
)
out["flows_found"] = sorted(f.id for f in found.results)
violations = kc.flows.validate_flows(T, "id: x\nnamespace: a\ntasks: []\n")
out["violation"] = violations[0].constraints

execution = kc.executions.create_execution(
    T, "company.team", "hello", labels=["client:v2"], wait=True, inputs={"name": "Ada", "count": 2}
)
out["run_state"] = execution.state.current.value
out["run_inputs"] = execution.inputs
again = kc.executions.execution(execution.id, T)
out["read_back"] = [again.id == execution.id, again.state.current.value]
out["labels"] = sorted(
    f"{lb.key}:{lb.value}" for lb in again.labels or [] if not lb.key.startswith("system.")
)
searched = kc.executions.search_executions(
    T,
    page=1,
    size=10,
    filters=[
        QueryFilter(field="flowId", operation="EQUALS", value="hello"),
        QueryFilter(field="labels", operation="EQUALS", value={"client": "v2"}),
    ],
)
out["searched"] = [searched["total"], [e["id"] for e in searched["results"]] == [execution.id]]
logs = kc.logs.list_logs_from_execution(execution.id, T, task_id="say")
out["logs"] = [entry.message for entry in logs]
out["warn_logs"] = [
    e.message for e in kc.logs.list_logs_from_execution(execution.id, T, min_level="WARN")
]
out["download_has_hello"] = "hello Ada x2" in kc.logs.download_logs_from_execution(execution.id, T)

running = kc.executions.create_execution(T, "company.team", "sleepy")
deadline = time.monotonic() + 60
while kc.executions.execution(running.id, T).state.current.value != "RUNNING":
    assert time.monotonic() < deadline, "never RUNNING"
    time.sleep(0.05)
answer = kc.executions.kill_execution(running.id, T)
out["kill_answer_id"] = answer.id == running.id
while kc.executions.execution(running.id, T).state.current.value != "KILLED":
    assert time.monotonic() < deadline, "never KILLED"
    time.sleep(0.05)
out["killed"] = True


def until(execution_id, *states):
    deadline = time.monotonic() + 60
    while True:
        current = kc.executions.execution(execution_id, T)
        if current.state.current.value in states:
            return current
        assert time.monotonic() < deadline, f"never {states}"
        time.sleep(0.05)


kc.flows.create_flow(T, paused)
pausing = kc.executions.create_execution(T, "company.team", "paused")
until(pausing.id, "PAUSED")
resumed = kc.executions.resume_execution(pausing.id, T, inputs={"reason": "v2 said so"})
out["resume_answer"] = resumed.id == pausing.id
out["resumed"] = until(pausing.id, "SUCCESS", "FAILED").state.current.value
said = kc.logs.list_logs_from_execution(pausing.id, T, task_id="said")
out["resume_log"] = [entry.message for entry in said]

kc.flows.create_flow(T, failing)
failed = kc.executions.create_execution(T, "company.ops", "failing", wait=True)
restarted = kc.executions.restart_execution(failed.id, T)
out["restart_answer"] = restarted.id == failed.id
deadline = time.monotonic() + 60
while True:
    again = kc.executions.execution(failed.id, T)
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
kc.flows.create_flow(T, HOOKED)
hooked = kc.executions.trigger_execution_by_get_webhook(T, "company.team", "hooked", "the-key")
out["webhook"] = [hooked.flow_id, hooked.trigger.id]
posted = kc.executions.trigger_execution_by_post_webhook_with_path(
    T, "company.team", "hooked", "the-key", "extra"
)
out["webhook_path"] = posted.trigger.type

kc.kv.set_key_value("company.team", "color", T, '"blue"')
kc.kv.set_key_value("company.team", "size", T, "3")
detail = kc.kv.key_value("company.team", "size", T)
out["kv_get"] = [
    str(detail.type.value if hasattr(detail.type, "value") else detail.type),
    detail.value,
]
listed = kc.kv.list_all_keys(
    T,
    page=1,
    size=10,
    filters=[QueryFilter(field="namespace", operation="EQUALS", value="company.team")],
)
out["kv_list"] = [listed.total, sorted(e.key for e in listed.results)]
out["kv_delete"] = kc.kv.delete_key_value("company.team", "color", T)
out["kv_inherited"] = [e.key for e in kc.kv.list_keys_with_inheritance("company.team", T)]

WITH_FILE = """\
id: withfile
namespace: company.team
inputs:
  - id: data
    type: FILE
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.data) }}"
outputs:
  - id: content
    type: STRING
    value: "{{ outputs.read.value }}"
"""
kc.flows.create_flow(T, WITH_FILE)
filed = kc.executions.create_execution(
    T, "company.team", "withfile", wait=True, inputs={"data": ("in.txt", b"file body")}
)
uri = filed.inputs["data"]
out["file_download"] = kc.executions.download_file_from_execution(filed.id, uri, T).decode()
out["file_size"] = kc.executions.file_metadatas_from_execution(filed.id, uri, T).size
out["outputs"] = kc.outputs.execution_outputs(filed.id, T)
kc.files.create_namespace_file("company.team", "/q/one.sql", T, file_content=b"select 1")
out["nsfile"] = kc.files.file_content("company.team", "/q/one.sql", T).decode()
out["nsfile_list"] = [
    f.file_name for f in kc.files.list_namespace_directory_files("company.team", T, path="/q")
]
kc.files.delete_file_directory("company.team", "/q/one.sql", T)

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

kc.flows.create_flow(T, YEARLY)
deadline = time.monotonic() + 30
while True:  # the server's trigger runtime stores the context on its next tick
    found = kc.triggers.search_triggers(T, page=1, size=10)
    if found["total"]:
        break
    assert time.monotonic() < deadline
    time.sleep(0.1)
out["triggers"] = [r["state"]["triggerId"] for r in found["results"]]
kc.triggers.disabled_triggers_by_ids(
    T,
    TriggerControllerSetDisabledRequest(
        triggers=[
            TriggerControllerApiTriggerId(
                namespace="company.team", flowId="yearly", triggerId="newyear"
            )
        ],
        disabled=True,
    ),
)
again = kc.triggers.search_triggers(T, page=1, size=10)
out["trigger_disabled"] = again["results"][0]["state"]["disabled"]
unlocked = kc.triggers.unlock_trigger(T, "company.team", "yearly", "newyear")
out["trigger_unlocked"] = unlocked["triggerId"]
# A backfill: created, paused, unpaused, paused by query, deleted (raw JSON answers).
key = {"namespace": "company.team", "flowId": "yearly", "triggerId": "newyear"}
kc.triggers.disable_trigger_by_id(T, {**key, "disabled": False})
started = kc.triggers.create_backfill(
    T,
    {
        **key,
        "backfill": {
            "start": "1950-01-01T00:00:00Z",
            "end": "2020-01-01T00:00:00Z",
            "inputs": {},
            "labels": [{"key": "batch", "value": "v2"}],
        },
    },
)
paused = kc.triggers.pause_backfill(T, key)
unpaused = kc.triggers.unpause_backfill(T, key)
by_query = kc.triggers.pause_backfill_by_query(
    T, filters=[QueryFilter(field="namespace", operation="EQUALS", value="company.team")]
)
deleted = kc.triggers.delete_backfill(T, key)
out["backfill"] = [
    started["disabled"],
    started["backfill"]["start"][:4],
    [(label["key"], label["value"]) for label in started["backfill"]["labels"]],
    paused["backfill"]["paused"],
    unpaused["backfill"]["paused"],
    by_query["count"],
    deleted["backfill"] is None,
]

followed = kc.executions.create_execution(T, "company.team", "hello", inputs={"name": "Flo"})
# The first event (Kestra's `start`) holds only the id.
events = list(kc.executions.follow_execution(followed.id, T))
seen = [e.state.current.value for e in events if getattr(e, "state", None)]
out["followed_last"] = seen[-1]
out["followed_logs"] = [
    entry.message
    for entry in kc.logs.follow_logs_from_execution(followed.id, T, min_level="INFO")
    if entry.message
]

LOG = "io.kestra.plugin.core.log.Log"
out["plugin_listed"] = any(LOG in p["tasks"] for p in kc.plugins.list_plugins())
out["plugin_schema"] = "task:" + LOG in kc.plugins.plugin_schema("flow")["$defs"]
out["plugin_doc"] = (
    "message" in kc.plugins.plugin_documentation(LOG)["schema"]["properties"]["properties"]
)
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
    T, fail_on_error=False, file_content=IMPORTED.encode()
)
out["imported"] = kc.flows.flow("company.ops", "imported", T).id

graph = kc.flows.generate_flow_graph("company.ops", "failing", T)
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
    T, filters=[QueryFilter(field="flowId", operation="EQUALS", value="sleepy")]
)
out["killed_by_query"] = killed["count"] if isinstance(killed, dict) else killed.count
out["killed_state"] = until(napping.id, "KILLED").state.current.value
deleted = kc.executions.delete_executions_by_query(
    T, filters=[QueryFilter(field="flowId", operation="EQUALS", value="sleepy")]
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
with_inputs = kc.executions.replay_execution_with_inputs(execution.id, T, inputs={"name": "Rex"})
out["replayed_with_inputs"] = until(with_inputs.id, "SUCCESS").inputs
plain = kc.executions.replay_execution_with_inputs(execution.id, T)  # an empty multipart
out["replayed_without_inputs"] = until(plain.id, "SUCCESS").inputs
to_mark = kc.executions.create_execution(T, "company.ops", "failing", wait=True)
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
kc.flows.create_flow(T, QUEUED)
queued = [
    kc.executions.create_execution(T, "company.ops", "one_at_a_time", wait=False).id
    for _ in range(1)
]
until(queued[0], "RUNNING")
queued += [
    kc.executions.create_execution(T, "company.ops", "one_at_a_time", wait=False).id
    for _ in range(2)
]
until(queued[1], "QUEUED")
until(queued[2], "QUEUED")
kc.executions.unqueue_execution(queued[1], T)
kc.executions.force_run_execution(queued[2], T)
out["unqueued"] = [until(i, "RUNNING").state.current.value for i in queued[1:]]


# The same by ids and by query.
def more_queued(count):
    ids = [
        kc.executions.create_execution(T, "company.ops", "one_at_a_time", wait=False).id
        for _ in range(count)
    ]
    for i in ids:
        until(i, "QUEUED")
    return ids


def count_of(answer):
    return answer["count"] if isinstance(answer, dict) else answer.count


ONE_AT_A_TIME = [QueryFilter(field="flowId", operation="EQUALS", value="one_at_a_time")]
q3, q4 = more_queued(2)
bulk = [count_of(kc.executions.unqueue_executions_by_ids(T, StateType.CANCELLED, [q3]))]
bulk.append(count_of(kc.executions.force_run_by_ids(T, [q4])))
[q5] = more_queued(1)
bulk.append(count_of(kc.executions.force_run_executions_by_query(T, filters=ONE_AT_A_TIME)))
[q6] = more_queued(1)
bulk.append(
    count_of(
        kc.executions.unqueue_executions_by_query(
            T, new_state=StateType.CANCELLED, filters=ONE_AT_A_TIME
        )
    )
)
bulk.append([until(i, "RUNNING", "CANCELLED").state.current.value for i in (q3, q4, q5, q6)])
out["queue_bulk"] = bulk
kc.executions.kill_executions_by_query(T, filters=ONE_AT_A_TIME)
found_namespaces = kc.namespaces.search_namespaces(
    T, page=1, size=10, filters=[QueryFilter(field="q", operation="EQUALS", value="company")]
)
out["namespaces"] = [found_namespaces.total, [n.id for n in found_namespaces.results]]
out["namespace"] = kc.namespaces.namespace(id="company.team", tenant=T).id

print(json.dumps(out))
