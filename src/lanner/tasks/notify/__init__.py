"""Kestra's notification tasks: e-mail over SMTP and chat webhooks
(docs/tasks-notifications.md). Slack's webhook stays in tasks/core/slack.py."""

from __future__ import annotations

from typing import Any

from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.notify.model import MailSend


def run_mail_send(task: Any, ctx: TaskContext) -> Outcome:
    # Imported on first use, on a worker thread: smtplib and email stay off the
    # start-up of every `lanner run` (most flows never send mail).
    from lanner.tasks.notify.mail import run_mail_send as run

    return run(task, ctx)


def task_types() -> list[TaskType]:
    return [
        TaskType(
            "io.kestra.plugin.email.MailSend",
            MailSend,
            aliases=("io.kestra.plugin.notifications.mail.MailSend",),
            run=run_mail_send,
        ),
    ]
