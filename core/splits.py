"""Stable random splits: who is in a control group, which answer a shopper sees.

A unit (a customer, a visitor) is placed by a hash of the experiment's name and the unit's key, so the same
unit lands on the same side every time, in every process, with nothing stored, and two experiments split
independently of each other. SHA-256 spreads any keys evenly: the shares hold within sampling error
(tests/test_value_splits.py checks 100,000 customers).
"""

import hashlib
from typing import Any

from django.db.models import CharField, Expression, Func, Value
from django.db.models.functions import Cast, Concat, Left
from django.db.models.lookups import LessThan

# 2**64 positions: a share is a fraction of them.
_SPAN = 1 << 64


def position(experiment: str, unit: str | int) -> float:
    """Where the unit falls in [0, 1) for this experiment: the first 8 bytes of SHA-256("experiment|unit")."""
    digest = hashlib.sha256(f"{experiment}|{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SPAN


def in_share(experiment: str, unit: str | int, percent: float) -> bool:
    """Whether the unit is in the first ``percent`` % of the experiment's split (0: nobody, 100: everyone)."""
    return position(experiment, unit) * 100 < percent


def _first_position_outside(percent: float) -> int:
    """The least 64-bit position whose unit ``in_share`` leaves out (its float arithmetic, exactly: the test
    is monotonic in the position, so the units in the share are the positions below this one)."""
    low, high = 0, _SPAN
    while low < high:
        middle = (low + high) // 2
        if middle / _SPAN * 100 < percent:
            low = middle + 1
        else:
            high = middle
    return low


class _Sha256Hex(Func):
    """SHA-256 of a text as 64 lowercase hex digits: Django registers SHA256() on SQLite; PostgreSQL has
    sha256() of bytes built in (Django's own SHA256 there needs the pgcrypto extension)."""

    function = "SHA256"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        template = "ENCODE(SHA256(CONVERT_TO(%(expressions)s, 'UTF8')), 'hex')"
        return self.as_sql(compiler, connection, template=template, **extra)


def in_share_sql(experiment: str, unit: Expression, percent: float) -> LessThan:
    """``in_share`` in SQL, for a unit read from a column (``unit``, an integer expression): the same units,
    on SQLite and PostgreSQL, so a query can split its rows without sending them through Python. The first
    8 bytes of the digest, 16 hex digits, compare as text in the order of the numbers they spell."""
    digest = _Sha256Hex(Concat(Value(f"{experiment}|"), Cast(unit, CharField()), output_field=CharField()))
    outside = _first_position_outside(percent)
    # 100 %: every position is in; no 16-digit text sorts after "g".
    bound = f"{outside:016x}" if outside < _SPAN else "g"
    return LessThan(Left(digest, 16), Value(bound, output_field=CharField()))


def campaign_experiment(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def answer_experiment(experiment_id: int) -> str:
    return f"answer:{experiment_id}"


def bot_holdout_experiment(shop_id: int) -> str:
    return f"bot-holdout:{shop_id}"
