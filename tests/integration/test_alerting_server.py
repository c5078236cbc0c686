"""Alerting as a Kestra user sets it up, on a running `lanner server` (SQLite and
PostgreSQL): a flow triggered by another's executions sends SlackExecution summaries of
the execution that triggered it (`executionId: {{ trigger.executionId }}`), its URL
from a forced plugin default and its link from `server.url`, only on the second
failure in a row and once when the flow recovers (Lanner's streak conditions)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.support.cluster import Cluster
from tests.support.http_sink import HttpSink

SERVER_URL = "https://lanner.example.com"

UPSTREAM = """\
id: nightly
namespace: company.team
inputs:
  - id: ok
    type: BOOLEAN
tasks:
  - id: load
    type: io.kestra.plugin.core.execution.Fail
    runIf: "{{ not inputs.ok }}"
    errorMessage: the warehouse is down
"""

ALERTS = """\
id: alerts
namespace: company.ops
tasks:
  - id: slack
    type: io.kestra.plugin.slack.notifications.SlackExecution
    url: http://127.0.0.1:9/replaced-by-the-forced-default
    executionId: "{{ trigger.executionId }}"
    customFields:
      Trigger: "{{ trigger.id }}"
triggers:
  - id: second_failure
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: company.team
        flowId: nightly
      - type: io.lanner.condition.ConsecutiveFailures
        count: 2
  - id: recovered
    type: io.kestra.plugin.core.trigger.Flow
    conditions:
      - type: io.kestra.plugin.core.condition.ExecutionFlow
        namespace: company.team
        flowId: nightly
      - type: io.lanner.condition.FlowRecovered
"""


def test_summaries_on_the_second_failure_in_a_row_and_on_recovery(
    cluster: Cluster, sink: HttpSink, tmp_path: Path
) -> None:
    with cluster.config.open("a") as config:
        config.write(f"server:\n  url: {SERVER_URL}\n")
    for name, text in (("nightly.yml", UPSTREAM), ("alerts.yml", ALERTS)):
        (tmp_path / name).write_text(textwrap.dedent(text))
        cluster.deploy(tmp_path / name)
    cluster.spawn("server", "--port", "0")
    ids = []
    for ok in (False, False, False, True, True):
        ids.append(cluster.start("company.team", "nightly", {"ok": ok}))
        cluster.wait_finalized(ids[-1:])
    alerts = cluster.wait_for(
        lambda: (
            found
            if len(found := cluster.store.list_executions(namespace="company.ops")) >= 2
            else None
        ),
        30,
        "two alerts",
    )
    cluster.wait_finalized([e.id for e in alerts])
    received = sink.wait_for(2)
    by_trigger = {}
    for request in received:
        assert request.path == "/hook"
        [attachment] = request.json["attachments"]
        fields = {f["title"]: f["value"] for f in attachment["fields"]}
        by_trigger[fields["Trigger"]] = (attachment, fields)
    assert sorted(by_trigger) == ["recovered", "second_failure"]
    failed, fields = by_trigger["second_failure"]
    assert fields["Execution ID"] == ids[1]
    assert failed["title"] == "[company.team] nightly ➛ FAILED"
    assert failed["title_link"] == f"{SERVER_URL}/ui/executions/{ids[1]}"
    assert fields["Failed task"] == "load" and fields["Error"] == "the warehouse is down"
    ok, fields = by_trigger["recovered"]
    assert fields["Execution ID"] == ids[3]
    assert ok["title"] == "[company.team] nightly ➛ SUCCESS"
    assert len(cluster.store.list_executions(namespace="company.ops")) == 2
