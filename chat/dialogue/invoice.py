"""Invoice requests: the title, the unified social credit code (validated), an optional e-mail."""

import re

from django.core.exceptions import ValidationError

from chat.intents import Intent
from chat.models import InvoiceRequest
from chat.records import request_invoice
from shops.validators import CREDIT_CODE_ALPHABET, is_valid_credit_code

from . import orders
from .handler import Handler, Responder, Stage
from .replies import DialogueResult, reply
from .state import PendingQuestion
from .turn import Turn

_CUE = re.compile(r"发票|开票|抬头|税号")
# A code-like token; when the bot is waiting for the code, shorter ones are read as a mistyped code.
_CODE = re.compile(r"(?<![0-9a-z])([0-9a-z]{15,24})(?![0-9a-z])")
_CODE_ATTEMPT = re.compile(r"(?<![0-9a-z])([0-9a-z]{6,24})(?![0-9a-z])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TITLE = re.compile(r"抬头(?:是|为|写|开)?[:：]?\s*([^,，;；\s]+)")
_ORGANISATION = re.compile(
    r"公司|集团|有限|研究院|研究所|事务所|中心|学校|大学|学院|医院|工作室|协会|银行|商行|门市|厂|店"
)
_QUESTION = re.compile(r"[吗么嘛呢?]|怎么|什么|能不能|可以吗|多少|多大|多长|哪|几")
# A title without an organisation word: "个人" or a person's name (two to four Chinese characters).
_PERSON = re.compile(r"个人|[\u4e00-\u9fff]{2,4}")
_STATUS_QUESTION = re.compile(r"开[了好]|开出来|进度|到了[吗没]|收到|什么时候(?:能)?开|我的发票|发票呢")
_SKIP = re.compile(r"^(?:跳过|不用|不需要|没有|不要|算了吧?|无)")

_ASK = {
    "title": "好的，为您申请开具发票～请发送发票抬头（单位全称）。",
    "tax_id": "请发送单位的统一社会信用代码（即纳税人识别号，18 位）。",
    "email": "电子发票发送到哪个邮箱呢？不需要的话回复「跳过」。",
}


_REMIND = {
    "title": "请发送发票抬头",
    "tax_id": "请发送 18 位统一社会信用代码",
    "email": "请发送接收电子发票的邮箱，或回复「跳过」",
}


def reminder(pending: PendingQuestion) -> str:
    """The short line that recalls the unfinished request while the shopper asks something else."""
    return f"（开发票还差一步：{_REMIND[pending.get('step', 'title')]}）"


def detect(turn: Turn) -> Responder | None:
    return (lambda: respond(turn)) if _CUE.search(turn.text) else None


def _code_problem(code: str) -> str:
    """Why a unified social credit code is wrong, in words a shopper can act on."""
    code = code.upper()
    if len(code) != 18:
        return f"您发送的税号 {code} 是 {len(code)} 位，统一社会信用代码应为 18 位。"
    wrong = sorted({ch for ch in code if ch not in CREDIT_CODE_ALPHABET})
    if wrong:
        return f"税号 {code} 里有信用代码不会使用的字母 {'、'.join(wrong)}（信用代码不含 I、O、Z、S、V）。"
    return f"税号 {code} 的最后一位校验码对不上，可能有字符输错了。"


def _collect(turn: Turn, form: PendingQuestion) -> str:
    """Take the title, code and e-mail the message holds into ``form``; returns a problem to tell, if any."""
    text = turn.text
    if m := _EMAIL.search(text):
        form["email"] = m.group(0)
        text = text.replace(m.group(0), " ")
    problem = ""
    if m := (_CODE_ATTEMPT if form.get("step") == "tax_id" else _CODE).search(text):
        code = m.group(1)
        if is_valid_credit_code(code):
            form["tax_id"] = code.upper()
        elif any(ch.isdigit() for ch in code):
            problem = _code_problem(code)
        text = text.replace(code, " ")
    if m := _TITLE.search(text):
        form["title"] = m.group(1)
    elif form.get("step") == "title" or not form.get("title"):
        candidate = re.sub(r"税号|信用代码|[:：,，;；]", " ", text).strip()
        takes_any = (
            form.get("step") == "title" and bool(_PERSON.fullmatch(candidate)) and not _QUESTION.search(candidate)
        )
        if candidate and (_ORGANISATION.search(candidate) or takes_any) and not _CUE.fullmatch(candidate):
            form["title"] = candidate.split()[0] if _ORGANISATION.search(candidate.split()[0]) else candidate
    return problem


def respond(turn: Turn) -> DialogueResult:
    if _STATUS_QUESTION.search(turn.text):
        return _status(turn)
    form: PendingQuestion = {"kind": "invoice"}
    number = orders.ORDER_NUMBER.search(turn.text)
    accessible = orders.accessible_orders(turn)
    order = accessible.filter(external_id__iexact=number.group(1)).first() if number else None
    if order is None and turn.state.get("order"):
        order = accessible.filter(pk=turn.state["order"]).first()
    form["order"] = order.pk if order else None
    return _advance(turn, form, _collect(turn, form))


def answer_pending(turn: Turn) -> DialogueResult | None:
    """The next part of the invoice details; None when the message answers something else."""
    form = PendingQuestion(**(turn.pending or {}))
    if form.get("step") == "email" and _SKIP.match(turn.plain):
        form["email"] = ""
        form["email_done"] = True
        return _advance(turn, form, "")
    before = _details(form)
    problem = _collect(turn, form)
    if not problem and before == _details(form):
        return None
    if form.get("email"):
        form["email_done"] = True
    return _advance(turn, form, problem)


def _details(form: PendingQuestion) -> tuple[str, str, str]:
    return form.get("title", ""), form.get("tax_id", ""), form.get("email", "")


def _advance(turn: Turn, form: PendingQuestion, problem: str) -> DialogueResult:
    if problem:
        form["step"] = "tax_id"
        turn.ask(form)
        return reply(Intent.INVOICE, f"{problem}请核对后重新发送正确的 18 位统一社会信用代码。")
    missing = "title" if not form.get("title") else "tax_id" if not form.get("tax_id") else ""
    if missing:
        form["step"] = missing
        turn.ask(form)
        return reply(Intent.INVOICE, _ASK[missing])
    if not form.get("email_done"):
        form["step"] = "email"
        turn.ask(form)
        return reply(Intent.INVOICE, _ASK["email"], ["跳过"])
    turn.clear_pending()
    order_id = form.get("order")
    order = orders.accessible_orders(turn).filter(pk=order_id).first() if order_id else None
    try:
        invoice = request_invoice(
            turn.conversation,
            turn.conversation.shop_id,
            form.get("title", ""),
            form.get("tax_id", ""),
            email=form.get("email", ""),
            order=order,
            customer=turn.conversation.customer,
        )
    except ValidationError:
        form["step"] = "title"
        form.pop("title", None)
        turn.ask(form)
        return reply(Intent.INVOICE, "发票信息有误（抬头最长 100 字），请重新发送发票抬头。")
    to = f"，开好后会发送到 {invoice.email}" if invoice.email else "，开好后会通知您"
    about = f"（订单 {order.external_id}）" if order else ""
    return reply(Intent.INVOICE, f"发票申请已提交{about}：抬头「{invoice.title}」，税号 {invoice.tax_id}{to}～")


def _status(turn: Turn) -> DialogueResult:
    """Where the shopper's latest invoice request stands: theirs as a customer, else this conversation's."""
    requests = InvoiceRequest.objects.filter(shop_id=turn.conversation.shop_id)
    if turn.conversation.customer_id:
        requests = requests.filter(customer_id=turn.conversation.customer_id)
    else:
        requests = requests.filter(conversation_id=turn.conversation.pk)
    invoice = requests.order_by("-created_at").first()
    if invoice is None:
        return reply(Intent.INVOICE, "没有查到您的发票申请哦，需要现在开发票吗？", ["开发票"])
    head = f"您的发票申请（抬头「{invoice.title}」）"
    if invoice.status == InvoiceRequest.Status.ISSUED:
        where = f"，下载地址：{invoice.invoice_url}" if invoice.invoice_url else ""
        return reply(Intent.INVOICE, f"{head}已开具{where}。")
    if invoice.status == InvoiceRequest.Status.REJECTED:
        why = f"，原因：{invoice.note}" if invoice.note else ""
        return reply(Intent.INVOICE, f"{head}未能开具{why}。可以重新申请，或转人工客服帮您处理。", ["开发票", "转人工"])
    return reply(Intent.INVOICE, f"{head}已提交，正在开具中，开好后会第一时间通知您～")


HANDLER = Handler(
    name="invoice",
    stage=Stage.TASK,
    intents=frozenset({Intent.INVOICE}),
    detect=detect,
    pending=frozenset({"invoice"}),
    answer_pending=answer_pending,
    recall=reminder,
    cancel_intent=Intent.INVOICE,
)
