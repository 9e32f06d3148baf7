"""Demo service levels: every demo shop's SLA targets and a few shop-wide canned replies and macros."""

from typing import Any

from chat.models import CannedReply, SkillGroup, SlaPolicy
from shops.models import Shop

# shortcut, category, text, macro actions
CANNED: list[tuple[str, str, str, dict[str, Any]]] = [
    ("发货", "物流", "{顾客昵称}您好，{店铺名}的订单 {订单号} 已经发出啦，运单号 {物流单号}，请留意查收～", {}),
    ("催单", "物流", "{顾客昵称}别着急，我这就帮您催仓库，订单 {订单号} 今天内给您回复～", {"add_tag": "催单"}),
    ("稍等", "通用", "{顾客昵称}稍等，我帮您查一下，马上回复您～", {}),
    (
        "转售后",
        "售后",
        "{顾客昵称}，这个问题我帮您转给售后同事处理，请稍候～",
        {"add_tag": "售后", "transfer_group": SkillGroup.AFTERSALES},
    ),
    ("再见", "结束", "感谢您光临{店铺名}，我是客服{客服昵称}，祝您生活愉快，再见～", {"close_after": True}),
]


def load_demo() -> None:
    for shop in Shop.objects.all():
        SlaPolicy.objects.get_or_create(shop=shop, defaults={"first_response_minutes": 2, "next_response_minutes": 5})
        for shortcut, category, text, actions in CANNED:
            CannedReply.objects.update_or_create(
                shop=shop, owner=None, shortcut=shortcut, defaults={"category": category, "text": text, **actions}
            )
