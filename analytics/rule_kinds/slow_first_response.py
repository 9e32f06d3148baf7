"""The first agent reply came more than N seconds after the hand-off, or never came before the close."""

from django.utils.translation import gettext_lazy as _

from .base import AGENT, RuleKindSpec


def check_message(rule, facts, folded: str) -> str:
    wait = facts.wait_seconds
    if facts.first_agent_reply and wait is not None and wait > (rule.threshold or 0):
        return f"{wait:.0f}s"
    return ""


def check_conversation(rule, facts) -> str:
    waited = facts.unanswered_handoff_seconds
    return f"{waited:.0f}s" if waited is not None and waited > (rule.threshold or 0) else ""


KIND = RuleKindSpec(
    senders=AGENT,
    threshold_help=_("seconds from the hand-off to the first agent reply"),
    check_message=check_message,
    check_conversation=check_conversation,
    needs_wait_time=True,
)
