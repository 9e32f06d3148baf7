"""Live streams: answers to "什么时候直播" and "今天直播卖什么" from the shop's LiveSession rows."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from core import shoptime
from knowledge.text import normalize
from shops.models import Shop

from ..models import LiveSession

LIVE_WORDS = ("直播", "开播", "live")
WHAT_WORDS = (
    "卖什么", "卖啥", "什么商品", "什么产品", "哪些", "有什么", "有啥", "上什么", "上啥", "推荐", "宝贝", "福利",
)  # fmt: skip
MAX_PRODUCTS_NAMED = 5
UPCOMING_DAYS = 14


def _when(session: LiveSession, now: datetime, tz: ZoneInfo) -> str:
    start, end = session.starts_at.astimezone(tz), session.ends_at.astimezone(tz)
    days = (start.date() - shoptime.local_date(now, tz)).days
    day = {0: "今天", 1: "明天", 2: "后天"}.get(days, f"{start.month}月{start.day}日")
    return f"{day} {start:%H:%M}–{end:%H:%M}"


def _featured(session: LiveSession) -> str:
    titles = list(session.featured_products.order_by("pk").values_list("title", flat=True)[: MAX_PRODUCTS_NAMED + 1])
    if not titles:
        return ""
    named = "、".join(titles[:MAX_PRODUCTS_NAMED])
    return named + ("等" if len(titles) > MAX_PRODUCTS_NAMED else "")


def live_answer(shop: Shop, text: str, now: datetime | None = None) -> str | None:
    """A reply about the shop's live streams, or None when ``text`` is not about a live stream."""
    question = normalize(text)
    if not any(word in question for word in LIVE_WORDS):
        return None
    now = now or timezone.now()
    tz = shop.tz
    asks_what = any(word in question for word in WHAT_WORDS)
    sessions = LiveSession.objects.filter(
        shop=shop, ends_at__gt=now, starts_at__lt=now + timedelta(days=UPCOMING_DAYS)
    ).order_by("starts_at")
    # Sessions not yet over, earliest start first: a running one, if any, comes first.
    session = sessions.first()
    current = session if session is not None and session.starts_at <= now else None
    if session is None:
        return "近期还没有直播安排哦，关注店铺就能第一时间收到开播提醒～"
    parts = []
    if current is not None:
        parts.append(f"正在直播「{session.title}」，{session.ends_at.astimezone(tz):%H:%M} 结束，快来直播间看看吧！")
    else:
        if "今天" in question and shoptime.local_date(session.starts_at, tz) != shoptime.local_date(now, tz):
            parts.append("今天没有直播哦。")
        parts.append(f"下一场直播「{session.title}」在{_when(session, now, tz)}。")
    if asks_what:
        featured = _featured(session)
        parts.append(f"这场主推：{featured}。" if featured else "这场的商品清单还在准备中，开播前会公布哦。")
    if session.room_url:
        parts.append(f"直播间：{session.room_url}")
    return "".join(parts)
