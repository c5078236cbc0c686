"""The properties of the notification tasks, as Kestra names them."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from lanner.model.common import DynamicBool, DynamicInt, Model, Text
from lanner.model.task import Task

TRANSPORT_STRATEGIES = ("SMTP", "SMTPS", "SMTP_TLS")


class MailFile(Model):
    """A file of internal storage sent with the mail (an attachment or an embedded image)."""

    name: Text = Field(min_length=1, description="The file name shown in the mail.")
    uri: Text = Field(min_length=1, description="The kestra:// URI of the file.")
    contentType: Text = Field("application/octet-stream", description="The MIME type of the file.")


class MailSend(Task):
    """Send an e-mail over SMTP, SMTPS or SMTP with STARTTLS."""

    type: str
    host: Text = Field(min_length=1, description="The SMTP server's host name.")
    port: DynamicInt = Field(description="The SMTP server's port (465 for SMTPS, 587, 25).")
    username: Text | None = Field(None, description="The user name to log in with.")
    password: Text | None = Field(
        None, description="The password to log in with (keep it in secret(); never logged)."
    )
    transportStrategy: Text = Field(
        "SMTPS",
        description="SMTPS (TLS from the start, default), SMTP_TLS (STARTTLS required) or SMTP"
        " (STARTTLS when the server offers it).",
    )
    sessionTimeout: DynamicInt = Field(
        10000, description="The time allowed for each SMTP exchange, in milliseconds."
    )
    from_: Text = Field(alias="from", min_length=1, description="The sender's address.")
    to: Text | list[Text] | None = Field(
        None, description="The recipients, separated by ';' or ','."
    )
    cc: Text | list[Text] | None = Field(None, description="Copy recipients ('; ' or ',').")
    bcc: Text | list[Text] | None = Field(
        None, description="Blind-copy recipients (';' or ','), never shown in the headers."
    )
    subject: Text | None = Field(None, description="The subject.")
    htmlTextContent: Text | None = Field(None, description="The HTML body.")
    plainTextContent: Text | None = Field(None, description="The plain-text body.")
    attachments: list[MailFile] | Text | None = Field(
        None,
        description="Files of internal storage to attach: a list of {name, uri, contentType},"
        " or an expression rendering to that list as JSON.",
    )
    embeddedImages: list[MailFile] | Text | None = Field(
        None,
        description="Images of internal storage shown inside the HTML body as"
        ' <img src="cid:NAME">: a list of {name, uri, contentType} or its JSON.',
    )
    trustedHosts: list[Text] | None = Field(
        None,
        description="Hosts whose TLS certificate is accepted without verification"
        " (e.g. a server with a self-signed certificate).",
    )
    verifyServerIdentity: DynamicBool = Field(
        True, description="Check that the server's certificate names the host (default true)."
    )

    @field_validator("transportStrategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        if "{{" in value or "{%" in value or value in TRANSPORT_STRATEGIES:
            return value
        if value == "SMTP_OAUTH2":
            raise ValueError("transportStrategy SMTP_OAUTH2 is not supported here")
        raise ValueError(f"transportStrategy must be one of {', '.join(TRANSPORT_STRATEGIES)}")


class MailExecution(MailSend):
    """Send an e-mail summing up an execution (its HTML body is the summary)."""

    executionId: Text | None = Field(
        None,
        description="The execution to summarise: default the current one; in a flow started"
        " by a Flow trigger, use '{{ trigger.executionId }}'.",
    )
    customMessage: Text | None = Field(None, description="A message added to the summary.")
    customFields: dict[str, Any] | None = Field(
        None, description="Name/value pairs added to the summary's fields."
    )

    @field_validator("htmlTextContent")
    @classmethod
    def _summary_is_the_body(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError(
                "not supported here: MailExecution's HTML body is the execution summary"
                " (use plainTextContent or customMessage)"
            )
        return value
