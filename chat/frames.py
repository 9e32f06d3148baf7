"""The frames of the WebSocket protocols (docs/chat.md, docs/analytics.md), one TypedDict per frame ``type``.

What the shopper socket (/ws/chat/<slug>/), the agent console (/ws/agent/) and the staff alert socket
(/ws/alerts/, analytics) send is built as these types, so mypy checks every frame against its declaration.
What clients send is untrusted JSON: ``ClientFrame`` names its fields, each of unknown type until the
consumer has checked it. tests/test_frames.py keeps the declarations, the consumers and the docs in step.
"""

from typing import Literal, NotRequired, TypedDict

# --- server → shopper and console ----------------------------------------------------------------

Sender = Literal["shopper", "bot", "agent", "system"]


class AttachmentInfo(TypedDict):
    """A file a shopper sent by mail: the console links it (``url``, staff of its shop only)."""

    id: int
    name: str
    size: int
    content_type: str
    url: str


class MessageFrame(TypedDict):
    type: Literal["message"]
    id: int
    conversation: int
    sender: str
    text: str
    quick_replies: list[object]
    products: list[object]
    created_at: str
    # An order card (number, status, total, lines, carrier and tracking): a reply about one of the shopper's orders.
    order: NotRequired[dict[str, object]]
    # Only in a welcome's history, on the shopper's own messages: the page matches what it still waits on.
    client_msg_id: NotRequired[str]
    # The closing satisfaction question: a page with its own rating bar shows the text without the 1-5 replies.
    survey: NotRequired[bool]
    # A mail's attachments (email channel): those kept, and the names of those past the size limits.
    attachments: NotRequired[list[AttachmentInfo]]
    attachments_too_large: NotRequired[list[str]]
    # A large model's grounded answer (docs/llm.md): the card and product ids it cited.
    citations: NotRequired[dict[str, list[int]]]


class WelcomeFrame(TypedDict):
    type: Literal["welcome"]
    conversation: int | None  # None: a new visitor, no conversation before the first message
    visitor: str
    status: str
    agent: str
    messages: list[MessageFrame]


class AckFrame(TypedDict):
    type: Literal["ack"]
    client_msg_id: str
    id: int


class ErrorFrame(TypedDict):
    type: Literal["error"]
    code: str
    message: str
    client_msg_id: NotRequired[object]  # echoed as the refused frame carried it


class StatusFrame(TypedDict):
    type: Literal["status"]
    conversation: int
    status: str
    agent: str
    agent_id: int | None


class QueuePositionFrame(TypedDict):
    type: Literal["queue_position"]
    conversation: int
    position: int  # 1: next to be served
    waiting: int
    opens_at: str | None  # outside service hours: when agents serve again (ISO 8601)


class TypingFrame(TypedDict):
    type: Literal["typing"]
    conversation: int
    sender: Literal["shopper", "agent"]


class StreamFrame(TypedDict):
    """A piece of the shop's model's answer as it is written (docs/llm.md): shown as a draft bubble."""

    type: Literal["stream"]
    conversation: int
    stream: str  # one id per answer
    delta: str


class StreamEndFrame(TypedDict):
    """The model's answer is complete. ``kept``: it is sent (its ``message`` frame follows); otherwise the draft
    bubble goes away and the retrieval engine's reply follows instead."""

    type: Literal["stream_end"]
    conversation: int
    stream: str
    kept: bool


# --- server → console ----------------------------------------------------------------------------


class SlaTimerInfo(TypedDict):
    """The SLA clock running on a conversation (chat.sla): what is awaited and by when."""

    kind: str  # "first_response" or "next_response"
    started_at: str
    due_at: str


class QueueItem(TypedDict):
    conversation: int
    shop: int
    shop_name: str
    shopper: str
    channel: str  # Conversation.Channel: web, wecom, api...
    channel_label: str  # its name in the agent's language ("企业微信客服")
    status: str
    reason: str
    handed_over_at: str | None
    agent_id: int | None
    last_message: str
    skill_group: str  # the group a waiting conversation waits for ("": either)
    left_message: bool  # left outside service hours (留言)
    sla: SlaTimerInfo | None  # None: the shop has no SLA policy, or nobody waits on an answer


class QueueFrame(TypedDict):
    type: Literal["queue"]
    waiting: list[QueueItem]
    mine: list[QueueItem]


class Colleague(TypedDict):
    id: int
    name: str
    presence: str
    skill_group: str
    load: int
    max_chats: int


class GroupLoad(TypedDict):
    group: str
    name: str
    online: int
    load: int
    capacity: int


class LabelledValue(TypedDict):
    label: str
    value: str


class HandoffPacket(TypedDict):
    """Why the conversation reached the agents and what the bot learnt before (chat.agentops)."""

    reason: str
    reason_display: str
    intent: str
    intent_display: str
    slots: list[LabelledValue]
    unanswered: list[str]


class HistoryFrame(QueueItem):
    type: Literal["history"]
    messages: list[MessageFrame]
    colleagues: list[Colleague]
    packet: HandoffPacket
    groups: list[GroupLoad]
    model_assist: bool  # the shop's large model may be asked (chat.assist): the console shows its buttons


class CannedItem(TypedDict):
    id: int
    shortcut: str
    category: str
    text: str  # variables filled for the conversation
    personal: bool
    macro: list[str]  # what the macro does after the reply, in Chinese; empty for a plain canned reply


