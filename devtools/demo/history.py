"""Thirty days of played history for each demo shop, through the real services.

Shoppers (the demo customers and anonymous visitors) talk to the real dialogue engine
(``chat.services.receive_visitor_message``, ``show_product_details``): questions answered, clarified and
missed, recommendations, order questions, requests for a human. Hand-offs go through ``request_handoff`` and
the shop's automatic assignment to the demo agents, whose consoles are registered and kept alive as the real
console does; the agents reply and close with the console's services. Shoppers rate through the closing
survey, bot conversations close like the idle-close job closes them, orders arrive through the open API's
order sync (``upsert_orders``), the campaign scan runs at set hours and its touches are sent by the real send
task, the nightly QA reports are built for every played day and the card hits counted from the answer log.

The clock: the services read ``timezone.now()``. The player runs each step with the clock moved to the step's
moment (``time_machine``, frozen), so every row, and every gap the services measure (first response times,
campaign delays and windows, conversion windows), is what the services themselves wrote at that moment.
Moving timestamps after the fact would leave all those gaps at zero: no slow-response finding, no campaign
due, no conversion.

Deterministic: one seeded random generator per shop drives every choice. Idempotent: a demo shop that
already has conversations keeps them; the history is played only into a shop without any.
"""

import heapq
import itertools
import random
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import time_machine
from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from analytics.services.reports import build_reports
from chat import services as chat
from chat.assignment import save_desk
from chat.measurement import save_measurement_policy
from chat.models import Conversation, MeasurementPolicy, ServiceDesk
from knowledge.experiments import start_experiment
from knowledge.models import FAQCard, SimilarQuestion
from knowledge.services import count_card_hits
from marketing.models import Touch
from marketing.services.campaigns import scan_shop
from shops.models import Customer, Membership, Order, Product, Refund, Shop
from shops.services import upsert_orders

DAYS = 30
DEMO_SHOPS = ["swift-sports", "lanyi-women", "jingjia-clean"]
SEED = 20261201
# Campaign scans at these local hours (the beat task runs them every few minutes in production).
SCAN_HOURS = (11, 19)

# Ways shoppers dress up a card's question.
PARAPHRASES = ["{q}", "请问{q}", "亲，{q}", "想问下{q}", "{q}呀", "你好，{q}？", "在吗，{q}"]
# Short questions that several cards could answer: the bot asks which one is meant.
VAGUE = ["发货", "退货", "优惠", "尺码", "运费", "质量", "快递", "活动", "换货", "保修"]
# Questions no demo card answers: they go to the trainer's unanswered queue.
OUT_OF_SCOPE = [
    "你们有线下实体店吗",
    "可以帮我寄到香港吗",
    "能不能刻字定制",
    "支持花呗分期吗",
    "你们仓库在哪个城市",
    "老顾客有积分兑换吗",
    "可以开专票吗公司报销用",
    "明星同款是哪一件",
    "能不能周末送货上门",
    "你们招不招兼职客服",
]
ORDER_QUESTIONS = ["我的订单到哪了", "帮我查一下订单", "快递怎么还没到", "什么时候发货呀"]
HUMAN_REQUESTS = ["转人工", "人工客服", "我要找人工", "能帮我转人工吗"]
ANGRY = ["快递太慢了，气死了，转人工", "什么破质量，我要投诉", "太差了，退钱！"]
AGENT_OPENERS = [
    "您好，我是客服{name}，这边帮您看一下，请稍等～",
    "亲，让您久等了，我来帮您处理～",
    "您好，收到您的问题了，马上为您核实。",
]
SHOPPER_FOLLOW_UPS = ["好的，麻烦快一点", "嗯嗯，谢谢", "大概要多久呢", "好的我等你"]
AGENT_ANSWERS = [
    "已经帮您催促仓库了，今天会给您加急处理，有进展第一时间通知您。",
    "帮您登记好了，专员会在24小时内联系您，请保持电话畅通。",
    "这边已为您备注，如有其他问题随时联系我们哦～",
]
KEEP = ["那我换个尺码吧，不退了", "算了不退了，换个颜色可以吗"]
REFUND_REASONS = ["尺码不合适", "不喜欢颜色", "买多了"]
COMEBACK = ["优惠券还能用吗", "那我下单了", "还有货吗", "好的，刚付款了"]


