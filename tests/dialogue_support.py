"""A scripted shopper for the dialogue tests: says things, keeps what the bot answered."""

from chat.dialogue import DialogueResult, respond
from chat.models import Conversation


class Shopper:
    """One conversation; every message reloads it from the database, as a fresh worker would."""

    def __init__(self, shop, customer=None, token: str = "visitor-1") -> None:
        self.conversation = Conversation.objects.create(shop=shop, customer=customer, visitor_token=token)
        self.result: DialogueResult | None = None

    def says(self, text: str) -> DialogueResult:
        self.conversation = Conversation.objects.select_related("shop", "customer").get(pk=self.conversation.pk)
        self.result = respond(self.conversation, text)
        return self.result

    @property
    def state(self) -> dict:
        return Conversation.objects.get(pk=self.conversation.pk).state

    @property
    def reply(self) -> str:
        """All reply texts of the last answer, joined."""
        return "\n".join(r.text for r in self.result.replies)

    @property
    def quick_replies(self) -> list[str]:
        return [q for r in self.result.replies for q in r.quick_replies]

    @property
    def product_titles(self) -> list[str]:
        return [p["title"] for r in self.result.replies for p in r.products]