class CannedFrame(TypedDict):
    type: Literal["canned"]
    conversation: int
    query: str
    items: list[CannedItem]


class PanelConversation(TypedDict):
    id: int
    started_at: str
    status: str
    outcome: str
    satisfaction: int | None
    tags: list[str]


class PanelOrderLine(TypedDict):
    title: str
    options: str
    quantity: int


class PanelRefund(TypedDict):
    amount: str
    status: str
    status_display: str
    reason: str


class PanelOrder(TypedDict):
    number: str
    status: str
    status_display: str
    total: str
    created_at: str
    carrier: str
    tracking_number: str
    items: list[PanelOrderLine]
    refunds: list[PanelRefund]


class PanelCustomer(TypedDict):
    name: str
    known: bool  # a signed-in customer of the shop, or an anonymous visitor
    tags: list[str]


class PanelFrame(TypedDict):
    type: Literal["panel"]
    conversation: int
    customer: PanelCustomer
    conversations: list[PanelConversation]
    orders: list[PanelOrder]


class Suggestion(TypedDict):
    card_id: int
    question: str
    answer: str
    score: float


class SuggestionsFrame(TypedDict):
    type: Literal["suggestions"]
    conversation: int
    message: int
    items: list[Suggestion]


class HeldReason(TypedDict):
    rule: str
    kind: str
    evidence: str


class HeldFrame(TypedDict):
    """An agent's reply the check before send held (chat.guard): not sent; the reasons, and whether every
    broken rule lets the agent send it anyway (the ``reply`` frame again with ``send_anyway: true``)."""

    type: Literal["held"]
    conversation: int
    client_msg_id: str
    text: str  # the reply as the agent wrote it, back in their reply box
    message: str
    reasons: list[HeldReason]
    can_send_anyway: bool


class AssistFrame(TypedDict):
    """Agent assist from the shop's model (chat.assist): a draft reply, a summary, or the agent's text rewritten;
    ``error`` (Chinese) instead of ``text`` when the model did not answer."""

    type: Literal["assist"]
    conversation: int
    task: str  # "draft", "summary", "polite", "concise"
    text: str
    error: str


class AssistStreamFrame(TypedDict):
    """A piece of a draft or rewrite as the shop's model writes it (chat.assist), before its ``assist`` frame:
    the console shows it growing in the reply box. Pieces stop once the text breaks a QA rule (the ``assist``
    frame still brings the whole text, which the check before send judges when the agent presses 发送)."""

    type: Literal["assist_stream"]
    conversation: int
    task: str  # "draft", "polite", "concise"
    delta: str


class PongFrame(TypedDict):
    type: Literal["pong"]


class SeatLoad(TypedDict):
    shop: int
    shop_name: str
    load: int
    max_chats: int
    skill_group: str


class PresenceFrame(TypedDict):
    type: Literal["presence"]
    status: str
    seats: list[SeatLoad]


# --- server → staff alert socket (analytics) -----------------------------------------------------


class SlaBreachFrame(TypedDict):
    type: Literal["sla_breach"]
    breach: int
    shop: int
    shop_name: str
    conversation: int
    kind: str
    kind_display: str
    agent: str
    due_at: str
    text: str
    url: str
    created_at: str


class ReadyFrame(TypedDict):
    type: Literal["ready"]
    shops: list[int]


class AlertFrame(TypedDict):
    type: Literal["alert"]
    finding: int
    shop: int
    shop_name: str
    conversation: int
    message: int | None
    rule: str
    kind: str
    kind_display: str
    severity: str
    evidence: str
    text: str
    url: str
    created_at: str


ShopperFrame = (
    WelcomeFrame
    | MessageFrame
    | AckFrame
    | StatusFrame
    | QueuePositionFrame
    | TypingFrame
    | ErrorFrame
    | StreamFrame
    | StreamEndFrame
)
ConsoleFrame = (
    (QueueFrame | HistoryFrame | MessageFrame | SuggestionsFrame | AckFrame | StatusFrame | TypingFrame | PongFrame)
    | PresenceFrame
    | ErrorFrame
    | CannedFrame
    | PanelFrame
    | HeldFrame
    | AssistStreamFrame
    | AssistFrame
)
AlertSocketFrame = ReadyFrame | AlertFrame | SlaBreachFrame | PongFrame | ErrorFrame

# --- client → server -----------------------------------------------------------------------------

ShopperRequest = Literal["message", "typing", "rate", "product_details"]
ConsoleRequest = Literal[
    "ping",
    "queue",
    "history",
    "accept",
    "reply",
    "transfer",
    "close",
    "typing",
    "presence",
    "canned",
    "macro",
    "panel",
    "assist",
]
AlertRequest = Literal["ping"]


class ClientFrame(TypedDict, total=False):
    """A parsed client frame: a JSON object whose ``type`` picks the handler. Every field is as the client
    sent it (any JSON value, or missing) until the consumer checks it."""

    type: object
    text: object
    client_msg_id: object
    conversation: object
    agent: object
    score: object
    query: object
    canned: object
    group: object
    status: object
    product_id: object
    send_anyway: object
    task: object


class ProductDetailsRequest(TypedDict):
    """The shopper opened a product card: the bot answers with that product's details and keeps it in focus.
    ``product_id`` must be an on-sale product of the socket's shop (as the consumer checks it)."""

    type: Literal["product_details"]
    product_id: int
