"""Shell and Node script tasks run for real as local processes (Process task runner),
against a real in-memory TaskContext: logs, exit codes, the environment's
allow-list, files in and out, kill of the whole process group, the Docker runner's
refusal."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lanner.errors import LannerError
from lanner.model.states import State
from lanner.plugin import Outcome
from lanner.storage import LocalStorage, namespace_file_uri, storage_path
from lanner.tasks.scripts.model import NodeCommands, NodeScript, ShellCommands, ShellScript
from lanner.tasks.scripts.run import run_script
from tests.support.task_context import LocalTaskContext


@pytest.fixture
def ctx(tmp_path: Path) -> LocalTaskContext:
    return LocalTaskContext(storage=LocalStorage(tmp_path / "storage"))


def shell(ctx: LocalTaskContext, **props: Any) -> Outcome:
    task = ShellCommands.model_validate({"id": "sh", "type": "shell", **props})
    try:
        return run_script(task, ctx)
    finally:
        ctx.close()


def test_stdout_lines_are_info_logs_and_the_exit_code_an_output(ctx: LocalTaskContext) -> None:
    outcome = shell(ctx, commands=["echo one", "echo two"])
    assert outcome.state is State.SUCCESS
    assert outcome.outputs == {"exitCode": 0, "vars": {}}
    assert ctx.logs == [("INFO", "one"), ("INFO", "two")]


def test_stderr_lines_are_warn_logs_and_the_state_follows_the_exit_code(
    ctx: LocalTaskContext,
) -> None:
    outcome = shell(ctx, commands=["echo careful >&2"])
    assert outcome.state is State.SUCCESS
    assert ctx.logs == [("WARN", "careful")]


def test_warning_on_stderr_is_accepted_and_changes_nothing(ctx: LocalTaskContext) -> None:
    for flag in (True, False):
        outcome = shell(ctx, commands=["echo careful >&2"], warningOnStdErr=flag)
        assert outcome.state is State.SUCCESS


def test_a_non_zero_exit_fails_the_task_with_its_code(ctx: LocalTaskContext) -> None:
    outcome = shell(ctx, commands=["echo before", "exit 3"])
    assert outcome.state is State.FAILED
    assert outcome.error == "Command failed with exit code 3"
    assert outcome.outputs["exitCode"] == 3


def test_fail_fast_stops_at_the_first_failing_command(ctx: LocalTaskContext) -> None:
    outcome = shell(ctx, commands=["false", "echo after"])
    assert outcome.state is State.FAILED and outcome.outputs["exitCode"] == 1
    assert ctx.messages() == []


def test_without_fail_fast_the_last_command_decides(ctx: LocalTaskContext) -> None:
    outcome = shell(ctx, commands=["false", "echo after"], failFast=False)
    assert outcome.state is State.SUCCESS
    assert ctx.messages() == ["after"]


def test_before_commands_run_first_in_the_same_shell(ctx: LocalTaskContext) -> None:
    outcome = shell(ctx, beforeCommands=["GREETING=hello"], commands=["echo $GREETING"])
    assert outcome.state is State.SUCCESS and ctx.messages() == ["hello"]


def test_kestra_output_lines_become_vars_and_are_not_logged(ctx: LocalTaskContext) -> None:
    outcome = shell(
        ctx,
        commands=[
            """echo '::{"outputs": {"a": 1, "b": "x"}}::'""",
            """echo '::{"outputs": {"b": "y"}}::'""",
            """echo '::{"metrics": [{"name": "rows", "type": "counter", "value": 2}]}::'""",
            """echo '::{"logs": [{"level": "ERROR", "message": "bad row"}]}::' >&2""",
        ],
    )
    assert outcome.outputs["vars"] == {"a": 1, "b": "y"}
    assert outcome.outputs["metrics"] == [
        {"name": "rows", "type": "counter", "value": 2, "tags": {}}
    ]
    assert ctx.logs == [("ERROR", "bad row")]
    assert outcome.state is State.SUCCESS  # logs, even ERROR ones, leave the state alone


def test_the_environment_is_an_allow_list(
    ctx: LocalTaskContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANNER_DB", "postgresql://secret@db/lanner")
    monkeypatch.setenv("SECRET_TOKEN", "c2VjcmV0")
    monkeypatch.setenv("SOME_OPERATOR_VAR", "x")
    shell(ctx, env={"OWN": "mine"}, commands=["env | cut -d= -f1 | sort", "pwd"])
    names = ctx.messages()[:-1]
    assert {"PATH", "HOME", "OWN", "WORKING_DIR"} <= set(names)
    assert not {"LANNER_DB", "SECRET_TOKEN", "SOME_OPERATOR_VAR"} & set(names)
    assert not [n for n in names if n.startswith(("LANNER_", "SECRET_"))]


def test_working_dir_is_the_current_directory_and_goes_with_the_attempt(
    ctx: LocalTaskContext,
) -> None:
    shell(ctx, commands=['echo "$WORKING_DIR"', "pwd"])
    first, second = ctx.messages()
    assert first == second and Path(first).name.startswith("lanner-wd-")
    assert not Path(first).exists()  # removed when the attempt ended


def test_input_files_inline_and_from_internal_storage(ctx: LocalTaskContext) -> None:
    source = ctx.working_directory().parent / f"src-{os.getpid()}.csv"
    source.write_text("a,b\n1,2\n")
    uri = ctx.put_file(source, "data.csv")
    source.unlink()
    outcome = shell(
        ctx,
        inputFiles={"notes/readme.txt": "hello file\n", "data.csv": uri},
        commands=["cat notes/readme.txt", "cat data.csv"],
    )
    assert outcome.state is State.SUCCESS
    assert ctx.messages() == ["hello file", "a,b", "1,2"]


def test_a_storage_uri_in_a_command_reads_as_a_local_copy_of_its_file(
    ctx: LocalTaskContext,
) -> None:
    source = ctx.working_directory().parent / f"out-{os.getpid()}.json"
    source.write_text('{"k": 1}\n')
    uri = ctx.put_file(source, "myoutput.json")
    source.unlink()
    outcome = shell(
        ctx, beforeCommands=[f"test -s {uri}"], commands=[f"cat {uri}", f"wc -c < {uri}"]
    )
    assert outcome.state is State.SUCCESS
    assert ctx.messages() == ['{"k": 1}', "9"]


def test_a_storage_uri_the_execution_may_not_read_fails_the_command(
    ctx: LocalTaskContext,
) -> None:
    with pytest.raises(LannerError):
        shell(ctx, commands=["cat kestra:///other/ns/_files/secret.txt"])


def test_input_files_as_a_json_string(ctx: LocalTaskContext) -> None:
    shell(ctx, inputFiles='{"x.txt": "from json"}', commands=["cat x.txt"])
    assert ctx.messages() == ["from json"]


def test_input_files_may_not_leave_the_working_directory(ctx: LocalTaskContext) -> None:
    with pytest.raises(LannerError, match="must be a relative path inside the working directory"):
        shell(ctx, inputFiles={"../escape.txt": "x"}, commands=["true"])


def test_output_files_go_to_internal_storage(ctx: LocalTaskContext) -> None:
    outcome = shell(
        ctx,
        outputFiles=["*.csv", "out/report.txt"],
        commands=["echo 1 > a.csv", "echo 2 > b.csv", "mkdir out", "echo done > out/report.txt"],
    )
    files = outcome.outputs["outputFiles"]
    assert sorted(files) == ["a.csv", "b.csv", "out/report.txt"]
    assert all(uri.startswith("kestra:///company/team/flow/executions/") for uri in files.values())
    with ctx.open_file(files["out/report.txt"]) as f:
        assert f.read() == b"done\n"


def test_container_image_is_ignored_with_one_warning(ctx: LocalTaskContext) -> None:
    outcome = shell(ctx, containerImage="ubuntu:24.04", commands=["echo ok"])
    assert outcome.state is State.SUCCESS
    warnings = ctx.messages("WARN")
    assert len(warnings) == 1 and "containerImage 'ubuntu:24.04' is ignored" in warnings[0]


def test_process_runner_options_are_ignored_with_a_warning(ctx: LocalTaskContext) -> None:
    runner = {"type": "io.kestra.plugin.core.runner.Process", "pullPolicy": "NEVER"}
    outcome = shell(ctx, taskRunner=runner, commands=["echo ok"])
    assert outcome.state is State.SUCCESS
    assert ctx.messages("WARN") == [
        "taskRunner options pullPolicy are ignored by the io.kestra.plugin.core.runner.Process"
        " task runner"
    ]


def test_the_deprecated_runner_property(ctx: LocalTaskContext) -> None:
    outcome = shell(ctx, runner="PROCESS", docker={"image": "ubuntu"}, commands=["echo ok"])
    assert outcome.state is State.SUCCESS and ctx.messages("INFO") == ["ok"]
    assert ctx.messages("WARN") == [
        "docker options image are ignored by the io.kestra.plugin.core.runner.Process task runner"
    ]
    outcome = shell(ctx, runner="DOCKER", commands=["echo never runs"])
    assert outcome.state is State.FAILED and "Docker" in (outcome.error or "")


def test_the_docker_runner_fails_with_how_to_switch_to_process(
    ctx: LocalTaskContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    outcome = shell(
        ctx,
        taskRunner={"type": "io.kestra.plugin.scripts.runner.docker.Docker", "pullPolicy": "NEVER"},
        commands=["echo never runs"],
    )
    assert outcome.state is State.FAILED
    assert outcome.error is not None
    assert "needs a Docker engine and none is reachable" in outcome.error
    assert "io.kestra.plugin.core.runner.Process" in outcome.error
    assert "pluginDefaults" in outcome.error and "forced: true" in outcome.error


def test_a_kill_stops_the_whole_process_group(ctx: LocalTaskContext, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    result: list[Outcome] = []
    task = ShellCommands.model_validate(
        {
            "id": "sh",
            "type": "shell",
            "commands": [f"sleep 60 & echo $! > {pids}", "echo started", "wait"],
        }
    )
    thread = threading.Thread(target=lambda: result.append(run_script(task, ctx)))
    thread.start()
    deadline = time.monotonic() + 10
    while "started" not in ctx.messages() and time.monotonic() < deadline:
        time.sleep(0.01)
    child = int(pids.read_text())
    began = time.monotonic()
    ctx.cancel()
    thread.join(10)
    ctx.close()
    assert result and result[0].state is State.KILLED
    assert time.monotonic() - began < 5
    with pytest.raises(ProcessLookupError):
        for _ in range(100):  # reaped by init shortly after the kill
            os.kill(child, 0)
            time.sleep(0.02)


def test_a_background_child_does_not_keep_the_task_running(ctx: LocalTaskContext) -> None:
    began = time.monotonic()
    outcome = shell(ctx, commands=["sleep 60 &", "echo done"])
    assert outcome.state is State.SUCCESS
    assert time.monotonic() - began < 5


def test_shell_script_runs_with_the_interpreter(ctx: LocalTaskContext) -> None:
    task = ShellScript.model_validate(
        {
            "id": "s",
            "type": "shell",
            "interpreter": ["/bin/bash", "-c"],
            "script": 'words=(a b c)\necho "${#words[@]} words"\n',
        }
    )
    outcome = run_script(task, ctx)
    ctx.close()
    assert outcome.state is State.SUCCESS, ctx.logs
    assert ctx.messages() == ["3 words"]


def test_node_script_and_commands(ctx: LocalTaskContext) -> None:
    script = NodeScript.model_validate(
        {
            "id": "n",
            "type": "node",
            "script": "console.log('sum', 1 + 2);\n"
            "console.log('::' + JSON.stringify({outputs: {n: 3}}) + '::');",
        }
    )
    outcome = run_script(script, ctx)
    assert outcome.state is State.SUCCESS, ctx.logs
    assert ctx.messages() == ["sum 3"] and outcome.outputs["vars"] == {"n": 3}
    commands = NodeCommands.model_validate(
        {"id": "n2", "type": "node", "commands": ["node -e 'console.error(\"to stderr\")'"]}
    )
    outcome = run_script(commands, ctx)
    ctx.close()
    assert outcome.state is State.SUCCESS and ctx.messages("WARN") == ["to stderr"]


def test_long_lines_and_no_final_newline_are_kept(ctx: LocalTaskContext) -> None:
    shell(ctx, commands=["printf 'x%.0s' $(seq 1 100000)", "printf 'tail'"])
    assert ctx.messages() == ["x" * 100000 + "tail"]


def _upload(storage: LocalStorage, namespace: str, files: dict[str, str]) -> None:
    for path, text in files.items():
        storage.put(storage_path(namespace_file_uri(namespace, path)), io.BytesIO(text.encode()))


def test_namespace_files_are_copied_into_the_working_directory(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    _upload(storage, "company.team", {"queries/q.sql": "select 1", "notes.md": "n", "x.py": "p"})
    _upload(storage, "company", {"queries/q.sql": "select 0", "shared.txt": "s"})
    ctx = LocalTaskContext(storage=storage)
    outcome = shell(
        ctx,
        commands=["cat queries/q.sql", "ls -1 | sort | tr '\\n' ' '"],
        namespaceFiles={"enabled": True, "include": ["**.sql", "notes.md"]},
    )
    assert outcome.state is State.SUCCESS, outcome.error
    assert ctx.messages("INFO") == ["select 1notes.md queries "]  # no newline after the SQL
    # Several namespaces: the later one's file wins (OVERWRITE), or not (IGNORE), or
    # each goes to a folder of its own.
    for mode, expected in (("OVERWRITE", "select 1"), ("IGNORE", "select 0")):
        ctx = LocalTaskContext(storage=storage)
        outcome = shell(
            ctx,
            commands=["cat queries/q.sql"],
            namespaceFiles={"namespaces": ["company", "company.team"], "ifExists": mode},
        )
        assert ctx.messages("INFO") == [expected], mode
    # WARN keeps the file already copied, as IGNORE does, and says so once.
    ctx = LocalTaskContext(storage=storage)
    outcome = shell(
        ctx,
        commands=["cat queries/q.sql"],
        namespaceFiles={"namespaces": ["company", "company.team"], "ifExists": "WARN"},
    )
    assert ctx.messages("INFO") == ["select 0"]
    assert [m for m in ctx.messages("WARN") if "queries/q.sql" in m] == [
        "namespaceFiles: 'queries/q.sql' of company.team is not copied: it exists already"
    ]
    ctx = LocalTaskContext(storage=storage)
    outcome = shell(
        ctx,
        commands=["cat company/queries/q.sql company.team/queries/q.sql"],
        namespaceFiles={"namespaces": ["company", "company.team"], "folderPerNamespace": True},
    )
    assert ctx.messages("INFO") == ["select 0select 1"]
    with pytest.raises(LannerError, match="several namespaces"):
        shell(
            LocalTaskContext(storage=storage),
            commands=["true"],
            namespaceFiles={"namespaces": ["company", "company.team"], "ifExists": "FAIL"},
        )


def test_inline_input_files_win_over_namespace_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    _upload(storage, "company.team", {"q.sql": "from the namespace"})
    ctx = LocalTaskContext(storage=storage)
    outcome = shell(
        ctx,
        commands=["cat q.sql"],
        namespaceFiles={"enabled": True},
        inputFiles={"q.sql": "inline"},
    )
    assert outcome.state is State.SUCCESS
    assert ctx.messages("INFO") == ["inline"]


def test_namespace_files_of_another_namespace_are_refused(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    _upload(storage, "company.ops", {"secret.txt": "no"})
    with pytest.raises(LannerError, match=r"namespace files of company\.ops"):
        shell(
            LocalTaskContext(storage=storage),
            commands=["true"],
            namespaceFiles={"namespaces": ["company.ops"]},
        )


def test_disabled_namespace_files_copy_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    _upload(storage, "company.team", {"q.sql": "x"})
    ctx = LocalTaskContext(storage=storage)
    shell(ctx, commands=["ls | wc -l"], namespaceFiles={"enabled": False})
    assert ctx.messages("INFO") == ["0"]
