"""The check before send: every outgoing bot, model and agent message passes the shop's QA rules first.

Chat does not know the rules (they are analytics'): it asks ``signals.outgoing_check`` and each receiver
answers with the breaches it found. A bot or model reply that breaks a rule is replaced by the safe
fallback; an agent's reply is held (``Held``), shown to the agent with the reasons, and sent only if
edited or, where every broken rule allows it, sent anyway (recorded on the message). docs/analytics.md.
"""

from dataclasses import dataclass
from typing import Literal, cast

from .frames import HeldFrame, HeldReason
from .signals import outgoing_check

Speaker = Literal["bot", "agent"]


@dataclass(frozen=True)
class Breach:
    rule: str  # the rule's name
    kind: str  # the kind's label, in the active language
    evidence: str  # what gave it away (a masked number for personal data)
    overridable: bool  # the rule lets an agent send anyway


@dataclass(frozen=True)
class Verdict:
    breaches: tuple[Breach, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.breaches

    @property
    def overridable(self) -> bool:
        return all(breach.overridable for breach in self.breaches)

    def reasons(self) -> list[HeldReason]:
        return [{"rule": b.rule, "kind": b.kind, "evidence": b.evidence} for b in self.breaches]

    def summary(self) -> str:
        named = "；".join(f"{b.rule}（{b.evidence}）" for b in self.breaches)
        return f"这条消息违反了质检规则：{named}"


def check(shop_id: int, speaker: Speaker, text: str) -> Verdict:
    """Every breach of the shop's before-send rules by ``text`` said by ``speaker``."""
    responses = outgoing_check.send(sender=Verdict, shop_id=shop_id, speaker=speaker, text=text)
    found: list[list[Breach]] = [cast("list[Breach]", answer) for _receiver, answer in responses]
    return Verdict(tuple(breach for breaches in found for breach in breaches))


class Held(Exception):
    """An agent's reply held by the guard; the console shows ``frame`` and the text stays in the box."""

    def __init__(self, frame: HeldFrame) -> None:
        super().__init__(frame["message"])
        self.frame = frame


def held_frame(conversation_id: int, client_msg_id: str, text: str, verdict: Verdict) -> HeldFrame:
    return {
        "type": "held",
        "conversation": conversation_id,
        "client_msg_id": client_msg_id,
        "text": text,
        "message": verdict.summary(),
        "reasons": verdict.reasons(),
        "can_send_anyway": verdict.overridable,
    }
