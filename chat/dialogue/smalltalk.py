"""Small talk: greetings, thanks, "你是机器人吗" and a few playful lines, kept apart from shop knowledge.

Only a message that is small talk as a whole is answered here ("你好", "哈哈哈", "谢谢啦"); a greeting
in front of a question ("你好，包邮吗") is cut off and the question goes on to the other handlers.
"""

import re

from chat.intents import Intent

from .handler import Handler, Responder, Stage
from .replies import DialogueResult, reply
from .turn import Turn

_TAIL = r"[呀啊哦噢呢啦哈嘛吖~]*"
_IDENTITY = re.compile(
    rf"(?:你是机器人|你是真人|你是ai|你是人工智能|你是人工|你是谁|你叫什么|你叫什么名字|你是人|是机器人)(?:吗|么|嘛|吧)?{_TAIL}"
)
_LINES: list[tuple[Intent, re.Pattern[str], list[str]]] = [
    (
        Intent.GREETING,
        re.compile(
            rf"(?:客服|亲|老板|店家|掌柜)?(?:你好|您好|在吗|在不在|在么|哈喽|hello|hi|嗨|有人吗|亲|亲亲|客服|小蜂){_TAIL}"
        ),
        ["您好～我是小蜂，有什么可以帮您？商品推荐、订单查询、开发票都可以找我哦"],
    ),
    (
        Intent.GREETING,
        re.compile(rf"(?:早|早上好|早安|上午好|中午好|下午好|晚上好){_TAIL}"),
        ["您好呀～新的一天也要开心！有什么可以帮您的吗？"],
    ),
    (
        Intent.SMALLTALK,
        re.compile(rf"(?:谢谢|多谢|谢了|感谢|谢谢你|好的谢谢|谢啦|thanks|thankyou|thx|3q){_TAIL}"),
        ["不客气～能帮到您小蜂很开心，还有其他问题随时找我哦"],
    ),
    (
        Intent.SMALLTALK,
        _IDENTITY,
        [
            "我是店铺的智能客服小蜂，24 小时在线，不用睡觉也不会喊累～需要真人客服的话说「转人工」就好",
            "被您发现啦，我是 AI 客服小蜂！虽然是机器人，但商品和订单的问题我都能帮您查",
        ],
    ),
    (
        Intent.SMALLTALK,
        re.compile(rf"(?:哈{{2,}}|呵{{2,}}|嘿{{2,}}|嘻{{2,}}|233+|hhh+|笑死){_TAIL}"),
        ["哈哈，看到您开心小蜂也开心～", "嘿嘿，小蜂今天也在认真营业哦～", "哈哈哈，被您逗乐了～还有什么想问的吗？"],
    ),
    (
        Intent.SMALLTALK,
        re.compile(rf"(?:你真棒|真棒|好厉害|你好聪明|真聪明|太棒了|厉害|牛|赞|给力){_TAIL}"),
        ["被夸得翅膀都要飞起来了～谢谢您！", "嘿嘿，您过奖啦，小蜂会继续努力的！"],
    ),
    (
        Intent.SMALLTALK,
        re.compile(rf"(?:好的|好|嗯|嗯嗯|ok|okay|知道了|明白了|收到|了解|行|可以){_TAIL}"),
        ["好的～还有其他问题随时找我哦"],
    ),
    (
        Intent.SMALLTALK,
        re.compile(rf"(?:再见|拜拜|拜|88|bye|byebye|晚安){_TAIL}"),
        ["再见～祝您生活愉快，有需要随时来找小蜂！"],
    ),
    (
        Intent.SMALLTALK,
        re.compile(rf"(?:好无聊|无聊|陪我聊天|陪我聊聊|讲个笑话|你会干什么|你能干什么|你会什么){_TAIL}"),
        ["小蜂会推荐商品、查订单物流、开发票、改地址，还会陪您聊两句～想先试试哪个？"],
    ),
]
_GREETING_PREFIX = re.compile(
    r"^(?:你好|您好|在吗|在不在|在么|哈喽|hello|hi|嗨|亲|亲亲|有人吗)[呀啊哦呢~]*[\s,.!?，。！？~]*"
)


def match(turn: Turn) -> DialogueResult | None:
    """The answer when the whole message is small talk, else None."""
    for intent, pattern, lines in _LINES:
        if pattern.fullmatch(turn.plain):
            used = turn.state.get("smalltalk", 0)
            turn.state["smalltalk"] = used + 1
            return reply(intent, lines[used % len(lines)])
    return None


def greet() -> DialogueResult:
    """The answer to a message with nothing to read (only punctuation or emoji)."""
    return reply(Intent.GREETING, "您好～请问有什么可以帮您？")


def detect(turn: Turn) -> Responder | None:
    result = match(turn)
    return None if result is None else lambda: result


def match_identity(turn: Turn) -> bool:
    """ "你是人工吗" asks who is answering; it is not a request for a human."""
    return bool(_IDENTITY.fullmatch(turn.plain))


def strip_greeting(text: str) -> str:
    """'你好，请问包邮吗' → '请问包邮吗' (the greeting in front of a question)."""
    return _GREETING_PREFIX.sub("", text, count=1)


HANDLER = Handler(
    name="smalltalk",
    stage=Stage.WHOLE_MESSAGE,
    intents=frozenset({Intent.GREETING, Intent.SMALLTALK}),
    detect=detect,
)
