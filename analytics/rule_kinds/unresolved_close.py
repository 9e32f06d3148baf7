"""At close: the conversation ended without the shopper's question being answered, or rated 1-2."""

from chat.intents import Intent

from .base import RuleKindSpec


def unresolved_reason(facts) -> str:
    """Why a closed conversation counts as unresolved, or "" when it was resolved."""
    if facts.handed_over and not facts.agent_replied:
        return "转人工后无客服回复"
    if facts.last_sender == "shopper":
        return "顾客最后的问题无人回答"
    if facts.last_sender == "bot" and facts.last_intent == Intent.FALLBACK:
        return "以机器人无法回答结束"
    if facts.satisfaction is not None and facts.satisfaction <= 2:
        return f"满意度 {facts.satisfaction} 分"
    return ""


def check_conversation(rule, facts) -> str:
    return unresolved_reason(facts)


KIND = RuleKindSpec(check_conversation=check_conversation)
