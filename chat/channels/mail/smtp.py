"""Sending mail over SMTP (smtplib), with SSL or STARTTLS as the merchant's provider asks."""

import smtplib
from email.message import EmailMessage

from django.conf import settings

from .servers import MailServerError, Security, ServerLogin, tls_context


def _connect(login: ServerLogin) -> smtplib.SMTP:
    timeout = settings.EMAIL_CHANNEL_TIMEOUT_SECONDS
    if login.security == Security.SSL:
        return smtplib.SMTP_SSL(login.host, login.port, timeout=timeout, context=tls_context())
    client = smtplib.SMTP(login.host, login.port, timeout=timeout)
    if login.security == Security.STARTTLS:
        client.starttls(context=tls_context())
    return client


def send(login: ServerLogin, message: EmailMessage) -> None:
    """Hand one message to the merchant's SMTP server; MailServerError with the reason when it refuses."""
    try:
        with _connect(login) as client:
            if login.username:
                client.login(login.username, login.password)
            refused = client.send_message(message)
    except smtplib.SMTPAuthenticationError as error:
        raise MailServerError(f"SMTP 登录失败（请检查账号和授权码）：{error.smtp_code}") from error
    except smtplib.SMTPException as error:
        raise MailServerError(f"SMTP 发送失败：{error}"[:300]) from error
    except OSError as error:
        raise MailServerError(f"无法连接 SMTP 服务器 {login.host}:{login.port}：{error}"[:300]) from error
    if refused:
        raise MailServerError(f"SMTP 服务器拒收：{', '.join(refused)}"[:300])


def check_login(login: ServerLogin) -> None:
    """Connect and log in without sending anything (the admin's test button)."""
    try:
        with _connect(login) as client:
            if login.username:
                client.login(login.username, login.password)
            client.noop()
    except smtplib.SMTPAuthenticationError as error:
        raise MailServerError(f"SMTP 登录失败（请检查账号和授权码）：{error.smtp_code}") from error
    except (smtplib.SMTPException, OSError) as error:
        raise MailServerError(f"无法连接 SMTP 服务器 {login.host}:{login.port}：{error}"[:300]) from error
