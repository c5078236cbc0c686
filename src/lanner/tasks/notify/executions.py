"""The execution summaries posted to chat webhooks: SlackExecution, DiscordExecution,
TeamsExecution and GoogleChatExecution (docs/tasks-notifications.md).

Each reads the execution `executionId` names (summary.py), lays it out in its
chat's own message format, and posts it as the incoming webhooks do
(tasks/webhook.py: kill, masked URL, idempotency key, `options`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lanner.model.common import DynamicInt, Model, Text
from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.notify.summary import (
    Summary,
    SummaryError,
    SummaryTask,
    own_payload,
    read_summary,
)
from lanner.tasks.webhook import RequestOptions, dump_json, post_webhook


class WebhookSummary(SummaryTask):
    type: str
    url: Text = Field(
        min_length=1, description="The incoming webhook URL (a secret: keep it in secret())."
    )
    options: RequestOptions | None = Field(None, description="HTTP client options.")
    payload: Text | None = Field(
        None,
        description="A JSON object: the message sent instead of the built-in summary. Any"
        " other text: the message's first text, the summary after it.",
    )


class SlackExecution(WebhookSummary):
    """Send a Slack message summing up an execution."""

    messageText: Text | None = Field(
        None, description="The message's text, shown above the summary (default: its title)."
    )
    channel: Text | None = Field(None, description="The channel to post to (Rocket.Chat, legacy).")
    username: Text | None = Field(None, description="The name the message is posted under.")
    iconUrl: Text | None = Field(None, description="The URL of the icon of the message.")
    iconEmoji: Text | None = Field(None, description="An emoji used as the icon (':ghost:').")


class DiscordEmbed(Model):
    """One more Discord embed, after the summary's."""

    title: Text | None = None
    description: Text | None = None
    websiteUrl: Text | None = None
    thumbnail: Text | None = None
    authorName: Text | None = None
    color: list[DynamicInt] | None = Field(None, description="[red, green, blue], 0 to 255.")
    footer: Text | None = None


class DiscordExecution(WebhookSummary):
    """Send a Discord message summing up an execution."""

    username: Text | None = Field(None, description="The name the message is posted under.")
    avatarUrl: Text | None = Field(None, description="The URL of the avatar of the message.")
    content: Text | None = Field(None, description="The message's text, above the summary.")
    embedList: list[DiscordEmbed] | None = Field(
        None, description="More embeds sent after the summary's."
    )


class TeamsExecution(WebhookSummary):
    """Send a Microsoft Teams message summing up an execution."""

    activityTitle: Text | None = Field(None, description="The card's activity title.")
    activitySubtitle: Text | None = Field(None, description="The card's activity subtitle.")
    themeColor: Text = Field("0076D7", description="The card's color, as RRGGBB hex.")


class GoogleChatExecution(WebhookSummary):
    """Send a Google Chat message summing up an execution."""

    text: Text | None = Field(None, description="The message's first line (default: its title).")


# --- the messages ------------------------------------------------------------------------------


def _opt(ctx: TaskContext, value: str | None) -> str | None:
    if value is None:
        return None
    text = as_text(ctx.render(value)).strip()
    return text or None


def slack_message(
    task: SlackExecution, ctx: TaskContext, summary: Summary, lead: str | None
) -> dict[str, Any]:
    text = _opt(ctx, task.messageText) or lead or summary.title
    attachment: dict[str, Any] = {
        "fallback": summary.title,
        "color": f"#{summary.hex_color}",
        "title": summary.title,
        "fields": [{"title": n, "value": v, "short": len(v) < 40} for n, v in summary.fields()],
    }
    if summary.link:
        attachment["title_link"] = summary.link
    if summary.custom_message:
        attachment["text"] = summary.custom_message
    message: dict[str, Any] = {"text": text, "attachments": [attachment]}
    for key, value in (
        ("channel", task.channel),
        ("username", task.username),
        ("icon_url", task.iconUrl),
        ("icon_emoji", task.iconEmoji),
    ):
        rendered = _opt(ctx, value)
        if rendered is not None:
            message[key] = rendered
    return message


