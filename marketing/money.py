"""Amounts as shoppers read them: ¥12, ¥12.5, 满199减20."""

from decimal import Decimal


def yuan(amount: Decimal) -> str:
    """199.00 -> "199", 12.50 -> "12.5": no trailing zeros, never scientific notation."""
    text = f"{Decimal(amount).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
