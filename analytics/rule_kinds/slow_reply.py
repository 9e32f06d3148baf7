"""An agent answered more than N seconds after the shopper's first unanswered message."""

from django.utils.translation import gettext_lazy as _

from .base import AGENT, RuleKindSpec


def check_message(rule, facts, folded: str) -> str:
    wait = facts.wait_seconds
    if not facts.first_agent_reply and wait is not None and wait > (rule.threshold or 0):
        return f"{wait:.0f}s"
    return ""


KIND = RuleKindSpec(
    senders=AGENT,
    threshold_help=_("seconds the shopper may wait for an agent's answer"),
    check_message=check_message,
    needs_wait_time=True,
)
