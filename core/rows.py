"""The statements of the chat's hot path, written out: lookups, a locked read, a multi-row INSERT, an UPDATE.

A QuerySet builds its SQL anew on every call, and on the chat's hot path that building cost more than
running the statement; here each statement is written out once per model (and row count) and kept.
Values still go through each field's ``get_db_prep_save``, as in Django's own compiler, so every backend
gets what it expects (PostgreSQL's jsonb, SQLite's text dates). No model signals are sent, as with
``bulk_create`` and ``update()``.
"""

from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, ForeignObjectRel, Model
from django.utils import timezone

M = TypeVar("M", bound=Model)


@cache
def _readers(model: type[Model], vendor: str) -> list[tuple[Any, list[Any]]]:
    """Each concrete field's column expression and its converters (the backend's, then the field's),
    worked out once per model and database vendor: what a QuerySet, or ``raw()``, works out again on
    every call."""
    readers = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        readers.append((column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)))
    return readers


def first_row(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    """The first row of a plain SQL query, for the hot path's one-row lookups (stamps, ids)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row


def _column(field: "Field[Any, Any]") -> str:
    """A concrete field's column (the stubs allow None, which only fields without a column have)."""
    assert field.column is not None
    return field.column


def _concrete_field(field: "Field[Any, Any] | ForeignObjectRel") -> "Field[Any, Any]":
    """A field named to be written, never a reverse relation (which has no column)."""
    assert isinstance(field, Field)
    return field


@lru_cache(maxsize=64)
def _select(model: type[Model], where: str, lock: bool, vendor: str) -> str:
    """A SELECT of the model's columns, written out once per condition and database vendor."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(_column(field)) for field in model._meta.concrete_fields)
    locking = " FOR UPDATE" if lock and connection.features.has_select_for_update else ""
    return f"SELECT {columns} FROM {quote(model._meta.db_table)} WHERE {where} LIMIT 1{locking}"


def _loaded(model: type[M], sql: str, params: list[Any]) -> M | None:
    """The first row of ``sql`` as a model instance, its columns converted as the ORM converts them (JSON,
    dates on SQLite)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for (column, converters), value in zip(_readers(model, connection.vendor), row, strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        values.append(value)
    return model.from_db(connection.alias, _attnames(model), values)


def first(model: type[M], where: str, params: list[Any]) -> M | None:
    """The first row matching ``where`` (plain SQL on the model's own columns, with ORDER BY when several
    may match: ``"slug = %s"``), or None: for lookups on every new socket or conversation, where the ORM's
    query building costs more than the read."""
    return _loaded(model, _select(model, where, False, connection.vendor), params)


def locked(model: type[M], pk: int) -> M:
    """The row as stored now, locked until the transaction ends (``select_for_update().get()``)."""
    pk_column = connection.ops.quote_name(_column(model._meta.pk))
    found = _loaded(model, _select(model, f"{pk_column} = %s", True, connection.vendor), [pk])
    if found is None:
        # The plugin drops DoesNotExist from the abstract Model that bounds M; every concrete model has it.
        raise model.DoesNotExist(f"{model._meta.object_name} {pk} does not exist")  # type: ignore[attr-defined]
    return found


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@cache
def _written(model: type[Model]) -> tuple[list["Field[Any, Any]"], list["Field[Any, Any]"]]:
    """The fields an INSERT writes (every concrete one but the primary key), and those of them stamped
    with the time of the insert (``auto_now_add``, ``auto_now``)."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    stamped = [field for field in fields if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False)]
    return fields, stamped


@lru_cache(maxsize=64)  # row counts vary (a batch of notices): the common few stay
def _insert_sql(model: type[Model], count: int, vendor: str) -> str:
    """The INSERT of ``count`` rows of the model, written out once per row count and database vendor."""
    meta = model._meta
    fields, _ = _written(model)
    quote = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(fields))})"
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(_column(field)) for field in fields)}) "
        f"VALUES {', '.join([row] * count)} RETURNING {quote(_column(meta.pk))}"
    )


def insert(objects: Sequence[Model]) -> None:
    """Insert new objects of one model in one statement; sets their ids (and auto_now_add fields)."""
    if not objects:
        return
    model = type(objects[0])
    fields, stamped = _written(model)
    now = timezone.now()
    params: list[Any] = []
    for obj in objects:
        for field in stamped:
            setattr(obj, field.attname, now)
        params.extend(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, len(objects), connection.vendor), params)
        ids = [pk for (pk,) in cursor.fetchall()]
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


@cache
def _update_sql(model: type[Model], field_names: tuple[str, ...], vendor: str) -> tuple[str, list["Field[Any, Any]"]]:
    """The UPDATE of these fields of one row of the model, written out once per database vendor; the fields."""
    meta = model._meta
    fields = [_concrete_field(meta.get_field(name)) for name in field_names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(_column(field))} = %s" for field in fields)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(_column(meta.pk))} = %s", fields


def update(obj: Model, field_names: list[str]) -> None:
    """Write these fields of a saved object to its row."""
    sql, fields = _update_sql(type(obj), tuple(field_names), connection.vendor)
    params = [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, obj.pk])
