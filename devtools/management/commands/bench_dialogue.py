"""Measure the dialogue manager: scripted conversations through respond(), latency per message.

Everything the run writes (conversations, answer logs, records) is rolled back at the end.
"""

import resource
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from chat.dialogue import respond
from chat.models import Conversation
from devtools.stats import percentile
from shops.models import Order, Shop

# Realistic conversations mixing every intent; "{order}" is replaced by one of the customer's orders.
SCRIPTS = [
    ["你好", "包邮吗", "推荐一双跑鞋", "500以内", "黑色的呢", "第一个有没有42码", "换一批", "谢谢"],
    ["在吗？发什么快递？几天能到", "我的订单发货了吗", "查订单 {order}", "尾款要付多少", "好的"],
    ["想买件外套", "不限", "都可以", "有便宜点的吗", "第二个有什么颜色", "跑步鞋怎么洗"],
    ["我要开发票", "杭州某某科技有限公司", "91350100M000100Y44", "退货运费谁出", "算了"],
    ["你是机器人吗", "哈哈哈", "推薦一雙跑步鞋，預算３００以內", "第一個有沒有４１碼", "拜拜"],
    ["量子纠缠是什么", "鞋子偏码吗", "有没有适合通勤的双肩包", "我的快递到哪了", "转人工"],
]


class Command(BaseCommand):
    help = "Run scripted conversations through the dialogue manager and print p50/p99 latency and throughput."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--shop", default="swift-sports", help="slug of a shop with products and knowledge")
        parser.add_argument("--conversations", type=int, default=120, help="conversations to run (scripts cycle)")

    def handle(self, *args, shop: str, conversations: int, **options) -> None:
        target = Shop.objects.filter(slug=shop).first()
        if target is None:
            raise CommandError(f"No shop with slug {shop!r} (run `manage.py load_demo` for the demo shops).")
        if conversations < 1:
            raise CommandError("--conversations must be at least 1.")
        order = Order.objects.filter(shop=target).select_related("customer").order_by("-created_at").first()
        # The first message loads jieba's dictionary and the shop's index: timed apart as the warm-up.
        began = time.perf_counter()
        with transaction.atomic():
            respond(Conversation.objects.create(shop=target, visitor_token="bench-warm-up"), "包邮吗")
            transaction.set_rollback(True)
        warm_up_ms = (time.perf_counter() - began) * 1000
        latencies: list[float] = []
        started = time.perf_counter()
        with transaction.atomic():
            for n in tqdm(range(conversations), desc="conversations", unit="conv"):
                conversation = Conversation.objects.create(
                    shop=target, customer=order.customer if order else None, visitor_token=f"bench-{n}"
                )
                for line in SCRIPTS[n % len(SCRIPTS)]:
                    text = line.format(order=order.external_id if order else "")
                    began = time.perf_counter()
                    respond(conversation, text)
                    latencies.append((time.perf_counter() - began) * 1000)
            transaction.set_rollback(True)
        elapsed = time.perf_counter() - started
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
        self.stdout.write(
            f"messages={len(latencies)} p50_ms={percentile(latencies, 0.5):.2f} "
            f"p99_ms={percentile(latencies, 0.99):.2f} max_ms={max(latencies):.2f} "
            f"messages_per_s={len(latencies) / elapsed:.0f} warm_up_ms={warm_up_ms:.0f} peak_rss_mb={peak_rss_mb:.0f}"
        )
