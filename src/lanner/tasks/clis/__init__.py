"""Kestra's CLI tasks: Terraform, Ansible, dbt, the AWS CLI, CloudQuery and gcloud, run
as command runners on the Process task runner (docs/tasks-cli.md)."""

from __future__ import annotations

from typing import Any

from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.clis.model import (
    AnsibleCLI,
    AwsCLI,
    CloudQueryCLI,
    DbtCLI,
    GCloudCLI,
    TerraformCLI,
)


def run_cli(task: Any, ctx: TaskContext) -> Outcome:
    # Imported on first use: the script runner stays off every `lanner run`'s start-up.
    from lanner.tasks.clis.run import run_cli as run

    return run(task, ctx)


def run_dbt_command(task: Any, ctx: TaskContext) -> Outcome:
    from lanner.tasks.clis.dbt import run_dbt_command as run

    return run(task, ctx)


def task_types() -> list[TaskType]:
    from lanner.tasks.clis.dbt import COMMAND_TASKS

    dbt_commands = [
        TaskType(f"io.kestra.plugin.dbt.cli.{name}", model, run=run_dbt_command)
        for name, model in COMMAND_TASKS.items()
    ]
    return [
        *dbt_commands,
        TaskType("io.kestra.plugin.terraform.cli.TerraformCLI", TerraformCLI, run=run_cli),
        TaskType("io.kestra.plugin.ansible.cli.AnsibleCLI", AnsibleCLI, run=run_cli),
        TaskType("io.kestra.plugin.dbt.cli.DbtCLI", DbtCLI, run=run_cli),
        TaskType("io.kestra.plugin.aws.cli.AwsCLI", AwsCLI, run=run_cli),
        TaskType("io.kestra.plugin.cloudquery.CloudQueryCLI", CloudQueryCLI, run=run_cli),
        TaskType("io.kestra.plugin.gcp.cli.GCloudCLI", GCloudCLI, run=run_cli),
    ]