def _rgb(ctx: TaskContext, color: list[str | int] | None) -> int | None:
    if not color:
        return None
    parts = [int(as_text(ctx.render(c))) for c in color]
    if len(parts) != 3 or not all(0 <= p <= 255 for p in parts):
        raise SummaryError("embedList color must be [red, green, blue], each 0 to 255")
    return (parts[0] << 16) | (parts[1] << 8) | parts[2]


def _embed(ctx: TaskContext, embed: DiscordEmbed) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (
        ("title", embed.title),
        ("description", embed.description),
        ("url", embed.websiteUrl),
    ):
        rendered = _opt(ctx, value)
        if rendered is not None:
            out[key] = rendered
    if (thumbnail := _opt(ctx, embed.thumbnail)) is not None:
        out["thumbnail"] = {"url": thumbnail}
    if (author := _opt(ctx, embed.authorName)) is not None:
        out["author"] = {"name": author}
    if (footer := _opt(ctx, embed.footer)) is not None:
        out["footer"] = {"text": footer}
    if (color := _rgb(ctx, embed.color)) is not None:
        out["color"] = color
    return out


def discord_message(
    task: DiscordExecution, ctx: TaskContext, summary: Summary, lead: str | None
) -> dict[str, Any]:
    r, g, b = summary.color
    embed: dict[str, Any] = {
        "title": summary.title,
        "color": (r << 16) | (g << 8) | b,
        "fields": [{"name": n, "value": v, "inline": len(v) < 40} for n, v in summary.fields()],
    }
    if summary.link:
        embed["url"] = summary.link
    if summary.custom_message:
        embed["description"] = summary.custom_message
    message: dict[str, Any] = {"embeds": [embed, *(_embed(ctx, e) for e in task.embedList or [])]}
    if lead:
        message["content"] = lead
    for key, value in (
        ("content", task.content),
        ("username", task.username),
        ("avatar_url", task.avatarUrl),
    ):
        rendered = _opt(ctx, value)
        if rendered is not None:
            message[key] = rendered
    return message


def teams_message(
    task: TeamsExecution, ctx: TaskContext, summary: Summary, lead: str | None
) -> dict[str, Any]:
    theme = as_text(ctx.render(task.themeColor)).strip().lstrip("#") or summary.hex_color
    section: dict[str, Any] = {
        "activityTitle": _opt(ctx, task.activityTitle) or summary.title,
        "facts": [{"name": n, "value": v} for n, v in summary.fields()],
        "markdown": True,
    }
    if (subtitle := _opt(ctx, task.activitySubtitle)) is not None:
        section["activitySubtitle"] = subtitle
    if summary.custom_message:
        section["text"] = summary.custom_message
    card: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "themeColor": theme,
        "summary": summary.title,
        "sections": [section],
    }
    if lead:
        card["text"] = lead
    if summary.link:
        card["potentialAction"] = [
            {
                "@type": "OpenUri",
                "name": "Open the execution",
                "targets": [{"os": "default", "uri": summary.link}],
            }
        ]
    return card


def google_chat_message(
    task: GoogleChatExecution, ctx: TaskContext, summary: Summary, lead: str | None
) -> dict[str, Any]:
    lines = [f"*{_opt(ctx, task.text) or summary.title}*"]
    if lead:
        lines.append(lead)
    if summary.custom_message:
        lines.append(summary.custom_message)
    lines += [f"{n}: {v}" for n, v in summary.fields()]
    if summary.link:
        lines.append(f"<{summary.link}|Open the execution>")
    return {"text": "\n".join(lines)}


_SERVICES: dict[type[WebhookSummary], tuple[str, Any]] = {
    SlackExecution: ("Slack", slack_message),
    DiscordExecution: ("Discord", discord_message),
    TeamsExecution: ("Teams", teams_message),
    GoogleChatExecution: ("Google Chat", google_chat_message),
}


def run_webhook_summary(task: WebhookSummary, ctx: TaskContext) -> Outcome:
    service, build = _SERVICES[type(task)]
    try:
        summary = read_summary(ctx, task.executionId, task.customMessage, task.customFields)
        own, lead = own_payload(ctx, task.payload)
        message = own if own is not None else build(task, ctx, summary, lead)
    except (SummaryError, ValueError) as exc:
        return Outcome(State.FAILED, error=str(exc))
    url = as_text(ctx.render(task.url)).strip()
    return post_webhook(service, ctx, url, dump_json(message), task.options)
