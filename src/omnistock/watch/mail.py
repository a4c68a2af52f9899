"""Alerts and reports by e-mail over SMTP (the notifier's own server, else OMNISTOCK_SMTP_*)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from omnistock.config import Settings
from omnistock.watch.urlguard import check_host

TIMEOUT_S = 10.0


def compose(settings: dict[str, Any], config: Settings, subject: str, text: str, html: str | None = None,
            attachments: Sequence[tuple[str, str, bytes]] = (),
            inline: Sequence[tuple[str, bytes]] = ()) -> EmailMessage:
    """A message to the notifier's recipients; attachments are (file name, MIME type, bytes), inline images of
    the HTML body (content id, PNG), which it shows as `cid:<content id>`."""
    msg = EmailMessage()
    msg["From"] = settings.get("sender") or config.smtp_from or "omnistock@localhost"
    msg["To"] = ", ".join(settings["to"])
    msg["Subject"] = subject
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        body = msg.get_body(("html",))
        assert body is not None
        for cid, png in inline:
            body.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>")
    for name, mime, data in attachments:
        main, _, sub = mime.partition("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg


def send(settings: dict[str, Any], config: Settings, msg: EmailMessage) -> None:
    """Deliver one message; raises OSError / smtplib.SMTPException when the server does not take it."""
    host = settings.get("host") or config.smtp_host
    if not host:
        raise smtplib.SMTPException("no SMTP host: set the notifier's host or OMNISTOCK_SMTP_HOST")
    check_host(host, config.notify_allow_private, field="settings.host")
    port = int(settings.get("port") or config.smtp_port)
    with smtplib.SMTP(host, port, timeout=TIMEOUT_S) as smtp:
        if settings.get("starttls") or (not settings.get("host") and config.smtp_starttls):
            smtp.starttls()
        user = settings.get("username") or (None if settings.get("host") else config.smtp_username)
        if user:
            password = settings.get("password") or (None if settings.get("host") else config.smtp_password)
            smtp.login(user, password or "")
        smtp.send_message(msg)
