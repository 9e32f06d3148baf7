"""The shopper chat page and the agent console page; both are shells for their WebSocket."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from shops.models import Shop

from . import services


def shopper_chat(request: HttpRequest, slug: str) -> HttpResponse:
    shop = services.active_shop(slug)
    if shop is None:
        raise Http404("店铺不存在或已停止服务")
    return render(request, "chat/shopper.html", {"shop": shop})


def agent_console(request: HttpRequest) -> HttpResponse:
    """Staff only (wrapped in admin_view: login, CSRF), and only for agents and managers of a shop."""
    shop_ids = services.serving_shop_ids(request.user)
    if not shop_ids:
        raise PermissionDenied
    shops = Shop.objects.filter(pk__in=shop_ids).order_by("name")
    return render(request, "chat/agent_console.html", {"shops": shops})
