"""The properties of Kestra's CLI tasks: command runners for one tool each
(Terraform, Ansible, dbt, the AWS CLI, CloudQuery, gcloud).

Each is a script task (tasks/scripts/model.py: `beforeCommands`, `env`,
`inputFiles`, `outputFiles`, `namespaceFiles`, `containerImage`, `taskRunner`,
...) with `commands` and the tool's own settings, which Lanner turns into the
files and environment variables the tool reads (docs/tasks-cli.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from lanner.model.common import DynamicBool, Text
from lanner.model.unsupported import reject
from lanner.tasks.scripts.model import _ScriptTask


def _only_false(name: str, value: Any, reason: str) -> Any:
    if value is None or value is False or value == "false":
        return value
    return reject(name, value, reason)


class _CliTask(_ScriptTask):
    # The tool the task runs, checked on PATH before the commands run, and the other
    # commands of the same tool (a command starting with one of them needs it too).
    tool: ClassVar[str] = ""
    family: ClassVar[tuple[str, ...]] = ()
    install_hint: ClassVar[str] = ""

    commands: list[Text] = Field(min_length=1, description="The commands to run.")


class TerraformCLI(_CliTask):
    """Run Terraform commands (`terraform` must be on PATH)."""

    default_image: ClassVar[str] = "hashicorp/terraform"
    tool: ClassVar[str] = "terraform"
    install_hint: ClassVar[str] = "install Terraform (https://developer.hashicorp.com/terraform)"


class AnsibleCLI(_CliTask):
    """Run Ansible commands (`ansible-playbook`, `ansible`, ... must be on PATH)."""

    default_image: ClassVar[str] = "cytopia/ansible:latest-tools"
    tool: ClassVar[str] = "ansible-playbook"
    family: ClassVar[tuple[str, ...]] = (
        "ansible",
        "ansible-playbook",
        "ansible-galaxy",
        "ansible-inventory",
        "ansible-vault",
        "ansible-config",
    )
    install_hint: ClassVar[str] = "install Ansible (pip install ansible-core)"

    ansibleConfig: Text | None = Field(
        None,
        description="The content of an ansible.cfg written in the working directory"
        " (ANSIBLE_CONFIG points at it).",
    )
    outputLogFile: Any = None
    autoInstallPythonRequirements: Any = None
    autoInstallGalaxyRequirements: Any = None

    @field_validator("outputLogFile")
    @classmethod
    def _no_log_file(cls, value: Any) -> Any:
        return _only_false(
            "outputLogFile", value, "Ansible's output is in the task's logs, not in a file"
        )

    @field_validator("autoInstallPythonRequirements", "autoInstallGalaxyRequirements")
    @classmethod
    def _no_auto_install(cls, value: Any) -> Any:
        return _only_false(
            "autoInstall*Requirements",
            value,
            "Lanner installs nothing on its own: run pip or ansible-galaxy in beforeCommands",
        )


class DbtCLI(_CliTask):
    """Run dbt commands (`dbt` must be on PATH)."""

    default_image: ClassVar[str] = "ghcr.io/kestra-io/dbt"
    tool: ClassVar[str] = "dbt"
    install_hint: ClassVar[str] = "install dbt with its adapter (pip install dbt-duckdb, ...)"

    profiles: Text | None = Field(
        None,
        description="The content of a profiles.yml written in the working directory"
        " (DBT_PROFILES_DIR points at it).",
    )
    projectDir: Text | None = Field(
        None,
        description="The dbt project's folder, relative to the working directory"
        " (DBT_PROJECT_DIR).",
    )
    parseRunResults: DynamicBool = Field(
        True,
        description="Keep target/run_results.json as the output file run_results.json (dbt's"
        " nodes do not become task runs).",
    )
    loadManifest: Any = None
    storeManifest: Any = None

    @field_validator("loadManifest", "storeManifest")
    @classmethod
    def _no_manifest(cls, value: Any) -> Any:
        if value is None:
            return value
        return reject(
            "loadManifest/storeManifest",
            value,
            "keep target/manifest.json with outputFiles and inputFiles instead",
        )


class AwsCLI(_CliTask):
    """Run AWS CLI commands (`aws` must be on PATH)."""

    default_image: ClassVar[str] = "amazon/aws-cli"
    tool: ClassVar[str] = "aws"
    install_hint: ClassVar[str] = "install the AWS CLI (pip install awscli)"

    accessKeyId: Text | None = Field(None, description="AWS_ACCESS_KEY_ID.")
    secretKeyId: Text | None = Field(None, description="AWS_SECRET_ACCESS_KEY.")
    sessionToken: Text | None = Field(None, description="AWS_SESSION_TOKEN.")
    region: Text | None = Field(None, description="AWS_DEFAULT_REGION (and AWS_REGION).")
    endpointOverride: Text | None = Field(
        None, description="AWS_ENDPOINT_URL: an S3-compatible or local endpoint."
    )


class CloudQueryCLI(_CliTask):
    """Run CloudQuery commands (`cloudquery` must be on PATH)."""

    default_image: ClassVar[str] = "ghcr.io/cloudquery/cloudquery:latest"
    tool: ClassVar[str] = "cloudquery"
    install_hint: ClassVar[str] = "install CloudQuery (https://www.cloudquery.io/docs)"


class GCloudCLI(_CliTask):
    """Run gcloud commands (`gcloud` must be on PATH)."""

    default_image: ClassVar[str] = "google/cloud-sdk"
    tool: ClassVar[str] = "gcloud"
    family: ClassVar[tuple[str, ...]] = ("gcloud", "gsutil", "bq")
    install_hint: ClassVar[str] = "install the Google Cloud CLI"

    serviceAccount: Text | None = Field(
        None,
        description="A service account key (JSON): written to a file that"
        " GOOGLE_APPLICATION_CREDENTIALS and gcloud's credential override point at.",
    )
    projectId: Text | None = Field(None, description="The project (CLOUDSDK_CORE_PROJECT).")
