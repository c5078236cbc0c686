"""`MailExecution`: MailSend whose HTML body is the summary of an execution
(summary.py); the subject defaults to the summary's title."""

from __future__ import annotations

from html import escape

from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.notify.mail import run_mail_send
from lanner.tasks.notify.model import MailExecution
from lanner.tasks.notify.summary import Summary, SummaryError, read_summary


def summary_html(summary: Summary) -> str:
    rows = "".join(
        f"<tr><th align='left'>{escape(n)}</th><td>{escape(v)}</td></tr>"
        for n, v in summary.fields()
    )
    parts = [f"<h2 style='color:#{summary.hex_color}'>{escape(summary.title)}</h2>"]
    if summary.custom_message:
        parts.append(f"<p>{escape(summary.custom_message)}</p>")
    parts.append(f"<table>{rows}</table>")
    if summary.link:
        link = escape(summary.link, quote=True)
        parts.append(f"<p><a href='{link}'>Open the execution</a></p>")
    return "<html><body>" + "".join(parts) + "</body></html>"


def run_mail_execution(task: MailExecution, ctx: TaskContext) -> Outcome:
    try:
        summary = read_summary(ctx, task.executionId, task.customMessage, task.customFields)
    except SummaryError as exc:
        return Outcome(State.FAILED, error=str(exc))
    # The worker's properties arrive rendered: the summary is final text.
    plain = task.plainTextContent
    mail = task.model_copy(
        update={
            "htmlTextContent": summary_html(summary),
            "plainTextContent": summary.plain_text() if plain is None else plain,
            "subject": summary.title if task.subject is None else task.subject,
        }
    )
    return run_mail_send(mail, ctx)
