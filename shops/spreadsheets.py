"""Cells for spreadsheets: every CSV and Excel export goes through here.

Text that a spreadsheet would read as a formula (``=HYPERLINK(…)``, ``=cmd|…``, ``+``, ``-``, ``@``, or a
leading tab or carriage return) is prefixed with a single quote, as OWASP recommends against CSV
injection: shopper words reach FAQ cards ("create a card from unanswered questions"), and a manager who
opens the export must not run them. Numbers stay numbers.
"""

import csv
from collections.abc import Iterable
from typing import Any

import tablib

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised_row(values: Iterable[Any]) -> list[Any]:
    return [neutralised(value) for value in values]


def neutralised_dataset(dataset: tablib.Dataset) -> tablib.Dataset:
    safe = tablib.Dataset(headers=neutralised_row(dataset.headers or []), title=dataset.title)
    for row in dataset:
        safe.append(neutralised_row(row))
    return safe


class CsvWriter:
    """``csv.writer`` whose rows are neutralised."""

    def __init__(self, stream) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow(neutralised_row(values))
