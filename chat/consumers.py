"""WebSocket consumers: shoppers at /ws/chat/<shop-slug>/, agent consoles at /ws/agent/.

Both parse frames, call chat.services and send what comes back; the protocol is in docs/chat.md.
Bad frames get an error frame and the socket stays open. Everything that happens in a conversation
reaches its sockets as group events ("chat.messages", "chat.status", "chat.typing"), whichever process
or task caused it.
"""

import asyncio
import json
import math
import re
import weakref
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from core import limits, llm

from . import agent_tools, assignment, assist, grounding, guard, services, tasks
from .frames import (
    AckFrame,
    AssistStreamFrame,
    ClientFrame,
    ConsoleFrame,
    ErrorFrame,
    QueuePositionFrame,
    ShopperFrame,
    StreamEndFrame,
    StreamFrame,
    SuggestionsFrame,
    TypingFrame,
)
from .identity import InvalidIdentity, parse_identity
from .messaging import conversation_group, send_events, shop_agents_group
from .models import Conversation
from .services import ChatError

MAX_CLIENT_MSG_ID = 64
# Neither can be stored (PostgreSQL text refuses NUL; UTF-8 has no lone surrogates) or sent back.
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
# Close codes in the 4000 range (application): the browser script stops reconnecting on these.
CLOSE_SHOP_NOT_FOUND = 4404
CLOSE_FORBIDDEN = 4403
# A console whose user lost a shop it showed: closed at once; the page reconnects to the shops still served.
CLOSE_ACCESS_CHANGED = 4001
# Too many new sockets from one address: the standard "try again later", so the page reconnects after its back-off.
CLOSE_TRY_AGAIN_LATER = 1013
# Closed for sending nothing for CHAT_IDLE_SOCKET_SECONDS: the page reconnects once the shopper is back.
CLOSE_IDLE = 4408
RATE_LIMITED = "您发送得太快了，请稍后再试"
INVALID_IDENTITY = ("invalid_identity", "顾客身份签名无效或已过期，将以访客身份继续")


def _client_msg_id(content: ClientFrame) -> str:
    value = content.get("client_msg_id", "")
    if not isinstance(value, str | int) or isinstance(value, bool) or len(str(value)) > MAX_CLIENT_MSG_ID:
        raise ChatError("invalid_client_msg_id", f"client_msg_id 需要是不超过 {MAX_CLIENT_MSG_ID} 个字符的字符串")
    return str(value)


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number out of range: {text[:30]}")
    return number


def _refuse_constant(name: str) -> float:
    raise ValueError(f"not JSON: {name}")


def _parse_frame(raw: str | bytes) -> Any:
    """RFC 8259 JSON only: Python's parser also takes NaN and Infinity, and turns 1e400 into infinity,
    which no id, score or count can be (``int(inf)`` raises OverflowError deep in a service)."""
    return json.loads(raw, parse_float=_finite, parse_constant=_refuse_constant)


def _storable(content: Any) -> bool:
    """Whether every string in the frame, keys included, can be stored and echoed (walked without recursion:
    the frame may be nested as deep as the parser allows)."""
    pending = [content]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _text(content: ClientFrame) -> str:
    text = content.get("text")
    if text is not None and not isinstance(text, str):
        raise ChatError("invalid_text", "text 需要是字符串")
    return services.checked_text(text)


def _ack(client_msg_id: str, message_id: int) -> AckFrame:
    return {"type": "ack", "client_msg_id": client_msg_id, "id": message_id}


def _typing(event: dict[str, Any]) -> TypingFrame:
    """The ``typing`` frame of a ``chat.typing`` group event."""
    return {"type": "typing", "conversation": event["conversation"], "sender": event["sender"]}


def guarded_stream(
    shop_id: int, author: str, send_delta: Callable[[str], Awaitable[None]]
) -> Callable[[str], Awaitable[None]]:
    """What a model's stream is fed as it writes (the widget's answer, the console's draft): the text grown so
    far with its last characters and citation marks held back (``grounding.showable``), checked against the
    shop's QA rules as ``author``'s message; each newly showable piece goes to ``send_delta``, and nothing more
    once the text breaks a rule (the whole text is judged again at the end)."""
    written: list[str] = []
    shown = ""
    stopped = False

    async def on_delta(piece: str) -> None:
        nonlocal shown, stopped
        written.append(piece)
        now = grounding.showable("".join(written), final=False)
        if stopped or len(now) <= len(shown):
            return
        verdict = await database_sync_to_async(guard.check)(shop_id, author, now)
        if not verdict.ok:
            stopped = True
            return
        delta, shown = now[len(shown) :], now
        await send_delta(delta)

    return on_delta


