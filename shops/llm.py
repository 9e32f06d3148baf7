"""A shop's large model: its endpoint for a call, its monthly token budget, and the record of every call.

The client itself is core.llm; this module decides whether a shop may call its model now (configured,
enabled, a key that decrypts, under budget) and writes what each call used and cost (docs/llm.md).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from core import crypto
from core.llm import Completion, Endpoint
from core.outbound import TargetRefused, checked_url

from .models import ModelProvider, ModelUsage, Shop
from .quota import month_start

Outcome = ModelUsage.Outcome
Purpose = ModelUsage.Purpose
MILLION = Decimal(1_000_000)


def tokens_this_month(shop: Shop, now: datetime | None = None) -> int:
    used = ModelUsage.objects.filter(shop=shop, created_at__gte=month_start(shop, now)).aggregate(
        total=Sum("prompt_tokens") + Sum("completion_tokens")
    )["total"]
    return int(used or 0)


def endpoint_for(shop: Shop, *, even_disabled: bool = False) -> Endpoint | None:
    """The shop's model if it may be called now: enabled (unless ``even_disabled``: the evaluation judges a
    model before it is turned on), with a key that decrypts and budget left."""
    providers = ModelProvider.objects.filter(shop=shop)
    provider = (providers if even_disabled else providers.filter(enabled=True)).first()
    if provider is None:
        return None
    api_key = crypto.decrypt_text(provider.api_key_sealed)
    if not api_key or tokens_this_month(shop) >= provider.monthly_token_budget:
        return None
    return Endpoint(
        provider.base_url,
        provider.model,
        api_key,
        provider.timeout_seconds,
        input_price=provider.input_price,
        output_price=provider.output_price,
    )


def _cost(endpoint: Endpoint, completion: Completion) -> Decimal:
    spent = endpoint.input_price * completion.prompt_tokens + endpoint.output_price * completion.completion_tokens
    return (spent / MILLION).quantize(Decimal("0.000001"))


def record_usage(shop: Shop, purpose: str, outcome: str, endpoint: Endpoint, completion: Completion) -> ModelUsage:
    """Write one call's tokens, cost (at the prices of the shop's model the endpoint was made from) and outcome."""
    return ModelUsage.objects.create(
        shop=shop,
        purpose=purpose,
        outcome=outcome,
        error=completion.error[:60],
        model=endpoint.model[:100],
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        cost=_cost(endpoint, completion),
        latency_ms=round(completion.seconds * 1000),
    )


@dataclass(frozen=True)
class MonthUsage:
    calls: int
    tokens: int
    cost: Decimal
    budget: int | None  # None: no provider


def month_usage(shops: list[Shop], now: datetime | None = None) -> dict[int, MonthUsage]:
    """Each shop's model use this month (its own month, in its timezone), for the dashboards."""
    budgets = dict(ModelProvider.objects.filter(shop__in=shops).values_list("shop_id", "monthly_token_budget"))
    usage: dict[int, MonthUsage] = {}
    for shop in shops:
        totals = ModelUsage.objects.filter(shop=shop, created_at__gte=month_start(shop, now)).aggregate(
            calls=Count("pk"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"), cost=Sum("cost")
        )
        usage[shop.pk] = MonthUsage(
            calls=int(totals["calls"] or 0),
            tokens=int((totals["prompt"] or 0) + (totals["completion"] or 0)),
            cost=totals["cost"] or Decimal(0),
            budget=budgets.get(shop.pk),
        )
    return usage


def validate_base_url(url: str) -> None:
    """Raise TargetRefused for an endpoint Shopbee will not call (the form shows the reason)."""
    checked_url(url, allow_private=settings.LLM_ALLOW_PRIVATE_ENDPOINTS)


@transaction.atomic
def save_provider(provider: ModelProvider, api_key: str = "", **fields: Any) -> ModelProvider:
    """Create or change a shop's provider; a new ``api_key`` is sealed, an empty one keeps the stored key."""
    for name, value in fields.items():
        setattr(provider, name, value)
    if api_key:
        provider.api_key_sealed = crypto.encrypt_text(api_key)
    provider.updated_at = timezone.now()
    provider.save()
    return provider


__all__ = [
    "MonthUsage",
    "Outcome",
    "Purpose",
    "TargetRefused",
    "endpoint_for",
    "month_usage",
    "record_usage",
    "save_provider",
    "tokens_this_month",
    "validate_base_url",
]
