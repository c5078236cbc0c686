"""Validation examples of the administration, state, namespace-file and templating core
task types and of the git tasks, for tests/unit/model/test_task_validation.py's tables
(kept here, beside their tests)."""

from __future__ import annotations

from typing import Any

CORE = "io.kestra.plugin.core."
URI = "kestra:///company/team/f/executions/E/tasks/t/TR/a.txt"
END = "{{ now() | dateAdd(-1, 'MONTHS') }}"
REPO = "file:///tmp/repo.git"
SSH_REPO = "ssh://git@git.example.com:2222/team/repo.git"

VALID: dict[str, list[dict[str, Any]]] = {
    CORE + "execution.Assert": [
        {"conditions": ["{{ inputs.param == 'ok' }}", "{{ 1 + 1 == 2 }}"]},
        {"conditions": ["true"], "errorMessage": "bad {{ inputs.x }}"},
    ],
    CORE + "execution.Resume": [
        {},
        {"executionId": "{{ trigger.executionId }}", "inputs": {"approved": True}},
        {"namespace": "company.team", "flowId": "waits"},
    ],
    CORE + "execution.PurgeExecutions": [
        {"endDate": END},
        {
            "endDate": END,
            "startDate": "2026-01-01T00:00:00Z",
            "namespace": "company",
            "flowId": "f",
            "states": ["SUCCESS", "FAILED"],
            "purgeLog": False,
            "purgeStorage": "{{ inputs.files }}",
            "batchSize": 10,
        },
    ],
    CORE + "log.Fetch": [
        {},
        {"executionId": "{{ execution.id }}", "level": "WARN", "tasksId": ["previous"]},
    ],
    CORE + "log.PurgeLogs": [
        {"endDate": END},
        {"endDate": END, "logLevels": ["TRACE", "DEBUG"], "namespace": "company"},
    ],
    CORE + "state.Set": [
        {"data": {"{{ inputs.store }}": "{{ outputs.download.md5 }}"}},
        {"name": "myState", "namespace": True, "taskrunValue": False, "data": {"a": 1}},
    ],
    CORE + "state.Get": [{}, {"name": "myState", "errorOnMissing": True}],
    CORE + "state.Delete": [{}, {"name": "myState", "errorOnMissing": "{{ inputs.strict }}"}],
    CORE + "trigger.Toggle": [
        {"trigger": "schedule", "enabled": True},
        {"namespace": "company.team", "flowId": "f", "trigger": "schedule"},
    ],
    CORE + "namespace.UploadFiles": [
        {"namespace": "company.team", "files": {"/scripts/main.py": URI}},
        {"namespace": "company.team", "files": ["glob:**/dbt/**", URI], "destination": "/dbt"},
        {"namespace": "{{ flow.namespace }}", "filesMap": "{{ outputs.unzip.files }}"},
        {"namespace": "company", "filesMap": {"a.txt": URI}, "conflict": "SKIP"},
    ],
    CORE + "namespace.DownloadFiles": [
        {"namespace": "company", "files": ["**input.txt"]},
        {"namespace": "company", "files": "**"},
    ],
    CORE + "namespace.DeleteFiles": [
        {"namespace": "tutorial", "files": ["**.upl"]},
        {"namespace": "tutorial", "files": "**", "deleteParentFolder": True},
    ],
    CORE + "templating.TemplatedTask": [
        {"spec": "type: io.kestra.plugin.core.log.Log\nmessage: hi"},
        {"spec": "type: {{ inputs.type }}\n{{ inputs.property }}: {{ inputs.value }}"},
    ],
    "io.kestra.plugin.git.Clone": [
        {"url": REPO},
        {"url": REPO, "branch": "main", "depth": 5, "directory": "src", "cloneSubmodules": True},
        {"url": "https://git.example.com/r.git", "username": "u", "password": "{{ secret('T') }}"},
        {"url": REPO, "commit": "98189392a2a4ea0b1a951cd9dbbfe72f0193d77b"},
        {"url": REPO, "tag": "v1", "gitConfig": {"core.autocrlf": False}, "noProxy": True},
        # Kestra's SSH example: a PEM key from a secret, with its passphrase.
        {
            "url": "git@github.com:kestra-io/examples.git",
            "privateKey": "{{ secret('GITHUB_SSH_KEY') }}",
            "passphrase": "{{ secret('GITHUB_SSH_PASSPHRASE') }}",
            "branch": "main",
        },
        {
            "url": SSH_REPO,
            "privateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH"
            " PRIVATE KEY-----\n",
        },
    ],
    "io.kestra.plugin.git.PushFlows": [
        {"url": REPO},
        {"url": SSH_REPO, "privateKey": "{{ secret('GIT_SSH_KEY') }}", "branch": "main"},
        {
            "url": REPO,
            "branch": "dev",
            "sourceNamespace": "dev",
            "targetNamespace": "prod",
            "flows": "etl_*",
            "includeChildNamespaces": True,
            "gitDirectory": "flows",
            "commitMessage": "add flows {{ now() }}",
            "dryRun": True,
            "authorName": "ci",
            "authorEmail": "ci@example.com",
        },
    ],
    "io.kestra.plugin.git.SyncFlows": [
        {"url": REPO, "targetNamespace": "prod"},
        {
            "url": REPO,
            "targetNamespace": "{{ taskrun.value }}",
            "gitDirectory": "flows",
            "includeChildNamespaces": True,
            "delete": True,
            "dryRun": "{{ inputs.dry }}",
        },
    ],
    "io.kestra.plugin.git.PushNamespaceFiles": [
        {"url": REPO},
        {"url": REPO, "namespace": "company", "files": ["**.py"], "gitDirectory": "scripts"},
    ],
    "io.kestra.plugin.git.SyncNamespaceFiles": [
        {"url": REPO},
        {"url": REPO, "namespace": "company", "delete": True, "dryRun": True, "branch": "dev"},
    ],
}