# At most this many shopper messages share one transaction: under load each batch is handled in about this
# many times one message's time, which the first message of the batch waits on top of its own.
MAX_TURN_BATCH = 16


class TurnQueue:
    """Shopper messages of every socket of one event loop, handed to the database thread in batches
    (``services.receive_visitor_messages``). While the thread handles one batch, the messages that arrive
    gather for the next: under load one trip to the thread and one commit serve many messages, and a message
    arriving at an idle server goes at once, alone."""

    def __init__(self) -> None:
        self.waiting: list[tuple[services.VisitorMessage, asyncio.Future[services.ShopperTurn]]] = []
        self.drainer: asyncio.Task[None] | None = None

    async def receive(self, message: services.VisitorMessage) -> services.ShopperTurn:
        """The message's turn, once the batch holding it has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[services.ShopperTurn] = loop.create_future()
        self.waiting.append((message, future))
        if self.drainer is None:
            self.drainer = loop.create_task(self.drain())
        return await future

    async def drain(self) -> None:
        batch: list[tuple[services.VisitorMessage, asyncio.Future[services.ShopperTurn]]] = []
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[:MAX_TURN_BATCH], self.waiting[MAX_TURN_BATCH:]
                turns = await database_sync_to_async(services.receive_visitor_messages)([m for m, _ in batch])
                for (_, future), turn in zip(batch, turns, strict=True):
                    if future.done():  # its socket stopped waiting (closed); the message is stored all the same
                        continue
                    if isinstance(turn, Exception):
                        future.set_exception(turn)
                    else:
                        future.set_result(turn)
        except BaseException as error:
            # Not a message's failure (those come back as its turn): the thread call itself failed, or the
            # loop is shutting down. Every socket still waiting hears of it rather than waiting for ever.
            for _, future in [*batch, *self.waiting]:
                if not future.done():
                    future.set_exception(error if isinstance(error, Exception) else asyncio.CancelledError())
            self.waiting = []
            raise
        finally:
            self.drainer = None


_TURN_QUEUES: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TurnQueue]" = weakref.WeakKeyDictionary()


def turn_queue() -> TurnQueue:
    """The running event loop's queue of shopper messages (one per process under uvicorn)."""
    loop = asyncio.get_running_loop()
    queue = _TURN_QUEUES.get(loop)
    if queue is None:
        queue = _TURN_QUEUES[loop] = TurnQueue()
    return queue


