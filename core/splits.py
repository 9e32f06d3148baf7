"""Stable random splits: who is in a control group, which answer a shopper sees.

A unit (a customer, a visitor) is placed by a hash of the experiment's name and the unit's key, so the same
unit lands on the same side every time, in every process, with nothing stored, and two experiments split
independently of each other. SHA-256 spreads any keys evenly: the shares hold within sampling error
(tests/test_value_splits.py checks 100,000 customers).
"""

import hashlib

# 2**64 positions: a share is a fraction of them.
_SPAN = 1 << 64


def position(experiment: str, unit: str | int) -> float:
    """Where the unit falls in [0, 1) for this experiment: the first 8 bytes of SHA-256("experiment|unit")."""
    digest = hashlib.sha256(f"{experiment}|{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SPAN


def in_share(experiment: str, unit: str | int, percent: float) -> bool:
    """Whether the unit is in the first ``percent`` % of the experiment's split (0: nobody, 100: everyone)."""
    return position(experiment, unit) * 100 < percent


def campaign_experiment(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def answer_experiment(experiment_id: int) -> str:
    return f"answer:{experiment_id}"


def bot_holdout_experiment(shop_id: int) -> str:
    return f"bot-holdout:{shop_id}"
