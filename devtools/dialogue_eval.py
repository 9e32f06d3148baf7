"""Recommendation dialogues on catalogues the bot has never seen, checked against the catalogue, not wording.

A suite (``devtools/eval_catalogues``) is a folder of catalogues; ``splits.json`` names those that may be
tuned on (``tune``) and those only ever reported (``heldout``). Each catalogue folder holds ``shop.json``
(name, industry), ``products.json`` (items as the product API takes them), ``faq.json`` (FAQ cards as the
FAQ card API takes them) and ``dialogues.json``: scripted shoppers, each a list of turns
``{"say": "...", "expect": {...}}``.

A run creates a shop per catalogue with an API key, loads the products and cards through the REST API, and
plays every dialogue over the shopper WebSocket, as a real page would: either against a running server
(``http://`` / ``ws://``) or in this process through the ASGI application (channels' communicators). What a
turn expects is computed from the catalogue; the keys of ``expect``:

- ``products``: ``"some"`` or ``"none"``: whether the replies carry product cards.
- ``category``, ``colour``, ``size``, ``feature``, ``attr`` (``{"unit", "min", "max"}``: a length, capacity,
  wattage, weight or volume the product's data states), ``max_price``, ``min_price``: every product shown
  must meet them (a filter; see ``matches``).
- ``cheaper``: every product shown is cheaper than the cheapest of the list shown before; ``new``: none of
  them was in that list.
- ``yes_if_any``: a filter; the first reply must open with a yes ("有…") when some product on sale meets it,
  with a no ("没有…") otherwise. ``text`` in a filter: a word of the product's title or category.
- ``about``: ``"shown:N"`` (the N-th product of the last list) or ``"focus"`` (the product last talked about:
  the last one named by position, or the only one shown); then ``price`` (the reply states its price),
  ``colours`` (the reply names each of its colours), ``yes_if_about`` (``"stock"`` or a filter: yes first when
  that product is in stock / meets the filter, no first otherwise).
- ``says_none``: the first reply says what was not found ("没有…").
- ``faq``: questions of the shop's FAQ cards whose answers must be among the replies.

Every turn also needs a reply, no hand-off to a person, and every card shown must be a product on sale with
the catalogue's price. A dialogue passes when all its turns do.
"""

import asyncio
import json
import re
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from api.keys import issue_key
from api.models import Scope
from shops.models import Shop

SPLITS = ("tune", "heldout")
REPLY_TIMEOUT = 15.0
# All replies to one message reach the socket in one group event; what comes this long after the last is not theirs.
QUIET = 0.3
_UNITS = {
    "mah": r"(?:mah|毫安)",
    "w": r"(?:w(?![a-z])|瓦)",
    "m": r"(?:m(?![a-z])|米)",
    "l": r"(?:l(?![a-z])|升)",
    "ml": r"(?:ml|毫升)",
    "kg": r"(?:kg|公斤)",
    "g": r"(?:g(?![a-z])|克)",
}
_YES = ("有", "是", "可以", "能", "支持", "在售", "现货")
_NO = ("没有", "没", "不", "暂时没", "暂无", "缺货", "目前缺货", "无")


class SuiteError(ValueError):
    """A suite that cannot be read or loaded; the message names the file or the request."""


@dataclass(frozen=True)
class CatalogueSuite:
    slug: str
    name: str
    industry: str
    split: str
    products: list[dict[str, Any]]
    faq: list[dict[str, Any]]
    dialogues: list[dict[str, Any]]

    def product(self, sku: str) -> dict[str, Any] | None:
        return next((p for p in self.products if p["sku"] == sku), None)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SuiteError(f"{path}: not JSON ({error})") from None


def load_suite(root: Path) -> list[CatalogueSuite]:
    """The suite's catalogues in ``splits.json`` order."""
    splits = _read_json(root / "splits.json")
    if not isinstance(splits, dict):
        raise SuiteError(f"{root / 'splits.json'}: expected an object of splits")
    found = []
    for split in SPLITS:
        for slug in splits.get(split, []):
            directory = root / slug
            meta = _read_json(directory / "shop.json")
            products = _read_json(directory / "products.json")
            faq = _read_json(directory / "faq.json") if (directory / "faq.json").exists() else []
            dialogues = _read_json(directory / "dialogues.json")
            if not isinstance(products, list) or not isinstance(dialogues, list) or not isinstance(faq, list):
                raise SuiteError(f"{directory}: products, faq and dialogues must be JSON lists")
            for number, dialogue in enumerate(dialogues, start=1):
                turns = dialogue.get("turns") if isinstance(dialogue, dict) else None
                if not turns or not all(isinstance(t, dict) and isinstance(t.get("say"), str) for t in turns):
                    raise SuiteError(f"{directory / 'dialogues.json'}: dialogue {number} needs turns with 'say'")
            found.append(
                CatalogueSuite(slug, meta.get("name", slug), meta.get("industry", ""), split, products, faq, dialogues)
            )
    return found