class FrameConsumer(AsyncWebsocketConsumer):
    """JSON frames in and out, dispatch on ``type``, error frames for everything a client gets wrong."""

    handlers: dict[str, str] = {}

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first closes stale database connections with a trip to the process's
        # database thread, for every frame and group event. Every database call here goes through
        # database_sync_to_async, which does that in the thread itself, so that extra trip only
        # queued each frame behind the other sockets' chat turns.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        # Channels' own also ends with a trip to the database thread to close stale connections, needless here
        # for the same reason as in ``dispatch``; and these consumers leave their groups in ``disconnect``.
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def send_frame(self, frame: ShopperFrame | ConsoleFrame) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def send_error(self, code: str, message: str, refused: ClientFrame | None = None) -> None:
        """An error frame; one about a refused client frame echoes its ``client_msg_id``, if it had one."""
        frame: ErrorFrame = {"type": "error", "code": code, "message": message}
        if refused is not None and "client_msg_id" in refused:
            frame["client_msg_id"] = refused["client_msg_id"]
        await self.send_frame(frame)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.last_frame_at = asyncio.get_running_loop().time()
        raw = text_data if text_data is not None else bytes_data
        if raw is None:
            await self.send_error("invalid_json", "消息不是有效的 JSON")
            return
        if len(raw) > settings.CHAT_MAX_FRAME_SIZE:
            await self.send_error("frame_too_large", f"消息帧太大了，最多 {settings.CHAT_MAX_FRAME_SIZE} 个字符")
            return
        try:
            content = _parse_frame(raw)
        except (TypeError, ValueError, RecursionError):
            await self.send_error("invalid_json", "消息不是有效的 JSON")
            return
        if not _storable(content):
            await self.send_error("invalid_characters", "消息含有无法保存的字符")
            return
        kind = content.get("type") if isinstance(content, dict) else None
        handler: Callable[[ClientFrame], Awaitable[None]] | None = (
            getattr(self, self.handlers[kind]) if isinstance(kind, str) and kind in self.handlers else None
        )
        if handler is None:
            await self.send_error("unknown_type", f"不支持的消息类型：{str(kind)[:30]}")
            return
        try:
            await handler(content)
        except ChatError as error:
            await self.send_error(error.code, error.message, content)
        except guard.Held as held:  # an agent's reply broke a QA rule: nothing was sent
            await self.send_frame(held.frame)

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run a chat service in the database thread, then send the group events it produced."""
        outbox = services.Outbox()
        result = await database_sync_to_async(function)(*args, outbox=outbox)
        await self.publish(outbox)
        return result

    async def publish(self, outbox: services.Outbox) -> None:
        await send_events(self.channel_layer, outbox.events)

    async def chat_status(self, event: dict[str, Any]) -> None:
        await self.send_frame(event["frame"])


class ShopperConsumer(FrameConsumer):
    handlers = {
        "message": "on_message",
        "typing": "on_typing",
        "rate": "on_rate",
        "product_details": "on_product_details",
    }

    async def connect(self) -> None:
        self.visitor: services.Visitor | None = None
        self.in_queue = False  # in the shop's queue group, hearing the queue move
        self.last_position: QueuePositionFrame | None = None
        self.idle_timer: asyncio.TimerHandle | None = None
        self.idle_close: asyncio.Task[None] | None = None  # kept, so the closing task is not collected
        client = self.scope.get("client")
        self.ip = client[0] if client else "unknown"
        if not limits.hit("chat.connect.ip", self.ip):
            # Checked before anything else, the database included: a refused handshake costs next to nothing.
            await self.accept()
            await self.send_error("rate_limited", RATE_LIMITED)
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        params = {key: values[-1] for key, values in parse_qs(self.scope.get("query_string", b"").decode()).items()}
        problems: list[tuple[str, str]] = []
        since = None
        if params.get("since"):
            try:
                since = int(params["since"])
            except ValueError:
                problems.append(("invalid_since", "since 需要是消息 id"))
        try:
            identity = parse_identity(params)
        except InvalidIdentity:
            identity = None
            problems.append(INVALID_IDENTITY)
        # One trip to the database thread finds the shop, checks the identity and opens the visitor. A new
        # visitor has no conversation until their first message: a handshake stores nothing.
        self.visitor, refused = await database_sync_to_async(services.open_shopper)(
            self.scope["url_route"]["kwargs"]["slug"], params.get("visitor", "")[:64], identity
        )
        if self.visitor is None:
            # Accepted only to say why: an unknown or inactive shop is the one error that closes the socket.
            await self.accept()
            await self.send_error("shop_not_found", "店铺不存在或已停止服务")
            await self.close(code=CLOSE_SHOP_NOT_FOUND)
            return
        if refused:
            problems.append(INVALID_IDENTITY)
        # Ids of this socket's own messages: it is acked for them and never gets them echoed back.
        self.own_ids: set[int] = set()
        if self.conversation is not None:
            await self.channel_layer.group_add(conversation_group(self.conversation.pk), self.channel_name)
        await self.accept()
        self.watch_idleness()
        if self.conversation is None:
            welcome = services.welcome_frame(self.visitor, since)  # nothing to read: no trip to the database
        else:
            # Read once the socket is in the conversation's group: nothing stored meanwhile is missed.
            welcome = await database_sync_to_async(services.welcome_frame)(self.visitor, since)
        await self.send_frame(welcome)
        for code, message in problems:
            await self.send_error(code, message)
        await self.follow_queue(welcome["status"])

    @property
    def conversation(self) -> Conversation | None:
        return self.visitor.conversation if self.visitor is not None else None

    async def disconnect(self, code: int) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        if self.conversation is not None:
            await self.channel_layer.group_discard(conversation_group(self.conversation.pk), self.channel_name)
        await self.follow_queue(None)

    def watch_idleness(self) -> None:
        """Close the socket once it has sent nothing for CHAT_IDLE_SOCKET_SECONDS. One timer per socket, moved
        on only when it fires (a frame just notes its time), so frames cost no timer work."""
        loop = asyncio.get_running_loop()
        self.last_frame_at = loop.time()

        def check() -> None:
            left = self.last_frame_at + settings.CHAT_IDLE_SOCKET_SECONDS - loop.time()
            if left > 0:
                self.idle_timer = loop.call_later(left, check)
            else:
                self.idle_close = loop.create_task(self.close(code=CLOSE_IDLE))

        self.idle_timer = loop.call_later(settings.CHAT_IDLE_SOCKET_SECONDS, check)

    def check_limits(self, kind: str) -> None:
        """Refuse the frame (before anything is stored or sent on) when this socket, visitor, address or shop
        has sent too many frames of ``kind`` (core.limits: shared by every process through the cache)."""
        visitor = self.visitor
        assert visitor is not None, "frames are read only once the handshake has opened the visitor"
        checks = [
            (f"chat.{kind}.socket", self.channel_name),
            (f"chat.{kind}.visitor", visitor.visitor_token),
            (f"chat.{kind}.ip", self.ip),
            (f"chat.{kind}.shop", visitor.shop.pk),
        ]
        if not limits.hit_all(checks):
            raise ChatError("rate_limited", RATE_LIMITED)

    async def on_message(self, content: ClientFrame) -> None:
        client_msg_id = _client_msg_id(content)
        text = _text(content)
        self.check_limits("message")
        # One trip to the database thread stores the message and the bot's answer; the ack goes out
        # before the replies, which reach this socket (and every other one showing the conversation)
        # through the conversation's group.
        outbox = services.Outbox()
        before = self.conversation
        assert self.visitor is not None  # frames are read only once the handshake has opened the visitor
        turn = await turn_queue().receive(services.VisitorMessage(self.visitor, text, client_msg_id, outbox))
        message = turn.message
        conversation = self.conversation
        assert conversation is not None  # the message continued the visitor's conversation or started one
        started = before is None or message.conversation_id != before.pk
        if started:
            # The shopper's first words, or words after the old conversation closed, started a conversation.
            if before is not None:
                await self.channel_layer.group_discard(conversation_group(before.pk), self.channel_name)
            await self.channel_layer.group_add(conversation_group(conversation.pk), self.channel_name)
        self.own_ids.add(message.pk)
        await self.send_frame(_ack(client_msg_id, message.pk))
        if started and (before is not None or conversation.status != Conversation.Status.BOT):
            # The page shows "bot" until told otherwise: a conversation past the quota starts waiting.
            await self.send_frame(services.status_frame(conversation))
            await self.follow_queue(conversation.status)
        await self.publish(outbox)
        if turn.model is not None:
            await self.answer_with_model(conversation, turn.model, f"m{message.pk}")

    async def answer_with_model(self, conversation: Conversation, model: services.ModelTurn, stream_id: str) -> None:
        """Stream the model's answer to this socket as it is written (citation marks and the last characters
        held back, and nothing more once the text breaks a QA rule), then send it, or the retrieval engine's
        replies, to the conversation (every socket of it)."""

        async def send_delta(delta: str) -> None:
            frame: StreamFrame = {
                "type": "stream",
                "conversation": conversation.pk,
                "stream": stream_id,
                "delta": delta,
            }
            await self.send_frame(frame)

        on_delta = guarded_stream(conversation.shop_id, "bot", send_delta)
        completion = await llm.stream(model.endpoint, model.facts.prompt(), on_delta)
        outbox = services.Outbox()
        sent = await database_sync_to_async(services.finish_grounded_turn)(
            conversation, model, completion, outbox=outbox
        )
        end: StreamEndFrame = {
            "type": "stream_end",
            "conversation": conversation.pk,
            "stream": stream_id,
            "kept": sent is not None,
        }
        await self.send_frame(end)
        await self.publish(outbox)

    async def on_typing(self, content: ClientFrame) -> None:
        self.check_limits("typing")
        if self.conversation is None:
            return  # nobody to tell before the first message
        await self.channel_layer.group_send(
            conversation_group(self.conversation.pk),
            {
                "type": "chat.typing",
                "conversation": self.conversation.pk,
                "sender": "shopper",
                "from": self.channel_name,
            },
        )

    async def on_rate(self, content: ClientFrame) -> None:
        self.check_limits("rate")
        if self.conversation is None:
            raise services.not_found()
        await self.call(services.rate_conversation, self.conversation, content.get("score"))

    async def on_product_details(self, content: ClientFrame) -> None:
        self.check_limits("details")
        await self.call(services.show_product_details, self.visitor, content.get("product_id"))

    async def chat_messages(self, event: dict[str, Any]) -> None:
        for frame in event["frames"]:
            if frame["id"] not in self.own_ids:
                await self.send_frame(frame)

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event["from"] != self.channel_name:
            await self.send_frame(_typing(event))

    # --- queue position (chat.assignment) ---------------------------------------------------------

    async def chat_status(self, event: dict[str, Any]) -> None:
        await self.send_frame(event["frame"])
        await self.follow_queue(event["frame"]["status"])

    async def follow_queue(self, status: str | None) -> None:
        """While the conversation waits, this socket is in its shop's queue group and shows the shopper their
        position (sent at once on joining, then whenever the queue moves)."""
        group = assignment.queue_group(self.visitor.shop.pk) if self.visitor is not None else None
        waiting = status == Conversation.Status.WAITING and self.conversation is not None
        if group is None or waiting == self.in_queue:
            return
        self.in_queue = waiting
        self.last_position = None
        if not waiting:
            await self.channel_layer.group_discard(group, self.channel_name)
            return
        await self.channel_layer.group_add(group, self.channel_name)
        frame = await database_sync_to_async(assignment.current_position)(self.conversation)
        if frame is not None:
            await self.send_position(frame)

    async def send_position(self, frame: QueuePositionFrame) -> None:
        if frame != self.last_position:
            self.last_position = frame
            await self.send_frame(frame)

    async def chat_queue_order(self, event: dict[str, Any]) -> None:
        conversation = self.conversation
        if conversation is not None and conversation.pk in event["order"]:
            await self.send_position(assignment.position_frame(conversation.pk, event["order"], event["opens_at"]))


class AgentConsumer(FrameConsumer):
    handlers = {
        "ping": "on_ping",
        "queue": "on_queue",
        "history": "on_history",
        "accept": "on_accept",
        "reply": "on_reply",
        "transfer": "on_transfer",
        "close": "on_close",
        "typing": "on_typing",
        "presence": "on_presence",
        # agent tools (chat.agent_tools): canned replies and macros, the customer panel
        "canned": "on_canned",
        "macro": "on_macro",
        "panel": "on_panel",
        # the shop's large model (chat.assist): draft, summary, tone rewrite
        "assist": "on_assist",
    }

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.groups_joined: set[str] = set()
        self.registered = False
        shop_ids = await database_sync_to_async(services.serving_shop_ids)(self.user)
        if not shop_ids:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.shop_ids = shop_ids
        for group in [shop_agents_group(s) for s in shop_ids] + [services.agent_user_group(self.user.pk)]:
            await self.join(group)
        # In its groups first: the console hears of what the queues assign to the agent coming online.
        await self.call(services.register_console, self.user, self.channel_name)
        self.registered = True
        for conversation_id in await database_sync_to_async(services.assigned_conversation_ids)(self.user):
            await self.join(conversation_group(conversation_id))
        await self.accept()
        await self.send_queue()

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.registered:
            last = await database_sync_to_async(services.unregister_console)(self.channel_name)
            if last is not None:  # the agent's last console: offline after the grace period, unless back
                grace = settings.CHAT_PRESENCE_GRACE_SECONDS
                await database_sync_to_async(tasks.offline_if_gone.apply_async)((last,), countdown=grace)

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def leave(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined.discard(group)

    async def send_queue(self) -> None:
        await self.send_frame(await database_sync_to_async(services.console_state)(self.user))

    async def on_ping(self, content: ClientFrame) -> None:
        await database_sync_to_async(services.refresh_console)(self.channel_name)
        await self.send_frame({"type": "pong"})

    async def on_queue(self, content: ClientFrame) -> None:
        await self.send_queue()

    async def on_history(self, content: ClientFrame) -> None:
        detail = await database_sync_to_async(services.conversation_detail)(self.user, content.get("conversation"))
        await self.send_frame(detail)

    async def on_accept(self, content: ClientFrame) -> None:
        # The assignment event that follows joins every console of this agent to the conversation.
        await self.call(services.accept_waiting, self.user, content.get("conversation"))

    async def on_reply(self, content: ClientFrame) -> None:
        client_msg_id = _client_msg_id(content)
        send_anyway = content.get("send_anyway", False)
        if not isinstance(send_anyway, bool):
            raise ChatError("invalid_send_anyway", "send_anyway 需要是 true 或 false")
        outbox = services.Outbox()
        message = await database_sync_to_async(services.agent_reply)(
            self.user,
            content.get("conversation"),
            _text(content),
            client_msg_id,
            send_anyway=send_anyway,
            outbox=outbox,
        )
        await self.publish(outbox)
        await self.send_frame(_ack(client_msg_id, message.pk))

    async def on_transfer(self, content: ClientFrame) -> None:
        if "group" in content:
            await self.call(services.transfer_to_group, self.user, content.get("conversation"), content.get("group"))
            return
        await self.call(services.transfer_conversation, self.user, content.get("conversation"), content.get("agent"))

    async def on_presence(self, content: ClientFrame) -> None:
        if "status" not in content:  # asked, not switched
            await self.send_frame(await database_sync_to_async(assignment.presence_frame)(self.user))
            return
        await self.send_frame(await self.call(services.change_presence, self.user, content.get("status")))

    async def on_close(self, content: ClientFrame) -> None:
        await self.call(services.close_held_conversation, self.user, content.get("conversation"))

    async def on_typing(self, content: ClientFrame) -> None:
        conversation = await database_sync_to_async(services.held_conversation)(self.user, content.get("conversation"))
        await self.channel_layer.group_send(
            conversation_group(conversation.pk),
            {"type": "chat.typing", "conversation": conversation.pk, "sender": "agent", "from": self.channel_name},
        )

    # --- agent tools (chat.agent_tools) ---
    async def on_canned(self, content: ClientFrame) -> None:
        found = await database_sync_to_async(agent_tools.search_canned)(
            self.user, content.get("conversation"), content.get("query")
        )
        await self.send_frame(found)

    async def on_macro(self, content: ClientFrame) -> None:
        client_msg_id = _client_msg_id(content)
        message = await self.call(
            agent_tools.apply_macro, self.user, content.get("conversation"), content.get("canned"), client_msg_id
        )
        await self.send_frame(_ack(client_msg_id, message.pk))

    async def on_panel(self, content: ClientFrame) -> None:
        await self.send_frame(await database_sync_to_async(agent_tools.panel)(self.user, content.get("conversation")))

    async def on_assist(self, content: ClientFrame) -> None:
        request = await database_sync_to_async(assist.prepare)(
            self.user, content.get("conversation"), content.get("task"), content.get("text")
        )
        on_delta = self.assist_streamer(request) if request.task in assist.STREAMED else None
        completion = await llm.stream(request.endpoint, request.messages, on_delta)
        await self.send_frame(await database_sync_to_async(assist.finish)(request, completion))

    def assist_streamer(self, request: assist.AssistRequest) -> Callable[[str], Awaitable[None]]:
        """What streams a draft or rewrite to this console as the model writes it, as the widget's stream: the
        last characters held back, each grown text checked against the shop's QA rules as an agent's reply
        first, nothing more shown once it breaks one (the ``assist`` frame then brings the whole text)."""

        async def send_delta(delta: str) -> None:
            frame: AssistStreamFrame = {
                "type": "assist_stream",
                "conversation": request.conversation.pk,
                "task": request.task,
                "delta": delta,
            }
            await self.send_frame(frame)

        return guarded_stream(request.conversation.shop_id, "agent", send_delta)

    # --- end of agent tools ---

    async def chat_messages(self, event: dict[str, Any]) -> None:
        for frame in event["frames"]:
            await self.send_frame(frame)
            if frame["sender"] == "shopper":
                items = await database_sync_to_async(services.suggestions)(frame["conversation"], frame["text"])
                suggested: SuggestionsFrame = {
                    "type": "suggestions",
                    "conversation": frame["conversation"],
                    "message": frame["id"],
                    "items": items,
                }
                await self.send_frame(suggested)

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event["from"] != self.channel_name:
            await self.send_frame(_typing(event))

    async def chat_queue(self, event: dict[str, Any]) -> None:
        await self.send_queue()

    async def chat_access(self, event: dict[str, Any]) -> None:
        if self.shop_ids <= set(event["shops"]):
            return
        # Out of every group first: not one more message of a shop the user may no longer serve.
        for group in list(self.groups_joined):
            await self.leave(group)
        await self.close(code=CLOSE_ACCESS_CHANGED if event["shops"] else CLOSE_FORBIDDEN)

    async def chat_assigned(self, event: dict[str, Any]) -> None:
        await self.join(conversation_group(event["conversation"]))
        await self.on_history({"conversation": event["conversation"]})

    async def chat_status(self, event: dict[str, Any]) -> None:
        frame = event["frame"]
        await self.send_frame(frame)
        if frame["status"] == "closed" or frame["agent_id"] != self.user.pk:
            await self.leave(conversation_group(frame["conversation"]))
