"""Shop knowledge. Until the knowledge engine lands, every shop question falls back (and counts toward a hand-off)."""

from .replies import DialogueResult, Intent, reply
from .turn import Turn


def respond(turn: Turn) -> DialogueResult:
    if turn.pending is None:  # a task in progress keeps its question; the quick reply still offers a human
        turn.ask("offer_handoff")
    return reply(Intent.FALLBACK, "抱歉亲，这个问题小蜂暂时还答不上来。需要为您转接人工客服吗？", ["转人工客服"])
