"""What a user does in the UI, in headless Chromium against a real server:
deploy a flow by pasting its YAML, start it with inputs, watch it finish,
read its logs; fix a flow the validator located; kill a running execution."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.api.conftest import API, ApiServer
from tests.api.flows import FAILING, HELLO, PAUSED, SLEEPY
from tests.ui.conftest import UiPage


def test_deploy_start_with_inputs_watch_and_read_logs(ui: UiPage, server: ApiServer) -> None:
    page = ui.open("/ui/flows")
    page.click("#new-flow")
    page.fill("textarea.source", HELLO)
    expect(page.locator("#validation")).to_have_text("Valid")
    page.click("#save-flow")
    expect(page).to_have_url(ui.url + "/ui/flows/company.team/hello")
    expect(page.locator("#flow-revision")).to_have_text("revision 1")
    assert server.store.get_flow("company.team", "hello") is not None

    # A new revision from the editor.
    page.fill("textarea.source", HELLO.replace("careful", "very careful"))
    expect(page.locator("#validation")).to_have_text("Valid")
    page.click("#save-flow")
    expect(page.locator("#flow-revision")).to_have_text("revision 2")
    expect(page.locator("#banner")).to_have_text("Saved: revision 2")

    page.click("[data-tab=execute]")
    page.fill("#input-name", "Ada")
    page.fill("#input-count", "3")
    page.fill("#start-labels", "env:ui")
    page.click("#start-execution")
    expect(page).to_have_url(re.compile(r"/ui/executions/\w+$"))
    expect(page.locator("#execution-state")).to_have_text("SUCCESS", timeout=30_000)
    expect(page.locator(".gantt-row")).to_have_count(2)
    expect(page.locator("#logs")).to_contain_text("hello Ada x3")
    expect(page.locator("#logs")).to_contain_text("very careful")
    expect(page.locator("#inputs")).to_contain_text('"count": 3')
    page.select_option("#log-level", "WARN")
    expect(page.locator("#logs .log")).to_have_count(1)
    expect(page.locator("#logs .log")).to_contain_text("very careful")
    page.select_option("#log-level", "INFO")
    page.select_option("#log-task", "say")
    expect(page.locator("#logs .log")).to_have_count(1)
    expect(page.locator("#logs .log")).to_contain_text("hello Ada x3")

    execution_id = page.url.rsplit("/", 1)[1]
    body = server.client.get(f"{API}/executions/{execution_id}").json()
    assert body["inputs"] == {"name": "Ada", "count": 3}
    assert {"key": "env", "value": "ui"} in body["labels"]


def test_validation_locates_errors_as_you_type(ui: UiPage, server: ApiServer) -> None:
    server.deploy(HELLO)
    page = ui.open("/ui/flows/company.team/hello")
    expect(page.locator("#validation")).to_have_text("Valid")
    page.fill(
        "textarea.source",
        HELLO.replace("io.kestra.plugin.core.log.Log", "io.kestra.nope.Missing", 1),
    )
    expect(page.locator("#validation")).to_have_text(re.compile(r"\d+ problems?"))
    problem = page.locator("#problems li").first
    expect(problem).to_contain_text("line 14")
    expect(page.locator(".gutter .ln.err")).to_have_text(["14"])
    page.fill("textarea.source", HELLO)
    expect(page.locator("#validation")).to_have_text("Valid")
    expect(page.locator("#problems li")).to_have_count(0)


def test_kill_a_running_execution(ui: UiPage, server: ApiServer) -> None:
    server.deploy(SLEEPY)
    page = ui.open("/ui/flows/company.team/sleepy?tab=execute")
    page.click("#start-execution")
    expect(page.locator("#execution-state")).to_have_text("RUNNING", timeout=30_000)
    expect(page.locator("#kill")).to_be_enabled()
    page.click("#kill")
    expect(page.locator("#execution-state")).to_have_text("KILLED", timeout=30_000)
    expect(page.locator("#kill")).to_be_disabled()
    expect(page.locator("#restart")).to_be_enabled()
    expect(page.locator(".gantt-row[data-task=nap]")).to_have_attribute("data-state", "KILLED")


def test_executions_list_filters_and_refreshes_live(ui: UiPage, server: ApiServer) -> None:
    server.deploy(HELLO)
    server.deploy(SLEEPY)
    done = server.start("company.team", "hello", wait="true").json()
    page = ui.open("/ui/executions")
    expect(page.locator(f"tr[data-execution='{done['id']}']")).to_be_visible()
    # Started after the page loaded: polling shows it.
    running = server.start("company.team", "sleepy").json()
    row = page.locator(f"tr[data-execution='{running['id']}']")
    expect(row).to_have_attribute("data-state", "RUNNING", timeout=30_000)
    page.select_option("#filter-state", "SUCCESS")
    expect(page.locator("#executions tbody tr[data-execution]")).to_have_count(1)
    expect(page.locator(f"tr[data-execution='{done['id']}']")).to_be_visible()
    page.select_option("#filter-state", "")
    page.fill("#filter-flow", "sleepy")
    expect(page.locator("#executions tbody tr[data-execution]")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"flowId=sleepy"))
    server.client.delete(f"{API}/executions/{running['id']}/kill")
    expect(row).to_have_attribute("data-state", "KILLED", timeout=30_000)


def test_flows_list_search_and_namespace_filter(ui: UiPage, server: ApiServer) -> None:
    server.deploy(HELLO)
    server.deploy(SLEEPY)
    server.deploy(HELLO.replace("company.team", "other.place"))
    page = ui.open("/ui/flows")
    rows = page.locator("#flows tbody tr[data-flow]")
    expect(rows).to_have_count(3)
    page.fill("#flow-search", "sleep")
    expect(rows).to_have_count(1)
    page.fill("#flow-search", "")
    expect(rows).to_have_count(3)
    page.select_option("#flow-namespace", "other.place")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-flow", "other.place.hello")


def test_secret_inputs_stay_masked(ui: UiPage, server: ApiServer) -> None:
    from tests.api.flows import SECRET

    server.deploy(SECRET)
    run = server.start("company.team", "secretive", {"token": "hunter2"}, wait="true").json()
    page = ui.open(f"/ui/executions/{run['id']}")
    expect(page.locator("#execution-state")).to_have_text("SUCCESS")
    expect(page.locator("#logs .log")).to_have_count(1)
    assert "hunter2" not in page.content()
    expect(page.locator("#inputs")).to_contain_text("******")


def test_resume_a_paused_execution_with_its_inputs(ui: UiPage, server: ApiServer) -> None:
    server.deploy(PAUSED)
    run = server.start("company.team", "paused").json()
    page = ui.open(f"/ui/executions/{run['id']}")
    expect(page.locator("#execution-state")).to_have_text("PAUSED", timeout=30_000)
    page.fill("#input-reason", "approved")
    page.click("#resume-submit")
    expect(page.locator("#execution-state")).to_have_text("SUCCESS", timeout=30_000)
    expect(page.locator("#logs")).to_contain_text("resumed because approved")
    expect(page.locator("#resume-box")).to_be_empty()


def test_restart_a_failed_execution(ui: UiPage, server: ApiServer) -> None:
    server.deploy(FAILING)
    run = server.start("company.ops", "failing", wait="true").json()
    page = ui.open(f"/ui/executions/{run['id']}")
    expect(page.locator("#execution-state")).to_have_text("FAILED")
    expect(page.locator("#logs")).to_contain_text("disk is full")
    page.click("#restart")
    # It fails again, as its task does: the restart made a second attempt.
    row = page.locator(".gantt-row[data-task=fails]")
    expect(row).to_have_attribute("data-attempts", "2", timeout=30_000)
    expect(page.locator("#execution-state")).to_have_text("FAILED")


TYPED = """\
id: typed
namespace: company.team
inputs:
  - id: region
    type: SELECT
    values: [eu, us, apac]
    defaults: eu
  - id: dry_run
    type: BOOL
    defaults: false
  - id: targets
    type: MULTISELECT
    values: [db, cache, queue]
  - id: sizes
    type: ARRAY
    itemType: INT
  - id: config
    type: JSON
  - id: ratio
    type: FLOAT
    defaults: 0.5
  - id: at
    type: DATETIME
    required: false
  - id: token
    type: SECRET
    required: false
  - id: note
    type: STRING
    defaults: "{{ 'dyn' ~ 'amic' }}"
  - id: attachment
    type: FILE
    required: false
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.region }} {{ inputs.dry_run }} {{ inputs.targets }} {{ inputs.sizes }}"
"""


def test_start_form_follows_the_input_types(ui: UiPage, server: ApiServer, tmp_path: Path) -> None:
    server.deploy(TYPED)
    page = ui.open("/ui/flows/company.team/typed?tab=execute")
    expect(page.locator("#input-region")).to_have_value("eu")
    expect(page.locator("#input-token")).to_have_attribute("type", "password")
    expect(page.locator("#input-ratio")).to_have_attribute("type", "number")
    expect(page.locator("#input-attachment")).to_have_attribute("type", "file")
    expect(page.locator("#input-note")).to_have_attribute("placeholder", re.compile("default: "))
    page.select_option("#input-region", "us")
    page.select_option("#input-dry_run", "true")
    page.select_option("#input-targets", ["db", "queue"])
    page.fill("#input-sizes", "[1, 2]")
    page.fill("#input-config", '{"a": {"b": 1}}')
    page.fill("#input-at", "2026-01-31T10:00:00Z")
    upload = tmp_path / "orders.csv"
    upload.write_bytes(b"id,total\n1,9.5\n")
    page.set_input_files("#input-attachment", str(upload))
    page.click("#start-execution")
    expect(page.locator("#execution-state")).to_have_text("SUCCESS", timeout=30_000)
    execution_id = page.url.rsplit("/", 1)[1]
    inputs = server.client.get(f"{API}/executions/{execution_id}").json()["inputs"]
    assert inputs["region"] == "us"
    assert inputs["dry_run"] is True
    assert inputs["targets"] == ["db", "queue"]
    assert inputs["sizes"] == [1, 2]
    assert inputs["config"] == {"a": {"b": 1}}
    assert inputs["ratio"] == 0.5
    assert inputs["note"] == "dynamic"
    assert inputs["at"].startswith("2026-01-31T10:00:00")
    # The file went up as a file part and into internal storage, under its name.
    uri = inputs["attachment"]
    assert uri.startswith("kestra:///company/team/typed/executions/") and uri.endswith(
        "/orders.csv"
    ), uri
    stored = server.client.get(f"{API}/executions/{execution_id}/file", params={"path": uri})
    assert stored.status_code == 200 and stored.content == upload.read_bytes()


def test_a_refused_start_says_why(ui: UiPage, server: ApiServer) -> None:
    server.deploy(TYPED)
    page = ui.open("/ui/flows/company.team/typed?tab=execute")
    page.fill("#input-sizes", "not a list")
    page.click("#start-execution")
    expect(page.locator("#banner")).to_contain_text("sizes")
    # The browser logs the refused request (422) as a console error: expected here.
    assert all("422" in e for e in ui.errors), ui.errors
    ui.errors.clear()


def test_editor_completes_from_the_json_schema(ui: UiPage, server: ApiServer) -> None:
    page = ui.open("/ui/flows/new")
    expect(page.locator("#validation")).to_have_text("Valid")
    editor = page.locator("textarea.source")
    head = (
        "id: done\nnamespace: company.team\ntasks:\n  - id: say\n"
        "    type: io.kestra.plugin.core.log.L"  # log.Fetch and log.PurgeLogs begin "log."
    )
    editor.fill(head)
    editor.press("End")
    editor.press("Control+End")
    editor.press("Control+Space")
    menu = page.locator("#completions")
    # The first completion waits for the flow schema, slow to read on a loaded machine.
    expect(menu.locator("li")).to_have_text(["io.kestra.plugin.core.log.Log"], timeout=30_000)
    editor.press("Enter")
    editor.press("Enter")
    page.keyboard.type("    mes")
    expect(menu.locator("li[data-value=message]")).to_be_visible()
    editor.press("Tab")
    page.keyboard.type("hi")
    expect(editor).to_have_value(head + "og\n    message: hi")
    expect(menu).to_be_hidden()
    expect(page.locator("#validation")).to_have_text("Valid")
