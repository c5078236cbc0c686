"""Run by test_kestrapy.py with kestrapy 2.0.x (Kestra 2.0's API) on the path:
the real client, against a real `lanner server`. Prints a JSON summary."""

import io
import json
import sys
import time
import zipfile

from kestrapy import KestraClient
from kestrapy.models.id_with_namespace import IdWithNamespace
from kestrapy.models.query_filter import QueryFilter
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

print(json.dumps(out))
