"""The CLI tasks run for real as local processes, with a fake tool written by the test
on PATH: the tool's settings as files and environment variables, logs, outputFiles,
exit codes, and the error naming a tool that is not on PATH."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lanner.model.states import State
from lanner.plugin import Outcome
from lanner.storage import LocalStorage
from lanner.tasks.clis.dbt import COMMAND_TASKS, run_dbt_command
from lanner.tasks.clis.model import (
    AnsibleCLI,
    AwsCLI,
    CloudQueryCLI,
    DbtCLI,
    GCloudCLI,
    TerraformCLI,
    _CliTask,
)
from lanner.tasks.clis.run import run_cli
from tests.support.task_context import LocalTaskContext

# A fake tool: prints its name, its arguments and the environment variables the
# test asks about, as one JSON line, then exits with $FAKE_EXIT (default 0).
FAKE = """#!/bin/sh
printf '{"tool": "%s", "args": "%s"}\\n' "$(basename "$0")" "$*"
for name in $FAKE_SHOW; do eval "printf '%s=%s\\n' $name \\"\\$$name\\""; done
exit "${FAKE_EXIT:-0}"
"""


@pytest.fixture
def ctx(tmp_path: Path) -> LocalTaskContext:
    return LocalTaskContext(storage=LocalStorage(tmp_path / "storage"))


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("terraform", "ansible-playbook", "dbt", "aws", "cloudquery", "gcloud"):
        path = folder / tool
        path.write_text(FAKE)
        path.chmod(0o755)
    return folder


def _path(bin_dir: Path) -> str:
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"


def run(ctx: LocalTaskContext, model: type[_CliTask], **props: Any) -> Outcome:
    task = model.model_validate({"id": "cli", "type": "cli", **props})
    try:
        return run_cli(task, ctx)
    finally:
        ctx.close()


def test_terraform_runs_the_tool_on_path_and_keeps_output_files(
    ctx: LocalTaskContext, bin_dir: Path
) -> None:
    outcome = run(
        ctx,
        TerraformCLI,
        env={"PATH": _path(bin_dir)},
        beforeCommands=["echo preparing"],
        commands=["terraform init -input=false", "terraform output -json > out.json"],
        outputFiles=["out.json"],
    )
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["exitCode"] == 0
    assert set(outcome.outputs["outputFiles"]) == {"out.json"}
    messages = ctx.messages("INFO")
    assert messages[0] == "preparing"
    assert json.loads(messages[1]) == {"tool": "terraform", "args": "init -input=false"}


def test_a_failing_tool_fails_the_task_with_its_exit_code(
    ctx: LocalTaskContext, bin_dir: Path
) -> None:
    outcome = run(
        ctx,
        CloudQueryCLI,
        env={"PATH": _path(bin_dir), "FAKE_EXIT": "3"},
        commands=["cloudquery sync spec.yml"],
    )
    assert outcome.state is State.FAILED
    assert outcome.error == "Command failed with exit code 3"
    assert outcome.outputs["exitCode"] == 3


def test_a_missing_tool_fails_with_a_message_naming_it(ctx: LocalTaskContext) -> None:
    outcome = run(ctx, TerraformCLI, env={"PATH": "/nonexistent"}, commands=["terraform init"])
    assert outcome.state is State.FAILED
    assert outcome.error_type == "ToolNotFound"
    assert outcome.error is not None
    assert outcome.error.startswith("'terraform' is not on PATH (/nonexistent)")
    assert "install Terraform" in outcome.error
    assert ctx.logs == []  # nothing ran


def test_the_tool_checked_is_the_one_the_commands_start_with(
    ctx: LocalTaskContext, bin_dir: Path
) -> None:
    outcome = run(
        ctx, AnsibleCLI, env={"PATH": _path(bin_dir)}, commands=["ansible-galaxy install x"]
    )
    assert outcome.state is State.FAILED
    assert outcome.error is not None and outcome.error.startswith("'ansible-galaxy' is not on PATH")


def test_ansible_config_is_written_and_pointed_at(ctx: LocalTaskContext, bin_dir: Path) -> None:
    outcome = run(
        ctx,
        AnsibleCLI,
        env={"PATH": _path(bin_dir), "FAKE_SHOW": "ANSIBLE_CONFIG"},
        ansibleConfig="[defaults]\nhost_key_checking = False\n",
        commands=["ansible-playbook -i inventory.ini play.yml", "cat $ANSIBLE_CONFIG"],
    )
    assert outcome.state is State.SUCCESS, outcome.error
    messages = ctx.messages("INFO")
    assert messages[1].startswith("ANSIBLE_CONFIG=") and messages[1].endswith("/ansible.cfg")
    assert messages[2:] == ["[defaults]", "host_key_checking = False"]


def test_dbt_profiles_and_project_dir(ctx: LocalTaskContext, bin_dir: Path) -> None:
    outcome = run(
        ctx,
        DbtCLI,
        env={"PATH": _path(bin_dir), "FAKE_SHOW": "DBT_PROJECT_DIR"},
        profiles="demo:\n  target: dev\n",
        projectDir="project",
        commands=["dbt build", 'cat "$DBT_PROFILES_DIR/profiles.yml"'],
    )
    assert outcome.state is State.SUCCESS, outcome.error
    messages = ctx.messages("INFO")
    assert json.loads(messages[0]) == {"tool": "dbt", "args": "build"}
    assert messages[1].endswith("/project") and messages[1].startswith("DBT_PROJECT_DIR=")
    assert messages[2:] == ["demo:", "  target: dev"]


def test_aws_credentials_region_and_endpoint_become_the_cli_environment(
    ctx: LocalTaskContext, bin_dir: Path
) -> None:
    show = "AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION AWS_ENDPOINT_URL"
    outcome = run(
        ctx,
        AwsCLI,
        env={"PATH": _path(bin_dir), "FAKE_SHOW": show},
        accessKeyId="AKIDEXAMPLE",
        secretKeyId="wJalr",
        region="eu-west-3",
        endpointOverride="http://127.0.0.1:9000",
        commands=["aws s3 ls"],
    )
    assert outcome.state is State.SUCCESS, outcome.error
    assert ctx.messages("INFO")[1:] == [
        "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY=wJalr",
        "AWS_DEFAULT_REGION=eu-west-3",
        "AWS_ENDPOINT_URL=http://127.0.0.1:9000",
    ]


def test_gcloud_service_account_and_project(ctx: LocalTaskContext, bin_dir: Path) -> None:
    key = '{"type": "service_account", "project_id": "p"}'
    outcome = run(
        ctx,
        GCloudCLI,
        env={"PATH": _path(bin_dir), "FAKE_SHOW": "CLOUDSDK_CORE_PROJECT"},
        serviceAccount=key,
        projectId="my-project",
        commands=["gcloud info", 'cat "$GOOGLE_APPLICATION_CREDENTIALS"'],
    )
    assert outcome.state is State.SUCCESS, outcome.error
    assert ctx.messages("INFO")[1:] == ["CLOUDSDK_CORE_PROJECT=my-project", key]


def test_container_image_is_ignored_with_a_warning(ctx: LocalTaskContext, bin_dir: Path) -> None:
    outcome = run(
        ctx,
        TerraformCLI,
        env={"PATH": _path(bin_dir)},
        containerImage="hashicorp/terraform:1.9",
        commands=["terraform version"],
    )
    assert outcome.state is State.SUCCESS
    assert any(
        "containerImage 'hashicorp/terraform:1.9' is ignored" in m for m in ctx.messages("WARN")
    )


def test_lanners_own_environment_does_not_reach_the_tool(
    ctx: LocalTaskContext, bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANNER_DB", "postgresql://secret@host/db")
    outcome = run(
        ctx,
        TerraformCLI,
        env={"PATH": _path(bin_dir), "FAKE_SHOW": "LANNER_DB"},
        commands=["terraform plan"],
    )
    assert outcome.state is State.SUCCESS
    assert ctx.messages("INFO")[1] == "LANNER_DB="


# A fake dbt: prints its arguments, writes target/ files in the --project-dir it is given.
FAKE_DBT = """#!/bin/sh
echo "dbt $*"
project=.
while [ $# -gt 0 ]; do
  if [ "$1" = "--project-dir" ]; then project="$2"; fi
  shift
done
mkdir -p "$project/target"
echo '{"results": []}' > "$project/target/run_results.json"
echo '{"nodes": {}}' > "$project/target/manifest.json"
"""


def dbt_bin(tmp_path: Path) -> Path:
    folder = tmp_path / "dbt-bin"
    folder.mkdir()
    (folder / "dbt").write_text(FAKE_DBT)
    (folder / "dbt").chmod(0o755)
    return folder


def test_dbt_build_runs_the_command_its_properties_make(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    task = COMMAND_TASKS["Build"].model_validate(
        {
            "id": "build",
            "type": "io.kestra.plugin.dbt.cli.Build",
            "env": {"PATH": _path(dbt_bin(tmp_path))},
            "profiles": "demo:\n  target: dev\n",
            "projectDir": "project",
            "failFast": True,
            "thread": 4,
            "target": "prod",
            "select": ["orders+", "customers"],
            "exclude": ["legacy"],
        }
    )
    outcome = run_dbt_command(task, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    [line] = ctx.messages("INFO")
    wd = line.split("--profiles-dir ")[1].split("/.profile")[0]
    assert line == (
        f"dbt --fail-fast build --profiles-dir {wd}/.profile --threads 4 --target prod"
        f" --select orders+ customers --exclude legacy --project-dir {wd}/project"
    )
    assert set(outcome.outputs["outputFiles"]) == {"run_results.json", "manifest.json"}
    with ctx.open_file(outcome.outputs["outputFiles"]["run_results.json"]) as f:
        assert f.read() == b'{"results": []}\n'
    ctx.close()


def test_dbt_deps_without_dbt_on_path_names_it(ctx: LocalTaskContext) -> None:
    task = COMMAND_TASKS["Deps"].model_validate(
        {"id": "deps", "type": "io.kestra.plugin.dbt.cli.Deps", "env": {"PATH": "/nonexistent"}}
    )
    outcome = run_dbt_command(task, ctx)
    assert outcome.state is State.FAILED
    assert outcome.error is not None and outcome.error.startswith("'dbt' is not on PATH")
    ctx.close()


def test_dbt_cli_keeps_run_results_unless_told_not_to(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    outcome = run(
        ctx,
        DbtCLI,
        env={"PATH": _path(dbt_bin(tmp_path))},
        parseRunResults=False,
        commands=["dbt build --project-dir ."],
    )
    assert outcome.state is State.SUCCESS, outcome.error
    assert set(outcome.outputs["outputFiles"]) == {"manifest.json"}
