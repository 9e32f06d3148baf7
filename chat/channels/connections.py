"""A shop's channel connections: their settings and encrypted secrets, and the state the admin shows
(last message each way, last error). The admin and the tests write connections only through here."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chat.models import ChannelConnection
from core import crypto

from . import CHANNELS
from .base import ChannelError, secrets_of

# How stale ``last_inbound_at`` / ``last_outbound_at`` may be before a message moves it: the admin shows
# minutes, and a busy connection's row is then written once in a while instead of per message.
STATE_GRANULARITY = timedelta(seconds=10)


def save_connection(connection: ChannelConnection, values: dict[str, Any]) -> ChannelConnection:
    """Store the kind's declared fields from ``values``: plain ones in ``config``, secret ones encrypted.
    A secret left empty keeps the stored one; a new connection gets its kind's generated secrets."""
    spec = CHANNELS[connection.kind]
    secrets = secrets_of(connection) if connection.pk else spec.generated()
    config = dict(connection.config)
    for field in spec.fields:
        value = str(values.get(field.name) or "").strip()
        if field.secret:
            if value:
                secrets[field.name] = value
        else:
            config[field.name] = value
    connection.config = config
    connection.secrets = crypto.encrypt(secrets)
    with transaction.atomic():
        connection.save()
    return connection


def check_connection(connection: ChannelConnection) -> str:
    """The admin's "test connection": the channel's own check, its outcome kept as the connection's state."""
    check = CHANNELS[connection.kind].check
    if check is None:
        return ""
    try:
        result = check(connection)
    except ChannelError as error:
        note_error(connection, error.message)
        raise
    ChannelConnection.objects.filter(pk=connection.pk).update(last_error="", last_error_at=None)
    return result


def note_error(connection: ChannelConnection, message: str) -> None:
    ChannelConnection.objects.filter(pk=connection.pk).update(last_error=message[:300], last_error_at=timezone.now())


def _touch(connection_id: int, field: str) -> None:
    now = timezone.now()
    stale = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": now - STATE_GRANULARITY})
    ChannelConnection.objects.filter(stale, pk=connection_id).update(**{field: now})


def note_inbound(connection_id: int) -> None:
    _touch(connection_id, "last_inbound_at")


def note_outbound(connection_id: int) -> None:
    _touch(connection_id, "last_outbound_at")
