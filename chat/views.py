"""The shopper chat page (full page and embedded in the widget), the widget's config, the front page and the
agent console page; the chat pages are shells for their WebSocket."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from shops.models import Shop

from . import services, widget
from .channels import wecom_sync
from .channels.wecom_crypto import CryptoError


def _shop_or_404(slug: str) -> Shop:
    shop = services.active_shop(slug)
    if shop is None:
        raise Http404("店铺不存在或已停止服务")
    return shop


def _chat_page(request: HttpRequest, shop: Shop, embedded: bool) -> HttpResponse:
    opening = widget.opening(shop)
    context = {
        "shop": shop,
        "embedded": embedded,
        "opening": {"greeting": opening.greeting, "questions": opening.questions},
        "colour": opening.colour,
    }
    return render(request, "chat/shopper.html", context)


@require_GET
def shopper_chat(request: HttpRequest, slug: str) -> HttpResponse:
    return _chat_page(request, _shop_or_404(slug), embedded=False)


@require_GET
@xframe_options_exempt
def embedded_chat(request: HttpRequest, slug: str) -> HttpResponse:
    """The chat inside the widget's frame: only the shop's allowed sites may frame it (config.csp)."""
    shop = _shop_or_404(slug)
    response = _chat_page(request, shop, embedded=True)
    response.frame_ancestors = widget.allowed_origins(shop)  # type: ignore[attr-defined]
    return response


@require_GET
def widget_config(request: HttpRequest, slug: str) -> JsonResponse:
    """Asked by widget.js from the merchant's page: may this page's origin embed the chat, and how it looks.
    Readable from any origin (CORS), so a refused site's widget can say why."""
    origin = request.headers.get("Origin", "")
    shop = services.active_shop(slug)
    if shop is None:
        response = JsonResponse({"error": "shop_not_found", "message": "店铺不存在或已停止服务"}, status=404)
    elif not widget.may_embed(shop, origin):
        message = (
            f"此网站（{origin or '未知来源'}）未获「{shop.name}」授权嵌入在线客服。"
            "请店铺管理员在 Shopbee 后台的店铺设置里把它加入允许嵌入的网站。"
        )
        response = JsonResponse({"error": "origin_not_allowed", "message": message}, status=403)
    else:
        opening = widget.opening(shop)
        response = JsonResponse(
            {
                "shop": shop.name,
                "colour": opening.colour,
                "greeting": opening.greeting,
                "chat_url": request.build_absolute_uri(reverse("chat:embedded", args=[shop.slug])),
            }
        )
    if origin:
        response["Access-Control-Allow-Origin"] = origin
    patch_vary_headers(response, ["Origin"])
    return response


@require_GET
def widget_script(request: HttpRequest) -> HttpResponse:
    """``/widget.js``, the address merchants paste: the static file."""
    return redirect(static("chat/widget.js"))


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    return redirect(static("chat/favicon.svg"), permanent=True)


@require_GET
def front_page(request: HttpRequest) -> HttpResponse:
    """``/``: what Shopbee is, and the way to the back office, the agent console and the demo shops' chat."""
    return render(request, "chat/front.html", {"shops": widget.listed_shops()})


def agent_console(request: HttpRequest) -> HttpResponse:
    """Staff only (wrapped in admin_view: login, CSRF), and only for agents and managers of a shop."""
    shop_ids = services.serving_shop_ids(request.user)
    if not shop_ids:
        raise PermissionDenied
    shops = Shop.objects.filter(pk__in=shop_ids).order_by("name")
    return render(request, "chat/agent_console.html", {"shops": shops})


@require_GET
def email_attachment(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """A file a shopper sent by mail, downloaded by staff who serve its shop (wrapped in admin_view); another
    shop's file is a 404. Always a download, never shown inline: a stranger's HTML must not run on our origin.

    Sent whole, not streamed: the file is at most ``EMAIL_CHANNEL_MAX_ATTACHMENT_BYTES``, and under ASGI a
    streamed file (a synchronous iterator) is read whole anyway, with Django's warning."""
    try:
        attachment = services.attachment_for_staff(request.user, attachment_id)
    except services.ChatError:
        raise Http404 from None
    with attachment.file.open("rb") as file:
        response = HttpResponse(file.read(), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, attachment.filename)
    response["Content-Length"] = len(response.content)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@csrf_exempt  # WeCom's servers post here; the message signature (msg_signature) authenticates them
@require_http_methods(["GET", "POST"])
def wecom_callback(request: HttpRequest, connection_id: int) -> HttpResponse:
    """WeCom's callback URL for one connection: GET checks the URL (answers the decrypted echostr), POST says
    new messages wait (answered "success" at once; they are pulled in the background). A wrong signature is 403."""
    connection = wecom_sync.callback_connection(connection_id)
    if connection is None:
        raise Http404
    query = request.GET
    signed = (query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
    try:
        if request.method == "GET":
            echo = wecom_sync.verify_url(connection, *signed, query.get("echostr", ""))
            return HttpResponse(echo, content_type="text/plain; charset=utf-8")
        wecom_sync.accept_callback(connection, *signed, request.body)
    except CryptoError:
        return HttpResponse("invalid signature", status=403, content_type="text/plain")
    return HttpResponse("success", content_type="text/plain")
