"""The one client Shopbee talks to a large model with: OpenAI-compatible Chat Completions (docs/llm.md).

Hosted (Qwen on DashScope, DeepSeek) or self-hosted (vLLM, Ollama) models all speak this protocol, so
the official ``openai`` package with the provider's base URL is the only client. Every call is bounded
(the shop's timeout for connecting and for each read, so for the first token and every gap in a stream;
``LLM_MAX_ANSWER_SECONDS`` for a whole streamed answer), is never retried, and never raises for what the
provider does: the caller gets a ``Completion`` whose ``error`` is a short phrase of ours. The key goes
only into the request's Authorization header; no error or log line of this module carries it.

The base URL is checked as any URL a shop types (core.outbound): http(s) only, and its name must resolve
to public addresses unless ``LLM_ALLOW_PRIVATE_ENDPOINTS`` allows a model next to Shopbee.
"""

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from types import ModuleType
from typing import TYPE_CHECKING, Literal, TypedDict, cast

from django.conf import settings

from .outbound import TargetRefused, checked_address, parse_target

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

logger = logging.getLogger(__name__)

Role = Literal["system", "user", "assistant"]


class ChatMessage(TypedDict):
    role: Role
    content: str


@dataclass(frozen=True)
class Endpoint:
    """Where a shop's model is, how long to wait for it and what its tokens cost. ``repr`` leaves the key out."""

    base_url: str
    model: str
    api_key: str
    timeout: float
    # Yuan per million tokens sent and received: the cost of a call as the shop's usage records it.
    input_price: Decimal = Decimal(0)
    output_price: Decimal = Decimal(0)

    def __repr__(self) -> str:
        return f"Endpoint(base_url={self.base_url!r}, model={self.model!r})"


@dataclass(frozen=True)
class Completion:
    text: str
    error: str  # "" when the model answered; else "timeout", "connection failed", "HTTP 429", "bad answer"…
    prompt_tokens: int
    completion_tokens: int
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.error


def estimated_tokens(text: str) -> int:
    """Tokens for text the provider did not count (a stream without usage): about one per Chinese character,
    one per four Latin ones; an upper estimate, so a budget is never overrun by a silent provider."""
    wide = sum(1 for char in text if ord(char) > 0x2E7F)
    return wide + math.ceil((len(text) - wide) / 4)


def _prompt_tokens(messages: list[ChatMessage]) -> int:
    return sum(estimated_tokens(message["content"]) + 4 for message in messages)


def _checked(endpoint: Endpoint) -> str:
    """ "" when the base URL may be called now, else why not."""
    try:
        target = parse_target(endpoint.base_url)
        checked_address(target, allow_private=settings.LLM_ALLOW_PRIVATE_ENDPOINTS)
    except TargetRefused as refused:
        return refused.reason
    return ""


def _sdk() -> ModuleType:
    """The ``openai`` package, imported on first use: about 40 MB that a process which never calls a model
    (most workers of most shops) does not pay."""
    import openai

    return openai


def _params(messages: list[ChatMessage]) -> "list[ChatCompletionMessageParam]":
    # The same dicts: ChatMessage is the subset of the library's message types that Shopbee sends.
    return cast("list[ChatCompletionMessageParam]", list(messages))


def _error(exc: BaseException) -> str:
    openai = _sdk()
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, openai.APIConnectionError):
        return "connection failed"
    return "bad answer"


def complete(endpoint: Endpoint, messages: list[ChatMessage], *, max_tokens: int = 400) -> Completion:
    """One whole answer (agent assist, card drafts, the evaluation)."""
    started = time.monotonic()
    refused = _checked(endpoint)
    if refused:
        return Completion("", refused, 0, 0, 0.0)
    client = _sdk().OpenAI(
        base_url=endpoint.base_url, api_key=endpoint.api_key, timeout=endpoint.timeout, max_retries=0
    )
    try:
        response = client.chat.completions.create(
            model=endpoint.model, messages=_params(messages), max_tokens=max_tokens, temperature=0.2
        )
        text = response.choices[0].message.content or ""
        usage = response.usage
    except Exception as exc:  # the provider's failure is an answer like any other
        logger.warning("Model call to %s failed: %s", endpoint.model, _error(exc))
        return Completion("", _error(exc), _prompt_tokens(messages), 0, time.monotonic() - started)
    finally:
        client.close()
    return Completion(
        text.strip(),
        "",
        usage.prompt_tokens if usage else _prompt_tokens(messages),
        usage.completion_tokens if usage else estimated_tokens(text),
        time.monotonic() - started,
    )


async def stream(
    endpoint: Endpoint,
    messages: list[ChatMessage],
    on_delta: Callable[[str], Awaitable[None]] | None = None,
    *,
    max_tokens: int = 400,
) -> Completion:
    """An answer streamed, without blocking the event loop: ``on_delta`` (if given) gets each piece of text as
    it arrives; the whole text is returned."""
    started = time.monotonic()
    refused = await asyncio.to_thread(_checked, endpoint)
    if refused:
        return Completion("", refused, 0, 0, 0.0)
    openai = await asyncio.to_thread(_sdk)  # its first import takes a while: not on the event loop
    client = openai.AsyncOpenAI(
        base_url=endpoint.base_url, api_key=endpoint.api_key, timeout=endpoint.timeout, max_retries=0
    )
    pieces: list[str] = []
    usage = None
    try:
        async with asyncio.timeout(settings.LLM_MAX_ANSWER_SECONDS):
            chunks = await client.chat.completions.create(
                model=endpoint.model,
                messages=_params(messages),
                max_tokens=max_tokens,
                temperature=0.2,
                stream=True,
                stream_options={"include_usage": True},
            )
            async for chunk in chunks:
                usage = chunk.usage or usage
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    pieces.append(delta)
                    if on_delta is not None:
                        await on_delta(delta)
    except Exception as exc:
        logger.warning("Streamed model call to %s failed: %s", endpoint.model, _error(exc))
        error = _error(exc)
    else:
        error = ""
    finally:
        await client.close()
    text = "".join(pieces)
    return Completion(
        text.strip() if not error else "",
        error,
        usage.prompt_tokens if usage else _prompt_tokens(messages),
        usage.completion_tokens if usage else estimated_tokens(text),
        time.monotonic() - started,
    )
