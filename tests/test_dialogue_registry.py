"""The dialogue's handler registry: every intent has one handler, every pending question one reader."""

from pathlib import Path

from chat.dialogue.registry import HANDLERS, answering, owner
from chat.intents import NOT_FROM_HANDLERS, Intent

CHAT = Path(__file__).resolve().parent.parent / "chat"


def test_every_intent_is_answered_by_exactly_one_handler_or_declared_as_produced_elsewhere():
    for intent in Intent:
        handlers = [h.name for h in HANDLERS if intent in h.intents]
        if intent in NOT_FROM_HANDLERS:
            assert handlers == [], f"{intent} is declared as produced outside handlers, yet {handlers} answer it"
        else:
            assert len(handlers) == 1, f"{intent} needs exactly one handler, has {handlers}"
            assert owner(intent).name == handlers[0]


def test_each_pending_question_kind_is_read_by_one_handler_that_can_answer_it():
    kinds = [kind for h in HANDLERS for kind in h.pending]
    assert len(kinds) == len(set(kinds))
    assert {"verify_order", "new_address", "invoice", "recommend_slot", "offer_handoff"} <= set(kinds)
    for kind in kinds:
        handler = answering(kind)
        assert handler is not None and handler.answer_pending is not None
        assert (handler.recall is None) == (handler.cancel_intent is None)  # a recalled task can be cancelled


def test_handlers_are_listed_stage_by_stage_with_marketing_registered_before_recommend():
    names = [h.name for h in HANDLERS]
    assert [h.stage for h in HANDLERS] == sorted(h.stage for h in HANDLERS)
    assert names.count("marketing") == 1
    assert names.index("warranty") < names.index("orders") < names.index("marketing") < names.index("recommend")


def test_every_handler_that_asks_for_order_verification_has_a_next_step():
    # orders.resolve() asks a visitor to verify for the handlers of order status, address and warranty.
    for intent in (Intent.ORDER_STATUS, Intent.PRESALE, Intent.ADDRESS_CHANGE, Intent.WARRANTY):
        assert owner(intent).after_verification is not None


def test_chat_imports_nothing_from_marketing():
    offending = [
        str(path.relative_to(CHAT))
        for path in CHAT.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.lstrip().startswith(("import marketing", "from marketing"))
    ]
    assert offending == []
