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
from lanner.tasks.notify.executions import (
    DiscordExecution,
    GoogleChatExecution,
    SlackExecution,
    TeamsExecution,
    run_webhook_summary,
)
from lanner.tasks.notify.model import MailExecution, MailSend
from lanner.tasks.notify.sentry import (
    SentryAlert,
    SentryExecution,
    run_sentry_alert,
    run_sentry_execution,
)
from lanner.tasks.notify.telegram import (
    TelegramExecution,
    TelegramSend,
    run_telegram_execution,
    run_telegram_send,
)
from lanner.tasks.notify.zenduty import (
    ZendutyAlert,
    ZendutyExecution,
    run_zenduty_alert,
    run_zenduty_execution,
)

_NOTIFICATIONS = "io.kestra.plugin.notifications"


def run_mail_send(task: Any, ctx: TaskContext) -> Outcome:
    # Imported on first use, on a worker thread: smtplib and email stay off the
    # start-up of every `lanner run` (most flows never send mail).
    from lanner.tasks.notify.mail import run_mail_send as run

    return run(task, ctx)


def run_mail_execution(task: Any, ctx: TaskContext) -> Outcome:
    from lanner.tasks.notify.mailsummary import run_mail_execution as run

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
            aliases=("io.kestra.plugin.googleworkspace.chat.GoogleChatIncomingWebhook",),
            run=run_incoming_webhook,
        ),
        TaskType(
            f"{_NOTIFICATIONS}.zulip.ZulipIncomingWebhook",
            ZulipIncomingWebhook,
            aliases=("io.kestra.plugin.zulip.ZulipIncomingWebhook",),
            run=run_incoming_webhook,
        ),
        # The execution summaries: the current plugin's name first, the old names after.
        TaskType(
            "io.kestra.plugin.email.MailExecution",
            MailExecution,
            aliases=("io.kestra.plugin.notifications.mail.MailExecution",),
            run=run_mail_execution,
        ),
        TaskType(
            "io.kestra.plugin.slack.notifications.SlackExecution",
            SlackExecution,
            aliases=(
                f"{_NOTIFICATIONS}.slack.SlackExecution",
                "io.kestra.plugin.slack.SlackExecution",
            ),
            run=run_webhook_summary,
        ),
        TaskType(
            "io.kestra.plugin.discord.DiscordExecution",
            DiscordExecution,
            aliases=(f"{_NOTIFICATIONS}.discord.DiscordExecution",),
            run=run_webhook_summary,
        ),
        TaskType(
            "io.kestra.plugin.microsoft365.teams.TeamsExecution",
            TeamsExecution,
            aliases=(f"{_NOTIFICATIONS}.teams.TeamsExecution",),
            run=run_webhook_summary,
        ),
        TaskType(
            "io.kestra.plugin.googleworkspace.chat.GoogleChatExecution",
            GoogleChatExecution,
            aliases=(f"{_NOTIFICATIONS}.google.GoogleChatExecution",),
            run=run_webhook_summary,
        ),
        TaskType(
            "io.kestra.plugin.telegram.TelegramSend",
            TelegramSend,
            aliases=(f"{_NOTIFICATIONS}.telegram.TelegramSend",),
            run=run_telegram_send,
        ),
        TaskType(
            "io.kestra.plugin.telegram.TelegramExecution",
            TelegramExecution,
            run=run_telegram_execution,
        ),
        TaskType(
            "io.kestra.plugin.sentry.SentryAlert",
            SentryAlert,
            aliases=(f"{_NOTIFICATIONS}.sentry.SentryAlert",),
            run=run_sentry_alert,
        ),
        TaskType(
            "io.kestra.plugin.sentry.SentryExecution",
            SentryExecution,
            aliases=(f"{_NOTIFICATIONS}.sentry.SentryExecution",),
            run=run_sentry_execution,
        ),
        TaskType(
            "io.kestra.plugin.zenduty.ZendutyAlert",
            ZendutyAlert,
            aliases=(f"{_NOTIFICATIONS}.zenduty.ZendutyAlert",),
            run=run_zenduty_alert,
        ),
        TaskType(
            "io.kestra.plugin.zenduty.ZendutyExecution",
            ZendutyExecution,
            aliases=(f"{_NOTIFICATIONS}.zenduty.ZendutyExecution",),
            run=run_zenduty_execution,
        ),
    ]
