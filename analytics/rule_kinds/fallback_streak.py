"""N bot fallbacks in a row: one finding per streak, however long it goes on."""

from django.utils.translation import gettext_lazy as _

from chat.intents import Intent

from .base import BOT, RuleKindSpec


def check_message(rule, facts, folded: str) -> str:
    # Exactly at the threshold, so a longer streak is not found again.
    streak = facts.fallback_streak
    if facts.intent == Intent.FALLBACK and streak and streak == rule.threshold:
        return f"{streak}×fallback"
    return ""


KIND = RuleKindSpec(
    senders=BOT,
    threshold_help=_("bot fallbacks in a row"),
    check_message=check_message,
    needs_fallback_streak=True,
)
