"""The statements of every chat message, written out: a locked read, a multi-row INSERT, an UPDATE.

A QuerySet builds its SQL anew on every call, and on the chat's hot path that building cost more than
running the statement. Values still go through each field's ``get_db_prep_save``, as in Django's own
compiler, so every backend gets what it expects (PostgreSQL's jsonb, SQLite's text dates). No model
signals are sent, as with ``bulk_create`` and ``update()``.
"""

from typing import TypeVar

from django.db import connection
from django.db.models import Model
from django.utils import timezone

M = TypeVar("M", bound=Model)


def locked(model: type[M], pk: int) -> M:
    """The row as stored now, locked until the transaction ends (``select_for_update().get()``).

    Through ``raw()``, which still converts every column as the ORM does (JSON, dates on SQLite).
    """
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    table, key = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(model._meta.pk.column)
    found = next(iter(model.objects.raw(f"SELECT * FROM {table} WHERE {key} = %s{lock}", [pk])), None)
    if found is None:
        raise model.DoesNotExist(f"{model._meta.object_name} {pk} does not exist")
    return found


def insert(objects: list[Model]) -> None:
    """Insert new objects of one model in one statement; sets their ids (and auto_now_add fields)."""
    if not objects:
        return
    meta = objects[0]._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    now = timezone.now()
    params = []
    for obj in objects:
        for field in fields:
            if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
                setattr(obj, field.attname, now)
            params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    quote = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([row] * len(objects))} RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [pk for (pk,) in cursor.fetchall()]
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def update(obj: Model, field_names: list[str]) -> None:
    """Write these fields of a saved object to its row."""
    meta = obj._meta
    fields = [meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    params = [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s", [*params, obj.pk]
        )