def trial_answer(answer: str) -> str:
    """The second answer a demo card tries: the same facts, warmer, with the way to a human."""
    core = answer.removeprefix("亲，").removeprefix("亲～").rstrip("。！!~～")
    return f"亲，{core}～还有不清楚的随时问小蜂，回复“转人工”可找客服哦。"


# The bot holdout the demo runs (shop slug -> share in %): these shops' drawn shoppers meet the agents only.
# Not the first demo shop: a first visitor and the chat benchmarks talk to it, and it answers every shopper.
BOT_HOLDOUT = {"jingjia-clean": 20}
# Each shop's cards with the most similar questions get a second answer on trial; shoppers ask them more often.
EXPERIMENT_CARDS = 2
EXPERIMENT_QUESTION_SHARE = 0.4
# A touched customer comes back and buys (or keeps what they wanted to return) this often; a control customer,
# never touched, does so on their own less often: the campaigns' lift the proof-of-value page measures.
COMEBACK_TOUCHED = 0.45
COMEBACK_CONTROL = 0.15

# Orders placed on the shop's platform without a chat and left unpaid, per day: the payment reminders' targets.
PLATFORM_UNPAID_ORDERS = (4, 6)

# (script, weight): how a demo day's conversations are mixed.
SCRIPTS = [("faq", 34), ("vague", 10), ("missed", 10), ("recommend", 20), ("order", 12), ("handoff", 14)]

Step = Iterator[timedelta]


@contextmanager
def _tasks_in_process() -> Iterator[None]:
    """Celery tasks the services queue (the campaign send task) run at once, at the played moment, even
    under ``make run``'s broker: a worker would send them at the real time instead."""
    conf = current_app.conf
    before = conf.task_always_eager
    conf.task_always_eager = True
    try:
        yield
    finally:
        conf.task_always_eager = before


