"""The QA rules a shop starts with (``manage.py install_qa_rules``, and the demo). Installing twice changes nothing."""

from django.db import transaction

from shops.models import Shop

from .models import QARule, Severity

Kind = QARule.Kind

BANNED_WORDS = [
    "滚开",
    "给我滚",
    "闭嘴",
    "有病",
    "神经病",
    "蠢货",
    "笨蛋",
    "傻子",
    "傻逼",
    "白痴",
    "废物",
    "爱买不买",
    "你自己看",
    "关我什么事",
    "不关我事",
    "别烦我",
    "烦不烦",
    "没空",
    "自己去查",
    "听不懂吗",
    "说了多少遍",
    "去死",
    "没脑子",
    "活该",
    "少废话",
]
FORBIDDEN_PROMISES = [
    "保证",
    "绝对",
    "百分百",
    "100%",
    "肯定不会",
    "一定不会",
    "永不",
    "终身保修",
    "假一赔十",
    "包治",
    "根治",
    "无效退款",
    "最便宜",
    "全网最低",
    "第一品牌",
    "国家级",
    "零风险",
    "稳赚",
    "马上到",
    "今天一定到",
]
ANGRY_WORDS = [
    "投诉",
    "差评",
    "举报",
    "12315",
    "骗子",
    "什么垃圾",
    "垃圾东西",
    "气死",
    "太差",
    "退钱",
    "欺骗",
    "坑人",
    "工商局",
    "消协",
    "曝光",
    "什么破",
    "无语",
    "滚开",
]

# (name, kind, severity, words, threshold): what a new shop starts with; managers edit them per shop.
DEFAULT_RULES: list[tuple[str, str, str, list[str], int | None]] = [
    ("不文明用语", Kind.BANNED_WORDS, Severity.HIGH, BANNED_WORDS, None),
    ("违规承诺", Kind.FORBIDDEN_PROMISE, Severity.MEDIUM, FORBIDDEN_PROMISES, None),
    ("泄露个人信息", Kind.PERSONAL_DATA, Severity.HIGH, [], None),
    ("首次响应超时", Kind.SLOW_FIRST_RESPONSE, Severity.MEDIUM, [], 60),
    ("回复超时", Kind.SLOW_REPLY, Severity.LOW, [], 180),
    ("机器人连续答不上", Kind.FALLBACK_STREAK, Severity.MEDIUM, [], 3),
    ("顾客情绪激动", Kind.ANGRY_SHOPPER, Severity.HIGH, ANGRY_WORDS, None),
    ("会话未解决即结束", Kind.UNRESOLVED_CLOSE, Severity.LOW, [], None),
]


def install_default_rules(shop: Shop) -> int:
    """Give the shop the default rule set; rules it already has (by name) are left as the shop edited them."""
    created = 0
    with transaction.atomic():
        for name, kind, severity, words, threshold in DEFAULT_RULES:
            _, was_created = QARule.objects.get_or_create(
                shop=shop,
                name=name,
                defaults={
                    "kind": kind,
                    "severity": severity,
                    "words": "\n".join(words),
                    "threshold": threshold,
                    # Rudeness is never sent; a promise or a number an agent stands by may be, recorded.
                    "on_send": QARule.OnSend.BLOCK if kind == Kind.BANNED_WORDS else QARule.OnSend.HOLD,
                },
            )
            created += was_created
    return created
