"""E-mail through SMTP (aiosmtplib): settings smtp_host, smtp_port, smtp_starttls, smtp_user,
smtp_password, mail_from (server/config.py). With smtp_starttls the connection is upgraded to TLS
before anything is sent, and the server's certificate is checked (against smtp_ca_file when set).

The Message-ID comes from the notification's dedupe key (notify/messages.py message_id), so a mail
sent again after a crash, or after a server that accepted it but whose 250 never reached us, carries
the same id as the first: the receiving side and anyone counting can tell it is one message."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from server.config import Settings

from .errors import PermanentError, TemporaryError
from .messages import Mail, message_id


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.mail_from)


def build(settings: Settings, to: str, mail: Mail, dedupe: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(dedupe, settings.mail_from)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    message["Content-Language"] = "vi"
    message.set_content(mail.body, charset="utf-8")
    return message


async def send(settings: Settings, to: str, mail: Mail, dedupe: str) -> None:
    """Send one mail; raise PermanentError when the server refuses it for good (5xx), else
    TemporaryError. Error texts never carry the address (staff see them on /staff/outbox)."""
    message = build(settings, to, mail, dedupe)
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            start_tls=settings.smtp_starttls,
            username=settings.smtp_user or None,
            password=settings.smtp_password or None,
            timeout=settings.smtp_timeout_seconds,
            cert_bundle=settings.smtp_ca_file or None,
        )
    except aiosmtplib.SMTPRecipientsRefused as err:
        codes = [e.code for e in err.recipients]
        kind = PermanentError if codes and all(500 <= c < 600 for c in codes) else TemporaryError
        raise kind(f"smtp: recipient refused ({', '.join(map(str, codes))})") from None
    except aiosmtplib.SMTPResponseException as err:
        kind = PermanentError if 500 <= err.code < 600 and err.code not in (552,) else TemporaryError
        raise kind(f"smtp: {err.code} {_scrub(err.message, to)}") from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as err:
        raise TemporaryError(f"smtp: {type(err).__name__}: {_scrub(str(err), to)}") from None


def _scrub(text: str, address: str) -> str:
    return text.replace(address, "<addressee>")[:300]
