"""Hand-off to a human: asked for, or an angry shopper (a small lexicon plus intensity cues); and "yes"
to the offer of a human after a message the bot could not answer."""

import re

from chat.intents import HandoffReason, Intent

from . import smalltalk
from .handler import Handler, Responder, Stage
from .replies import BotReply, DialogueResult, reply
from .turn import Turn

_REQUEST = re.compile(
    r"转人工|人工(?!智能)|(?:找|要|换|叫|接|转|联系)(?:个|一个|一下|下)?(?:真人|活人|客服|小二|店主|掌柜)|客服电话|"
    r"不要机器人|别用机器人|不想和机器人"
)
# Words that alone mean the shopper is upset enough for a person to step in.
_STRONG = re.compile(r"投诉|差评|骗子|骗人|诈骗|12315|曝光|举报|消协|工商局|黑店|坑人")
# Words that show annoyance; with a second one or an intensity cue they mean anger.
_MILD = re.compile(
    r"垃圾|无语|太差|气死|退钱|坑爹|什么破|破店|恶心|忽悠|滚|服了|搞什么|有病|废物|离谱|生气|愤怒|烦死|烂|不靠谱|坑"
)
_INTENSITY = re.compile(r"!{2,}|\?{3,}|到底|几天了|多少次|一直|还没|再不|马上|立刻")
_YES = re.compile(r"^(?:是|是的|对|好|好的|好啊|嗯|嗯嗯|要|需要|可以|行|转吧|转|ok|yes)[的吧呀啊]*$")
_NO = re.compile(r"^(?:不用|不需要|不要|不了|算了|没事|没事了)")

# The caller (chat.services.request_handoff) then says where the shopper stands in the queue, or that
# nobody is online: these lines only say a person is being brought in, and promise no wait time.
_TEXTS = {
    HandoffReason.REQUESTED: "好的，这就为您联系人工客服～",
    HandoffReason.ANGRY: "非常抱歉给您带来了不好的体验！小蜂这就请人工客服来为您处理。",
    HandoffReason.FALLBACKS: "抱歉，小蜂没能帮上忙，这就为您联系人工客服～",
}


def is_request(text: str) -> bool:
    return bool(_REQUEST.search(text))


def is_angry(text: str) -> bool:
    if _STRONG.search(text):
        return True
    return len(_MILD.findall(text)) + (1 if _INTENSITY.search(text) else 0) >= 2


def handoff(reason: HandoffReason, intent: Intent = Intent.HANDOFF) -> DialogueResult:
    """The result that asks the caller to bring in a human, with the line the shopper sees meanwhile."""
    return DialogueResult(intent, [BotReply(_TEXTS[reason], intent=Intent.HANDOFF)], handoff=reason)


def detect(turn: Turn) -> Responder | None:
    if is_request(turn.text) and not smalltalk.match_identity(turn):
        return lambda: handoff(HandoffReason.REQUESTED)
    if is_angry(turn.text):
        return lambda: handoff(HandoffReason.ANGRY)
    return None


def answer_offer(turn: Turn) -> DialogueResult | None:
    """ "好的" to the offer of a human after a fallback; the offer lapses with any other message."""
    turn.clear_pending()
    if _YES.match(turn.plain):
        return handoff(HandoffReason.REQUESTED)
    if _NO.match(turn.plain):
        return reply(Intent.SMALLTALK, "好的～还有其他问题随时问小蜂哦")
    return None


HANDLER = Handler(
    name="handoff",
    stage=Stage.INTERRUPT,
    intents=frozenset({Intent.HANDOFF}),
    detect=detect,
    pending=frozenset({"offer_handoff"}),  # asked by faq.py after a message it could not answer
    answer_pending=answer_offer,
)
