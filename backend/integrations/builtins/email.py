"""``email``: send mail through an SMTP server (aiosmtplib)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
from pydantic import BaseModel, Field, field_validator

from backend.integrations.sdk import IntegrationType, Schema, ToolContext, ToolError, tool

_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def _address(value: str) -> str:
    value = value.strip()
    if not _ADDRESS.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


class EmailConfig(Schema):
    host: str = Field(description="SMTP server host name")
    port: int = Field(587, ge=1, le=65535)
    from_address: str = Field(description="Sender address")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS")
    use_tls: bool = Field(False, description="Implicit TLS (port 465)")

    @field_validator("from_address")
    @classmethod
    def _from(cls, value: str) -> str:
        return _address(value)


class EmailSecrets(Schema):
    username: str | None = None
    password: str | None = None


class SendEmailArgs(Schema):
    to: list[str] = Field(min_length=1, max_length=50, description="Recipient addresses")
    subject: str = Field(max_length=998)
    body: str = Field(max_length=200_000, description="Plain-text body")

    @field_validator("to", mode="before")
    @classmethod
    def _recipients(cls, value: object) -> object:
        items = [value] if isinstance(value, str) else value
        return [_address(str(v)) for v in items] if isinstance(items, list) else value


class SendEmailResult(BaseModel):
    message_id: str = Field(serialization_alias="messageId")
    accepted: list[str]


class EmailIntegration(IntegrationType):
    key = "email"
    name = "E-mail (SMTP)"
    description = "Send e-mail through your SMTP server."
    config_model = EmailConfig
    secrets_model = EmailSecrets

    def _client_args(self, ctx: ToolContext[EmailConfig, EmailSecrets]) -> dict[str, object]:
        return {
            "hostname": ctx.config.host,
            "port": ctx.config.port,
            "start_tls": ctx.config.starttls and not ctx.config.use_tls,
            "use_tls": ctx.config.use_tls,
            "username": ctx.secrets.username,
            "password": ctx.secrets.password,
            "timeout": ctx.timeout,
        }

    @tool
    async def send_email(
        self, ctx: ToolContext[EmailConfig, EmailSecrets], args: SendEmailArgs
    ) -> SendEmailResult:
        """Send a plain-text e-mail."""
        message = EmailMessage()
        message["From"] = ctx.config.from_address
        message["To"] = ", ".join(args.to)
        message["Subject"] = args.subject
        message["Message-ID"] = make_msgid(domain=ctx.config.from_address.rsplit("@", 1)[1])
        message["X-Agentry-Idempotency-Key"] = ctx.idempotency_key
        message.set_content(args.body)
        try:
            errors, _ = await aiosmtplib.send(message, **self._client_args(ctx))  # type: ignore[arg-type]
        except aiosmtplib.SMTPException as exc:
            raise ToolError(
                f"SMTP error: {type(exc).__name__}: {getattr(exc, 'message', '')}"[:300]
            ) from None
        except OSError as exc:
            raise ToolError(f"cannot reach the SMTP server ({type(exc).__name__})") from None
        accepted = [a for a in args.to if a not in errors]
        return SendEmailResult(message_id=str(message["Message-ID"]), accepted=accepted)

    async def test(self, ctx: ToolContext[EmailConfig, EmailSecrets]) -> str:
        args = self._client_args(ctx)
        client = aiosmtplib.SMTP(**args)  # type: ignore[arg-type]
        try:
            await client.connect()
            await client.noop()
            await client.quit()
        except aiosmtplib.SMTPException as exc:
            raise ToolError(f"SMTP error: {type(exc).__name__}") from None
        except OSError as exc:
            raise ToolError(f"cannot reach the SMTP server ({type(exc).__name__})") from None
        return "SMTP server accepted the connection" + (" and login" if ctx.secrets.username else "")
