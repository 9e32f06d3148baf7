"""Agent assist from the shop's large model (docs/llm.md): a draft reply, a summary of the conversation for
the hand-off packet, and a tone rewrite (更礼貌, 更简洁) of the agent's own text.

Nothing here sends anything to the shopper: the draft and the rewrite go into the agent's reply box, to be
edited, and whatever the agent then sends passes the check before send like any reply. The model gets the
conversation's own messages (the last ``HISTORY`` of them) and, for a draft, the shop's top cards for the
shopper's last question; never another conversation's or shop's.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User

from core.llm import ChatMessage, Completion, Endpoint
from knowledge.services import suggest_answers
from shops import llm

from .frames import AssistFrame
from .models import Conversation, Message
from .services import ChatError, conversation_for_staff

HISTORY = 20
STREAMED = ("draft", "polite", "concise")  # written into the reply box as they come (``assist_stream`` frames)
MAX_REWRITE = 500
SPEAKERS: dict[str, str] = {Message.Sender.SHOPPER: "顾客", Message.Sender.BOT: "机器人", Message.Sender.AGENT: "客服"}
TASKS: dict[str, tuple[str, str]] = {
    # task -> (ModelUsage purpose, the instruction)
    "draft": (
        llm.Purpose.DRAFT,
        "你是「{shop}」的客服助手。根据下面的对话和店铺资料，为人工客服起草下一条回复：简体中文，亲切，"
        "不超过三句话，只用对话和资料里的事实，不做资料里没有的承诺。只输出回复本身。",
    ),
    "summary": (
        llm.Purpose.SUMMARY,
        "用不超过三句话为接手的客服总结下面这段对话：顾客要什么、已经确认或办了什么、还差什么。只输出总结。",
    ),
    "polite": (
        llm.Purpose.REWRITE,
        "把客服写的这条回复改写得更礼貌、更有温度，不改变其中的事实、数字和承诺。只输出改写后的文字。",
    ),
    "concise": (
        llm.Purpose.REWRITE,
        "把客服写的这条回复改写得更简洁，保留全部事实、数字和承诺。只输出改写后的文字。",
    ),
}


@dataclass(frozen=True)
class AssistRequest:
    conversation: Conversation
    task: str
    endpoint: Endpoint
    messages: list[ChatMessage]


def _transcript(conversation: Conversation) -> str:
    recent = list(conversation.messages.exclude(sender=Message.Sender.SYSTEM).order_by("-pk")[:HISTORY])
    return "\n".join(f"{SPEAKERS.get(m.sender, m.sender)}：{m.text}" for m in reversed(recent))


def prepare(user: User, conversation_id: Any, task: Any, text: Any) -> AssistRequest:
    """Check the request and build what the model is asked; ChatError for anything refused."""
    if task not in TASKS:
        raise ChatError("invalid_task", "task 只能是 draft、summary、polite 或 concise")
    conversation = conversation_for_staff(user, conversation_id)
    endpoint = llm.endpoint_for(conversation.shop)
    if endpoint is None:
        raise ChatError("no_model", "本店没有启用大模型，或本月额度已用完")
    instruction = TASKS[task][1].format(shop=conversation.shop.name)
    if task in ("polite", "concise"):
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_REWRITE:
            raise ChatError("invalid_text", f"请先在回复框写好要改写的内容（最多 {MAX_REWRITE} 个字）")
        return AssistRequest(conversation, task, endpoint, _ask(instruction, text.strip()))
    context = f"对话：\n{_transcript(conversation)}"
    if task == "draft":
        last = conversation.messages.filter(sender=Message.Sender.SHOPPER).order_by("-pk").first()
        cards = suggest_answers(conversation.shop, last.text, limit=3) if last is not None else []
        context += "\n店铺资料：\n" + "\n".join(f"问：{c.question} 答：{c.answer}" for c in cards)
    return AssistRequest(conversation, task, endpoint, _ask(instruction, context))


def _ask(instruction: str, content: str) -> list[ChatMessage]:
    return [{"role": "system", "content": instruction}, {"role": "user", "content": content}]


def finish(request: AssistRequest, completion: Completion) -> AssistFrame:
    """Record the call and build the console's frame: the text, or why there is none."""
    ok = completion.ok and bool(completion.text)
    outcome = llm.Outcome.SENT if ok else llm.Outcome.FAILED
    llm.record_usage(request.conversation.shop, TASKS[request.task][0], outcome, request.endpoint, completion)
    return {
        "type": "assist",
        "conversation": request.conversation.pk,
        "task": request.task,
        "text": completion.text if ok else "",
        "error": "" if ok else "大模型暂时没有回应，请稍后再试或直接回复",
    }
