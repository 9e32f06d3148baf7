"""The chat widget a merchant embeds on their own site with one ``<script>`` line (docs/chat.md).

``/widget.js`` (a static file) asks ``/widget/<shop>/config`` whether the page's origin may embed the
shop's chat, then frames ``/chat/<shop>/embed/``, whose Content-Security-Policy ``frame-ancestors`` names
the shop's allowed origins only (config.csp): a site not on the list gets a refusal from the config
and a blocked frame from the browser.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

from knowledge.services import most_asked_questions
from shops.models import EmbedOrigin, Shop
from shops.validators import normalise_origin

# How many 猜你想问 buttons the chat opens with.
SUGGESTED_QUESTIONS = 4


@dataclass(frozen=True)
class Opening:
    """What the chat shows when it opens: the shop's greeting, its most asked questions, its colour."""

    greeting: str
    questions: list[str]
    colour: str


def opening(shop: Shop) -> Opening:
    return Opening(shop.widget_greeting, most_asked_questions(shop, SUGGESTED_QUESTIONS), shop.widget_colour)


def allowed_origins(shop: Shop) -> list[str]:
    return list(EmbedOrigin.objects.filter(shop=shop).order_by("origin").values_list("origin", flat=True))


def may_embed(shop: Shop, origin: str) -> bool:
    """Whether a page of ``origin`` (the browser's Origin header) may embed the shop's chat."""
    return bool(origin) and EmbedOrigin.objects.filter(shop=shop, origin=normalise_origin(origin)).exists()


def listed_shops() -> QuerySet[Shop]:
    """The active shops whose chat the front page links to."""
    return Shop.objects.filter(is_active=True, listed_on_front_page=True).order_by("name")
