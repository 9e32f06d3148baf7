"""Rich replies on a text-only channel: product cards as lines with their link, quick replies as numbered
options. The shopper answers an option with its number; ``chosen_option`` maps it back on the next message."""

from typing import Any

from chat.models import Conversation, Message

OPTIONS_HINT = "回复数字即可选择："


def product_line(card: dict[str, Any], link: str) -> str:
    line = f"· {card.get('title', '')} ¥{card.get('price', '')}"
    return f"{line} {link}" if link else line


def product_link(template: str, card: dict[str, Any]) -> str:
    """The product's page from the connection's URL template (``{id}``, ``{sku}``), or "" without one."""
    if not template:
        return ""
    return template.replace("{id}", str(card.get("id", ""))).replace("{sku}", str(card.get("sku", "")))


def numbered(options: list[str]) -> bool:
    """Whether options get numbers: options that are numbers already (the survey's 1-5) are answered as such."""
    return bool(options) and not all(option.isdigit() for option in options)


def as_text(message: Message, product_url: str = "") -> str:
    """The message as one text: its words, then its product cards, then its quick replies numbered."""
    parts = [message.text]
    cards = message.payload.get("products") or []
    if cards:
        parts.append("\n".join(product_line(card, product_link(product_url, card)) for card in cards))
    options = [str(option) for option in message.payload.get("quick_replies") or []]
    if numbered(options):
        parts.append(OPTIONS_HINT + "\n" + "\n".join(f"{n}. {option}" for n, option in enumerate(options, 1)))
    return "\n\n".join(part for part in parts if part)


def chosen_option(conversation: Conversation, text: str) -> str:
    """The quick reply a bare number picks among the options the shop's last message offered, else ``text``."""
    answer = text.strip()
    if not answer.isdigit() or len(answer) > 2:
        return text
    last = conversation.messages.exclude(sender=Message.Sender.SHOPPER).order_by("-pk").only("payload").first()
    options = [str(option) for option in (last.payload.get("quick_replies") or [])] if last is not None else []
    if not numbered(options) or not 1 <= int(answer) <= len(options):
        return text
    return options[int(answer) - 1]
