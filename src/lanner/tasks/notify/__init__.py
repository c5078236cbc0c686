"""Kestra's notification tasks: e-mail over SMTP and chat webhooks
(docs/tasks-notifications.md). Slack's webhook stays in tasks/core/slack.py."""

from __future__ import annotations

from typing import Any

from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.notify.chat import (
    DiscordIncomingWebhook,
    GoogleChatIncomingWebhook,
    TeamsIncomingWebhook,
    ZulipIncomingWebhook,
    run_incoming_webhook,
)
from lanner.tasks.notify.model import MailSend

_NOTIFICATIONS = "io.kestra.plugin.notifications"


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
        TaskType(
            f"{_NOTIFICATIONS}.discord.DiscordIncomingWebhook",
            DiscordIncomingWebhook,
            aliases=("io.kestra.plugin.discord.DiscordIncomingWebhook",),
            run=run_incoming_webhook,
        ),
        TaskType(
            f"{_NOTIFICATIONS}.teams.TeamsIncomingWebhook",
            TeamsIncomingWebhook,
            aliases=("io.kestra.plugin.microsoft365.teams.TeamsIncomingWebhook",),
            run=run_incoming_webhook,
        ),
        TaskType(
            f"{_NOTIFICATIONS}.google.GoogleChatIncomingWebhook",
            GoogleChatIncomingWebhook,
            run=run_incoming_webhook,
        ),
        TaskType(
            f"{_NOTIFICATIONS}.zulip.ZulipIncomingWebhook",
            ZulipIncomingWebhook,
            aliases=("io.kestra.plugin.zulip.ZulipIncomingWebhook",),
            run=run_incoming_webhook,
        ),
    ]