class Player:
    """One shop's played month: a queue of steps (generators yielding the wait before their next step),
    each run with the clock at its moment."""

    def __init__(self, shop: Shop, days: int, now: datetime) -> None:
        self.shop = shop
        self.days = days
        self.now = now
        self.rng = random.Random(f"{SEED}:{shop.slug}")
        self.queue: list[tuple[datetime, int, Step]] = []
        self.serial = itertools.count()
        self.orders = itertools.count(1)
        self.consoles: list[str] = []
        self.customers = list(Customer.objects.filter(shop=shop).order_by("external_id"))
        self.products = list(Product.objects.filter(shop=shop, on_sale=True).order_by("sku"))
        cards = FAQCard.objects.filter(shop=shop, enabled=True)
        similar = SimilarQuestion.objects.filter(card__in=cards).order_by("pk").values_list("text", flat=True)
        self.questions = sorted({*cards.values_list("question", flat=True), *similar})
        self.trial_cards = list(
            cards.annotate(similar_count=Count("similar_questions")).order_by("-similar_count", "pk")[:EXPERIMENT_CARDS]
        )
        self.trial_questions = sorted(
            {*(c.question for c in self.trial_cards), *similar.filter(card__in=self.trial_cards)}
        )

    # --- the clock ---------------------------------------------------------------------------------

    def at(self, moment: datetime, steps: Step) -> None:
        heapq.heappush(self.queue, (moment, next(self.serial), steps))

    def run(self) -> None:
        latest = self.now - timedelta(minutes=1)  # nothing played may lie in the future
        while self.queue:
            moment, _, steps = heapq.heappop(self.queue)
            moment = min(moment, latest)
            with time_machine.travel(moment, tick=False):
                for channel in self.consoles:
                    chat.refresh_console(channel)  # the console's heartbeat
                wait = next(steps, None)
            if wait is not None:
                self.at(moment + wait, steps)

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.shop.tz)

    def seconds(self, low: int, high: int) -> timedelta:
        return timedelta(seconds=self.rng.randint(low, high))

    # --- the month ---------------------------------------------------------------------------------

    def play(self) -> None:
        today = self.now.astimezone(self.shop.tz).date()
        first = today - timedelta(days=self.days)
        self.at(self.local(first, 0), self.staff_on_duty())
        for n in range(self.days):
            day = first + timedelta(days=n)
            for hour in SCAN_HOURS:
                self.at(self.local(day, hour), self.campaign_scan())
            for _ in range(self.rng.randint(4, 6)):
                start = self.local(day, self.rng.randint(8, 21), self.rng.randint(0, 59))
                self.at(start, self.conversation(self._script()))
            for _ in range(self.rng.randint(*PLATFORM_UNPAID_ORDERS)):
                self.at(self.local(day, self.rng.randint(9, 21), self.rng.randint(0, 59)), self.platform_order())
        self.run()
        self.off_duty()
        for n in range(self.days):
            build_reports(first + timedelta(days=n), [self.shop.pk])  # the nightly QA reports
        count_card_hits(since=self.local(first, 0))  # the beat task, over the played month

    def _script(self) -> str:
        names, weights = zip(*SCRIPTS, strict=True)
        return self.rng.choices(names, weights)[0]

    def staff_on_duty(self) -> Step:
        """The shop assigns automatically, runs its bot holdout and its answer experiments; its demo agents open
        their consoles."""
        if self.shop.slug in BOT_HOLDOUT:
            save_measurement_policy(MeasurementPolicy(shop=self.shop, bot_holdout_percent=BOT_HOLDOUT[self.shop.slug]))
        for card in self.trial_cards:
            if not card.experiments.exists():
                start_experiment(card, trial_answer(card.answer))
        desk, _ = ServiceDesk.objects.get_or_create(shop=self.shop)
        desk.rule = ServiceDesk.Rule.ROUND_ROBIN
        save_desk(desk)
        agents = get_user_model().objects.filter(
            memberships__shop=self.shop, memberships__role=Membership.Role.AGENT, is_active=True
        )
        for agent in agents.order_by("username"):
            channel = f"demo-history.{self.shop.pk}.{agent.pk}"
            chat.register_console(agent, channel)
            self.consoles.append(channel)
        yield from ()

    def off_duty(self) -> None:
        """The demo agents close their consoles; with no console left they go offline, as after a real shift."""
        for channel in self.consoles:
            user_id = chat.unregister_console(channel)
            if user_id is not None:
                chat.offline_if_gone(user_id)

    # --- conversations -----------------------------------------------------------------------------

    def conversation(self, script: str) -> Step:
        customer = self.rng.choice(self.customers) if self.rng.random() < 0.75 else None
        if script == "order" and customer is None:
            customer = self.rng.choice(self.customers)
        # Seeded tokens: the same anonymous shoppers on every machine, drawn alike by the holdout and experiments.
        token = chat.new_visitor_token(f"demo{self.rng.getrandbits(48):012x}")
        visitor = chat.open_visitor(self.shop, visitor_token=token, customer=customer)
        play: Callable[[chat.Visitor], Step] = getattr(self, f"_{script}")
        yield from play(visitor)
        yield from self.finish(visitor, self._score(script))

    def finish(self, visitor: chat.Visitor, score: str) -> Step:
        """A handed-over shopper is served by an agent; a shopper the bot kept leaves, and the conversation
        closes as the idle-close job closes it; some rate it."""
        if self.status(visitor) != Conversation.Status.BOT:
            # Handed over: on request, or by the bot itself (an angry shopper, repeated misses).
            yield from self._served(visitor)
            return
        yield timedelta(minutes=settings.CHAT_IDLE_CLOSE_MINUTES)
        if self.status(visitor) == Conversation.Status.BOT:
            chat.close_conversation(Conversation(pk=self.conversation_id(visitor)))  # what the idle-close job does
            if self.rng.random() < 0.45:
                yield self.seconds(60, 3600)
                self.say(visitor, score)
        elif self.status(visitor) != Conversation.Status.CLOSED:
            yield from self._served(visitor)

    def status(self, visitor: chat.Visitor) -> str:
        return Conversation.objects.filter(pk=self.conversation_id(visitor)).values_list("status", flat=True).get()

    @staticmethod
    def conversation_id(visitor: chat.Visitor) -> int:
        assert visitor.conversation is not None  # the shopper has spoken
        return visitor.conversation.pk

    def say(self, visitor: chat.Visitor, text: str) -> chat.ShopperTurn:
        return chat.receive_visitor_message(visitor, text)

    def _score(self, script: str) -> str:
        scores = {"missed": (1, 3), "vague": (3, 5)}.get(script, (4, 5))
        return str(self.rng.randint(*scores))

    def _question(self) -> str:
        pool = self.trial_questions if self.trial_questions and self.rng.random() < EXPERIMENT_QUESTION_SHARE else None
        return self.rng.choice(PARAPHRASES).format(q=self.rng.choice(pool or self.questions).rstrip("？?"))

    def _faq(self, visitor: chat.Visitor) -> Iterator[timedelta]:
        for _ in range(self.rng.randint(1, 3)):
            self.say(visitor, self._question())
            yield self.seconds(20, 120)

    def _vague(self, visitor: chat.Visitor) -> Iterator[timedelta]:
        turn = self.say(visitor, self.rng.choice(VAGUE))
        options = [o for reply in turn.replies for o in (reply.payload or {}).get("quick_replies", [])]
        yield self.seconds(10, 60)
        if options:
            self.say(visitor, self.rng.choice(options))
            yield self.seconds(20, 90)

    def _missed(self, visitor: chat.Visitor) -> Iterator[timedelta]:
        self.say(visitor, self.rng.choice(OUT_OF_SCOPE))
        yield self.seconds(20, 90)
        if self.rng.random() < 0.4:
            self.say(visitor, self.rng.choice(OUT_OF_SCOPE))
            yield self.seconds(20, 90)
        if self.rng.random() < 0.3:
            self.say(visitor, self.rng.choice(HUMAN_REQUESTS))

    def _recommend(self, visitor: chat.Visitor) -> Iterator[timedelta]:
        product = self.rng.choice(self.products)
        use = self.rng.choice(product.uses) if product.uses else ""
        turn = self.say(visitor, f"有没有适合{use}的{product.category}推荐一下")
        shown = [card["id"] for reply in turn.replies for card in (reply.payload or {}).get("products", [])]
        yield self.seconds(20, 120)
        if shown and self.status(visitor) == Conversation.Status.BOT:
            product = Product.objects.get(pk=self.rng.choice(shown))
            chat.show_product_details(visitor, product.pk)
            yield self.seconds(15, 90)
            if product.colors and self.rng.random() < 0.5:
                self.say(visitor, f"有{self.rng.choice(product.colors)}吗")
                yield self.seconds(15, 60)
        if visitor.customer is not None and self.rng.random() < 0.4:
            self.at(timezone.now() + self.seconds(300, 6 * 3600), self.buy(visitor.customer, product))

    def buy(self, customer: Customer, product: Product) -> Step:
        """Later on, the shopper orders what they asked about: most pay at once, some leave it unpaid."""
        self.place_order(customer, product, paid=self.rng.random() < 0.7)
        yield from ()

    def platform_order(self) -> Step:
        """A customer orders on the shop's platform without chatting and leaves it unpaid for now."""
        self.place_order(self.rng.choice(self.customers), self.rng.choice(self.products), paid=False)
        yield from ()

    def ask_refund(self, order: Order) -> Step:
        """Days later the shopper wants to return it: the shop's platform reports a refund request (no service
        stands for the platform: the row is written as the demo's orders are)."""
        yield timedelta(hours=self.rng.randint(20, 60))
        upsert_orders(self.shop, [{"external_id": order.external_id, "status": Order.Status.REFUND_REQUESTED}])
        Refund.objects.create(
            shop=self.shop, order=order, amount=order.paid_amount, reason=self.rng.choice(REFUND_REASONS)
        )

    def _order(self, visitor: chat.Visitor) -> Iterator[timedelta]:
        turn = self.say(visitor, self.rng.choice(ORDER_QUESTIONS))
        options = [o for reply in turn.replies for o in (reply.payload or {}).get("quick_replies", [])]
        yield self.seconds(15, 60)
        if options and self.rng.random() < 0.6:
            self.say(visitor, options[0])
            yield self.seconds(15, 60)
        if self.rng.random() < 0.2:
            self.say(visitor, self.rng.choice(HUMAN_REQUESTS))

    def _handoff(self, visitor: chat.Visitor) -> Iterator[timedelta]:
        if self.rng.random() < 0.5:
            self.say(visitor, self._question())
            yield self.seconds(20, 90)
        self.say(visitor, self.rng.choice(ANGRY) if self.rng.random() < 0.3 else self.rng.choice(HUMAN_REQUESTS))
        yield timedelta(0)

    def _served(self, visitor: chat.Visitor) -> Iterator[timedelta]:
        """A handed-over shopper: the agent the desk assigns answers and closes, and the shopper rates. Each
        step is taken by whoever serves the conversation then: an agent whose shift ends hands it back to
        the queue, and the next agent on duty takes it over."""
        conversation_id = self.conversation_id(visitor)
        # Mostly answered within the minute; now and then late (a QA finding).
        yield self.seconds(15, 50) if self.rng.random() < 0.8 else self.seconds(70, 240)
        agent = yield from self._serving_agent(conversation_id)
        if agent is None:
            return
        chat.agent_reply(agent, conversation_id, self.rng.choice(AGENT_OPENERS).format(name=agent.username))
        yield self.seconds(20, 90)
        self.say(visitor, self.rng.choice(SHOPPER_FOLLOW_UPS))
        yield self.seconds(30, 150)
        if (agent := (yield from self._serving_agent(conversation_id))) is None:
            return
        chat.agent_reply(agent, conversation_id, self.rng.choice(AGENT_ANSWERS))
        yield self.seconds(60, 180)
        if (agent := (yield from self._serving_agent(conversation_id))) is None:
            return
        chat.close_held_conversation(agent, conversation_id)
        if self.rng.random() < 0.7:
            yield self.seconds(10, 120)
            self.say(visitor, str(self.rng.choices([5, 4, 3, 2], [55, 25, 12, 8])[0]))

    def _serving_agent(self, conversation_id: int) -> Generator[timedelta, None, User | None]:
        """The agent serving the conversation, once one does (the shopper waits in the queue while every agent
        is busy or off duty); None when it ended otherwise or nobody came within two hours."""
        for _ in range(60):
            conversation = Conversation.objects.select_related("assigned_agent").get(pk=conversation_id)
            if conversation.status != Conversation.Status.WAITING:
                break
            yield timedelta(minutes=2)
        if conversation.status != Conversation.Status.AGENT:
            return None
        return conversation.assigned_agent

    # --- orders and campaigns ----------------------------------------------------------------------

    def place_order(self, customer: Customer, product: Product, *, paid: bool) -> Order:
        """An order from the shop's platform, as the open API's order sync receives it."""
        now = timezone.now()
        quantity = self.rng.randint(1, 2)
        total = product.price * quantity
        item = {
            "external_id": f"H{self.shop.slug[:2].upper()}{next(self.orders):05d}",
            "customer": customer,
            "status": Order.Status.PAID if paid else Order.Status.UNPAID,
            "total_amount": total,
            "paid_amount": total if paid else Decimal("0"),
            "receiver_name": customer.nickname[:10],
            "receiver_phone": customer.phone,
            "created_at": now,
            "paid_at": now if paid else None,
            "lines": [{"product": product, "title": product.title, "unit_price": product.price, "quantity": quantity}],
        }
        [(order, _)] = upsert_orders(self.shop, [item])
        if paid and self.rng.random() < 0.3:
            self.at(now, self.ask_refund(order))
        return order

    def campaign_scan(self) -> Step:
        """The shop's campaign scan (the beat task); some touched customers come back and buy, and fewer of the
        control group's, untouched, do so on their own."""
        now = timezone.now()
        scan_shop(self.shop, now)
        touches = Touch.objects.filter(shop=self.shop).select_related("customer", "order")
        sent = touches.filter(status=Touch.Status.SENT, sent_at=now)
        control = touches.filter(skip_reason=Touch.SkipReason.CONTROL, created_at=now)
        for chance, group in ((COMEBACK_TOUCHED, sent), (COMEBACK_CONTROL, control)):
            for touch in group.order_by("pk"):
                if self.rng.random() < chance:
                    self.at(now + self.seconds(600, 30 * 3600), self.comeback(touch))
        yield from ()

    def comeback(self, touch: Touch) -> Step:
        """A touched customer pays their unpaid order in the shop's app; or replies in the chat and orders anew;
        or, asked to keep what they wanted to return, keeps it (the platform reports the refund withdrawn). A
        control customer does the same unprompted."""
        unpaid = Order.objects.filter(pk=touch.order_id, status=Order.Status.UNPAID).first() if touch.order_id else None
        if unpaid is not None:
            yield self.seconds(120, 1800)  # reminded (or not), the customer pays in the shop's app
            self.pay(unpaid)
            return
        visitor = chat.open_visitor(self.shop, customer=touch.customer)
        if touch.refund_id is not None:
            self.say(visitor, self.rng.choice(KEEP))
            yield self.seconds(120, 1800)
            refund = Refund.objects.select_related("order").get(pk=touch.refund_id)
            if refund.status == Refund.Status.REQUESTED:
                Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.WITHDRAWN, resolved_at=timezone.now())
                upsert_orders(self.shop, [{"external_id": refund.order.external_id, "status": Order.Status.COMPLETED}])
            yield from self.finish(visitor, self._score("comeback"))
            return
        self.say(visitor, self.rng.choice(COMEBACK))
        yield self.seconds(120, 1800)
        self.place_order(touch.customer, touch.product or self.rng.choice(self.products), paid=True)
        yield from self.finish(visitor, self._score("comeback"))

    def pay(self, order: Order) -> None:
        upsert_orders(
            self.shop,
            [
                {
                    "external_id": order.external_id,
                    "status": Order.Status.PAID,
                    "paid_amount": order.total_amount,
                    "paid_at": timezone.now(),
                }
            ],
        )


def played(shop: Shop) -> bool:
    return Conversation.objects.filter(shop=shop).exists()


def load_demo(days: int = DAYS) -> list[tuple[str, int]] | None:
    """Play ``days`` days of history into every demo shop that has no conversations yet; returns each
    demo shop's slug with its conversations afterwards. None, playing nothing, inside a transaction: the
    services act after their commits (assignment, QA inspection, campaign sends), which would all wait
    for the end of the caller's transaction."""
    if connection.in_atomic_block:
        return None
    shops = Shop.objects.filter(slug__in=DEMO_SHOPS).order_by("pk")
    now = timezone.now()
    with _tasks_in_process():
        for shop in shops:
            if days and not played(shop):
                Player(shop, days, now).play()
    return [(shop.slug, Conversation.objects.filter(shop=shop).count()) for shop in shops]