# --- what the catalogue says -------------------------------------------------------------------------


def attribute_values(product: dict[str, Any], unit: str) -> list[Decimal]:
    """The amounts in ``unit`` the product's title, sizes and selling points state ("20000mAh", "1.5米")."""
    text = " ".join([product["title"], *product.get("sizes", []), product.get("selling_points", "")]).lower()
    pattern = re.compile(rf"(?<![\d.])(\d+(?:\.\d+)?)\s*{_UNITS[unit]}")
    return [Decimal(m.group(1)) for m in pattern.finditer(text)]


def matches(product: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether the product meets every condition of a filter."""
    price = Decimal(product["price"])
    words = " ".join([product["title"], product.get("selling_points", ""), *product.get("uses", [])]).lower()
    checks = {
        "category": lambda v: product["category"] == v,
        "colour": lambda v: any(v in c for c in product.get("colors", [])),
        "size": lambda v: v.lower() in (s.lower() for s in product.get("sizes", [])),
        "feature": lambda v: v.lower() in words,
        "text": lambda v: v in product["title"] or v in product["category"],
        "max_price": lambda v: price <= Decimal(str(v)),
        "min_price": lambda v: price >= Decimal(str(v)),
        "attr": lambda v: any(
            (v.get("min") is None or x >= Decimal(str(v["min"])))
            and (v.get("max") is None or x <= Decimal(str(v["max"])))
            for x in attribute_values(product, v["unit"])
        ),
    }
    return all(checks[key](value) for key, value in wanted.items() if key in checks)


def opens_with(text: str) -> str:
    """ "yes", "no" or "" for how a reply opens."""
    text = text.strip().lstrip("亲，,～~ ")
    if text.startswith(_NO):
        return "no"
    if text.startswith(_YES):
        return "yes"
    return ""


# --- one dialogue --------------------------------------------------------------------------------------


@dataclass
class Seen:
    """What the shopper has seen so far: the last list of products and the product in focus."""

    shown: list[str] = field(default_factory=list)
    focus: str | None = None


@dataclass
class TurnReply:
    texts: list[str]
    skus: list[str]
    cards: list[dict[str, Any]]
    handed_over: bool
    error: str = ""


def check_turn(suite: CatalogueSuite, expect: dict[str, Any], reply: TurnReply, seen: Seen) -> list[str]:
    """What is wrong with the reply to one turn (nothing: it passes). Moves ``seen`` on."""
    problems: list[str] = []
    if reply.error:
        return [reply.error]
    if not reply.texts:
        return ["no reply"]
    if reply.handed_over:
        problems.append("handed over to a person")
    on_sale = [p for p in suite.products if p.get("on_sale", True)]
    shown = []
    for card in reply.cards:
        product = suite.product(card["sku"])
        if product is None or not product.get("on_sale", True):
            problems.append(f"showed {card['sku']}, not a product on sale")
        elif Decimal(card["price"]) != Decimal(product["price"]):
            problems.append(f"showed {card['sku']} at ¥{card['price']}, its price is ¥{product['price']}")
        else:
            shown.append(product)
    about = None
    if "about" in expect:
        ref = expect["about"]
        sku = seen.focus if ref == "focus" else None
        if ref.startswith("shown:"):
            n = int(ref.split(":", 1)[1])
            sku = seen.shown[n - 1] if 0 < n <= len(seen.shown) else None
        about = suite.product(sku) if sku else None
        if about is None:
            problems.append(f"nothing to ask {ref!r} about (the bot showed {len(seen.shown)} products)")
    if expect.get("products") == "some" and not shown:
        problems.append("no product shown")
    if expect.get("products") == "none" and reply.cards:
        problems.append(f"showed {len(reply.cards)} products, expected none")
    conditions = {
        k: v
        for k, v in expect.items()
        if k in ("category", "colour", "size", "feature", "attr", "max_price", "min_price")
    }
    if about is None:
        for product in shown:
            if not matches(product, conditions):
                problems.append(f"{product['sku']} {product['title']} does not meet {conditions}")
    previous = [suite.product(s) for s in seen.shown]
    if expect.get("cheaper") and shown and previous:
        cheapest = min(Decimal(p["price"]) for p in previous if p)
        problems += [f"{p['sku']} is not cheaper than ¥{cheapest}" for p in shown if Decimal(p["price"]) >= cheapest]
    if expect.get("new"):
        problems += [f"{p['sku']} was shown already" for p in shown if p["sku"] in seen.shown]
    opening = opens_with(reply.texts[0])
    if "yes_if_any" in expect:
        wanted = "yes" if any(matches(p, expect["yes_if_any"]) for p in on_sale) else "no"
        if opening != wanted:
            problems.append(f"should open with a {wanted}: {reply.texts[0][:40]!r}")
    if expect.get("says_none") and "没有" not in reply.texts[0]:
        problems.append(f"should say what was not found: {reply.texts[0][:40]!r}")
    everything = "\n".join(reply.texts)
    if about is not None:
        if expect.get("price"):
            amount = Decimal(about["price"])
            if not re.search(rf"(?<![\d.]){int(amount)}(?:\.\d\d)?(?![\d])", everything):
                problems.append(f"did not state the price ¥{about['price']} of {about['sku']}")
        if expect.get("colours"):
            missing = [c for c in about.get("colors", []) if c not in everything]
            if missing:
                problems.append(f"did not name the colours {missing} of {about['sku']}")
        if "yes_if_about" in expect:
            test = expect["yes_if_about"]
            truth = about.get("stock", 0) > 0 if test == "stock" else matches(about, test)
            wanted = "yes" if truth else "no"
            if opening != wanted:
                problems.append(f"should open with a {wanted} about {about['sku']}: {reply.texts[0][:40]!r}")
    for question in expect.get("faq", []):
        answer = next((c.get("answer", "") for c in suite.faq if c.get("question") == question), None)
        if not answer or answer not in everything:
            problems.append(f"did not answer the FAQ question {question!r}")
    # What the shopper now has in view.
    if about is not None:
        seen.focus = about["sku"]
    elif shown:
        seen.shown = [p["sku"] for p in shown]
        seen.focus = shown[0]["sku"] if len(shown) == 1 else None
    return problems


# --- transports ----------------------------------------------------------------------------------------


class Socket(Protocol):
    async def send(self, frame: dict[str, Any]) -> None: ...

    async def receive(self, timeout: float) -> dict[str, Any] | None: ...

    async def close(self) -> None: ...


class Transport(Protocol):
    async def request(self, method: str, path: str, key: str, body: Any) -> tuple[int, Any]: ...

    async def open(self, path: str) -> Socket: ...


class NetworkSocket:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(frame, ensure_ascii=False))

    async def receive(self, timeout: float) -> dict[str, Any] | None:
        try:
            return json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
        except TimeoutError:
            return None

    async def close(self) -> None:
        await self.connection.close()


class NetworkTransport:
    """A running server: HTTP for the API, WebSocket for the chat."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SuiteError("--url must be the server's http:// or https:// address")
        self.base = base.rstrip("/")
        self.ws_base = ("wss://" if parts.scheme == "https" else "ws://") + parts.netloc

    async def request(self, method: str, path: str, key: str, body: Any) -> tuple[int, Any]:
        def call() -> tuple[int, Any]:
            data = json.dumps(body).encode()
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            try:
                with urlopen(
                    Request(self.base + path, data=data, headers=headers, method=method), timeout=60
                ) as answer:
                    return answer.status, json.loads(answer.read() or b"null")
            except HTTPError as error:
                return error.code, error.read()[:300].decode(errors="replace")
            except URLError as error:
                raise SuiteError(f"{self.base}: {error.reason}") from None

        return await asyncio.to_thread(call)

    async def open(self, path: str) -> Socket:
        from websockets.asyncio.client import connect
        from websockets.typing import Origin

        try:
            connection = await connect(self.ws_base + path, origin=Origin(self.base), ping_interval=None)
        except OSError as error:
            raise SuiteError(f"{self.ws_base}: {error}") from None
        return NetworkSocket(connection)


class LocalSocket:
    def __init__(self, communicator: Any) -> None:
        self.communicator = communicator

    async def send(self, frame: dict[str, Any]) -> None:
        await self.communicator.send_json_to(frame)

    async def receive(self, timeout: float) -> dict[str, Any] | None:
        # receive_json_from's own timeout would cancel the application: wait with receive_nothing instead.
        if await self.communicator.receive_nothing(timeout=timeout, interval=0.01):
            return None
        return await self.communicator.receive_json_from()

    async def close(self) -> None:
        await self.communicator.disconnect()


class LocalTransport:
    """This process's ASGI application (settings.ASGI_APPLICATION), through channels' test communicators."""

    ORIGIN = (b"origin", b"http://127.0.0.1")
    HOST = (b"host", b"127.0.0.1")

    def __init__(self) -> None:
        from django.conf import settings
        from django.utils.module_loading import import_string

        self.application = import_string(settings.ASGI_APPLICATION)

    async def request(self, method: str, path: str, key: str, body: Any) -> tuple[int, Any]:
        from channels.testing import HttpCommunicator

        data = json.dumps(body).encode()
        headers = [
            self.HOST,
            (b"authorization", f"Bearer {key}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
        ]
        answer = await HttpCommunicator(self.application, method, path, data, headers).get_response(timeout=60)
        if answer["status"] >= 300:
            return answer["status"], answer["body"][:300].decode(errors="replace")
        return answer["status"], json.loads(answer["body"] or b"null")

    async def open(self, path: str) -> Socket:
        from channels.testing import WebsocketCommunicator

        communicator = WebsocketCommunicator(self.application, path, headers=[self.ORIGIN, self.HOST])
        connected, _ = await communicator.connect()
        if not connected:
            raise SuiteError(f"{path}: the socket was refused")
        return LocalSocket(communicator)


# --- a run -----------------------------------------------------------------------------------------------


@dataclass
class CatalogueResult:
    suite: CatalogueSuite
    dialogues: int = 0
    dialogues_passed: int = 0
    turns: int = 0
    turns_passed: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, other: "CatalogueResult") -> None:
        for name in ("dialogues", "dialogues_passed", "turns", "turns_passed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def create_shop(suite: CatalogueSuite) -> tuple[Shop, str]:
    """A shop for the catalogue (unlimited plan) and an API key that may write its products and cards."""
    industry = suite.industry if suite.industry in Shop.Industry.values else Shop.Industry.OTHER
    shop = Shop.objects.create(
        name=suite.name, slug=f"eval-{suite.slug}-{secrets.token_hex(3)}", industry=industry, plan=Shop.Plan.UNLIMITED
    )
    _, key = issue_key(shop, "eval_dialogues", [Scope.PRODUCTS_WRITE, Scope.KNOWLEDGE_WRITE])
    return shop, key


async def load_catalogue(transport: Transport, suite: CatalogueSuite, key: str) -> None:
    """The products (one atomic batch) and FAQ cards, through the REST API."""
    status, body = await transport.request("POST", "/api/v1/products/batch/", key, {"items": suite.products})
    if status != 200:
        raise SuiteError(f"{suite.slug}: the product API answered {status}: {body}")
    for card in suite.faq:
        status, body = await transport.request("POST", "/api/v1/faq-cards/", key, card)
        if status != 201:
            raise SuiteError(f"{suite.slug}: the FAQ card API answered {status}: {body}")


async def say(socket: Socket, text: str, client_msg_id: str) -> TurnReply:
    """Send one shopper message; collect every bot reply to it."""
    await socket.send({"type": "message", "text": text, "client_msg_id": client_msg_id})
    reply = TurnReply([], [], [], handed_over=False)
    timeout = REPLY_TIMEOUT
    while True:
        frame = await socket.receive(timeout)
        if frame is None:
            return reply
        if frame["type"] == "error":
            reply.error = f"error frame {frame.get('code')}: {frame.get('message')}"
            return reply
        if frame["type"] == "status" and frame.get("status") != "bot":
            reply.handed_over = True
        if frame["type"] == "message" and frame.get("sender") in ("bot", "system"):
            reply.texts.append(frame["text"])
            reply.cards += frame.get("products", [])
            timeout = QUIET


async def play(transport: Transport, suite: CatalogueSuite, shop_slug: str) -> CatalogueResult:
    result = CatalogueResult(suite)
    for number, dialogue in enumerate(suite.dialogues, start=1):
        socket = await transport.open(f"/ws/chat/{shop_slug}/?visitor=eval-{secrets.token_hex(8)}")
        try:
            welcome = await socket.receive(REPLY_TIMEOUT)
            if not welcome or welcome.get("type") != "welcome":
                raise SuiteError(f"{suite.slug}: no welcome frame: {welcome}")
            seen = Seen()
            passed = True
            for index, turn in enumerate(dialogue["turns"], start=1):
                reply = await say(socket, turn["say"], f"eval-{number}-{index}")
                problems = check_turn(suite, turn.get("expect", {}), reply, seen)
                result.turns += 1
                if problems:
                    passed = False
                    first = reply.texts[0].replace("\n", " / ")[:80] if reply.texts else ""
                    result.misses.append(
                        f"{suite.slug} #{number} {dialogue.get('name', '')} turn {index} {turn['say']!r}: "
                        f"{'; '.join(problems)} | bot: {first!r}"
                    )
                else:
                    result.turns_passed += 1
            result.dialogues += 1
            result.dialogues_passed += passed
        finally:
            await socket.close()
    return result


def run_catalogue(
    transport: Transport,
    suite: CatalogueSuite,
    runner: Callable[[Coroutine[Any, Any, CatalogueResult]], CatalogueResult],
) -> CatalogueResult:
    """Create the catalogue's shop, load it through the API, play its dialogues, delete the shop."""
    shop, key = create_shop(suite)
    try:

        async def everything() -> CatalogueResult:
            await load_catalogue(transport, suite, key)
            return await play(transport, suite, shop.slug)

        return runner(everything())
    finally:
        shop.delete()