INVALID: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    CORE + "execution.Assert": [
        ({}, "conditions", "missing required"),
        ({"conditions": []}, "conditions", "at least 1"),
    ],
    CORE + "execution.Resume": [({"executionid": "x"}, "executionid", "unknown")],
    CORE + "execution.PurgeExecutions": [
        ({}, "endDate", "missing required"),
        ({"endDate": END, "flowId": "f"}, "flowId", "needs namespace"),
        ({"endDate": END, "states": ["DONE"]}, "states[0]", "SUCCESS"),
    ],
    CORE + "log.Fetch": [({"level": "LOUD"}, "level", "level must be one of")],
    CORE + "log.PurgeLogs": [
        ({}, "endDate", "missing required"),
        ({"endDate": END, "logLevels": ["LOUD"]}, "logLevels[0]", "level must be one of"),
    ],
    CORE + "state.Set": [({"data": "x"}, "data", "dictionary")],
    CORE + "state.Get": [({"errorOnMissing": "maybe"}, "errorOnMissing", "expected true, false")],
    CORE + "state.Delete": [({"nam": "x"}, "nam", "unknown")],
    CORE + "trigger.Toggle": [({"enabled": True}, "trigger", "missing required")],
    CORE + "namespace.UploadFiles": [
        ({"files": [URI]}, "namespace", "missing required"),
        ({"namespace": "n", "files": [URI], "filesMap": {"a": URI}}, "filesMap", "not both"),
        ({"namespace": "n", "files": [URI], "conflict": "MERGE"}, "conflict", "OVERWRITE"),
    ],
    CORE + "namespace.DownloadFiles": [({"namespace": "n"}, "files", "missing required")],
    CORE + "namespace.DeleteFiles": [({"files": "**"}, "namespace", "missing required")],
    CORE + "templating.TemplatedTask": [({}, "spec", "missing required")],
    "io.kestra.plugin.git.Clone": [
        ({}, "url", "missing required"),
        ({"url": REPO, "privateKey": "k"}, "privateKey", "must be a PEM or OpenSSH private key"),
        ({"url": SSH_REPO, "passphrase": "p"}, "passphrase", "give privateKey too"),
        ({"url": REPO, "connectTimeout": 5}, "connectTimeout", "not supported here"),
        ({"url": REPO, "branch": "a", "tag": "b"}, "tag", "give one of branch, tag and commit"),
    ],
    "io.kestra.plugin.git.PushFlows": [
        ({}, "url", "missing required"),
        ({"url": SSH_REPO, "privateKey": "id_rsa"}, "privateKey", "{{ secret('GIT_SSH_KEY') }}"),
        ({"url": REPO, "dryRun": "maybe"}, "dryRun", "expected true, false"),
    ],
    "io.kestra.plugin.git.SyncFlows": [
        ({"url": REPO}, "targetNamespace", "missing required"),
        (
            {"url": REPO, "targetNamespace": "p", "ignoreInvalidFlows": True},
            "ignoreInvalidFlows",
            "not supported here",
        ),
    ],
    "io.kestra.plugin.git.PushNamespaceFiles": [({}, "url", "missing required")],
    "io.kestra.plugin.git.SyncNamespaceFiles": [
        ({"url": REPO, "delete": "maybe"}, "delete", "expected true, false")
    ],
}
