"""Benchmark of the inspection engine: messages inspected per second on one core, p50/p99, memory.

Runs the same ``CompiledRules.inspect`` the chat path runs, on in-memory messages, against the default
rule set plus a large list of extra banned words (a shop's real list runs to hundreds of entries).

The floor, in the same process right after: a bare pyahocorasick automaton of the same words scanning the
same messages' raw text in the same timed loop (no folding, no rules); ``ratio=`` is Shopbee's inspection
throughput over the floor's.
"""

import gc
import random
import resource
import time
import tracemalloc
from array import array
from collections.abc import Callable, Sized
from typing import Any

import ahocorasick
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analytics.default_rules import DEFAULT_RULES
from analytics.models import QARule
from analytics.rule_kinds import KINDS
from analytics.services.rules import CompiledRules, MessageFacts, RuleSpec, split_words
from chat.intents import Intent
from devtools.stats import percentile

PRODUCTS = ["缓震跑步鞋", "速干T恤", "瑜伽裤", "羽绒服", "连衣裙", "洗衣凝珠", "厨房湿巾", "篮球鞋", "防晒衣", "双肩包"]
SHOPPER_LINES = [
    "{p}有{n}码吗",
    "这个{p}什么时候发货",
    "我的快递到哪了，单号{order}",
    "能便宜点吗，买两件{p}",
    "在吗？？",
    "這件{p}有黑色嗎",
    "{p}会不会起球",
    "地址写错了，改成浙江省杭州市西湖区文三路{n}号",
    "发票怎么开",
    "我要投诉，{p}质量太差了！",
    "你们是骗子吧，退钱",
    "好的谢谢",
    "ＯＫ，已经下单了",
    "尺码偏大还是偏小",
]
BOT_LINES = [
    "亲，{p}有{n}码的哦，现在下单48小时内发货",
    "您的订单{order}已由顺丰发出，预计明天送达",
    "这款{p}采用速干面料，洗后不易变形",
    "抱歉，我没有理解您的问题，可以换个说法吗？",
    "为您推荐以下{p}，点击卡片查看详情",
    "我们保证正品，假一赔十",
    "正在为您转接人工客服，请稍候",
]
AGENT_LINES = [
    "亲，我帮您查一下{p}的库存，请稍等",
    "您好，地址已经帮您修改好了",
    "这款{p}绝对不会掉色，百分百纯棉",
    "您可以加我微信，电话{phone}",
    "麻烦提供一下身份证号，比如 11010519491231002X 这样的格式",
    "不好意思让您久等了，{p}今天下午就能发出",
    "爱买不买，别烦我",
    "您说的问题我已经记录，给您申请了5元优惠券",
    "好的亲，还有其他问题吗？",
]
# Common characters: extra banned words are random 2-4 character strings of them.
CHARACTERS = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长"
    "知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太"
)


def random_words(rng: random.Random, count: int) -> list[str]:
    return ["".join(rng.choices(CHARACTERS, k=rng.randint(2, 4))) for _ in range(count)]


def realistic_rules(extra_words: int, rng: random.Random) -> list[RuleSpec]:
    specs = [
        RuleSpec(
            id=n,
            name=name,
            kind=kind,
            severity=severity,
            words=tuple(split_words("\n".join(words))) if KINDS[kind].words_help is not None else (),
            threshold=threshold,
        )
        for n, (name, kind, severity, words, threshold) in enumerate(DEFAULT_RULES, start=1)
    ]
    extra = RuleSpec(
        id=len(specs) + 1,
        name="扩展禁词",
        kind=QARule.Kind.BANNED_WORDS,
        severity="medium",
        words=tuple(split_words("\n".join(random_words(rng, extra_words)))),
    )
    return [*specs, extra]


def random_message(rng: random.Random) -> MessageFacts:
    fill = {
        "p": rng.choice(PRODUCTS),
        "n": rng.randint(35, 46),
        "order": f"NO{rng.randint(10**9, 10**10 - 1)}",
        "phone": f"1{rng.choice('3456789')}{rng.randint(10**8, 10**9 - 1)}",
    }
    roll = rng.random()
    if roll < 0.5:
        return MessageFacts(text=rng.choice(SHOPPER_LINES).format(**fill), sender="shopper")
    if roll < 0.8:
        text = rng.choice(BOT_LINES).format(**fill)
        fallback = text.startswith("抱歉")
        return MessageFacts(
            text=text,
            sender="bot",
            intent=Intent.FALLBACK if fallback else Intent.FAQ,
            fallback_streak=rng.randint(1, 4),
        )
    return MessageFacts(
        text=rng.choice(AGENT_LINES).format(**fill),
        sender="agent",
        wait_seconds=rng.uniform(1, 400),
        first_agent_reply=rng.random() < 0.1,
    )


class Command(BaseCommand):
    help = "Benchmark QA inspection: messages per second on one core, p50/p99 per message, memory."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--messages", type=int, default=1_000_000)
        parser.add_argument("--distinct", type=int, default=100_000, help="Distinct generated messages, cycled.")
        parser.add_argument("--extra-words", type=int, default=2_000, help="Extra banned words in the rule set.")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, messages: int, distinct: int, extra_words: int, seed: int, **options) -> None:
        if messages < 1 or distinct < 1 or extra_words < 0:
            raise CommandError("--messages and --distinct must be positive, --extra-words not negative.")
        rng = random.Random(seed)
        tracemalloc.start()
        started = time.perf_counter()
        rules = CompiledRules(realistic_rules(extra_words, rng))
        compile_seconds = time.perf_counter() - started
        compiled_bytes = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        pool = [random_message(rng) for _ in range(min(distinct, messages))]
        word_count = sum(len(rule.words) for rule in rules.rules)
        self.stdout.write(
            f"rules: {len(rules.rules)} ({word_count} words), compiled in {compile_seconds * 1000:.1f} ms, "
            f"{compiled_bytes / 1024:.0f} KiB; {len(pool):,} distinct messages"
        )

        automaton = ahocorasick.Automaton()
        for word in {word for rule in rules.rules for word in rule.words}:
            automaton.add_word(word, word)
        automaton.make_automaton()
        texts = [facts.text for facts in pool]
        (durations, hits, wall), (floor_durations, floor_hits, _) = self._time(
            [(rules.inspect, pool), (lambda text: list(automaton.iter(text)), texts)], messages
        )

        p50 = percentile(durations, 0.5) / 1000
        p99 = percentile(durations, 0.99) / 1000
        inspecting = sum(durations) / 1e9
        floor_rate = messages / (sum(floor_durations) / 1e9)
        max_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"messages inspected: {messages:,} ({hits:,} findings)")
        self.stdout.write(f"throughput (wall, loop included): {messages / wall:,.0f} messages/s")
        self.stdout.write(f"throughput (inspection only):     {messages / inspecting:,.0f} messages/s")
        self.stdout.write(f"per message: p50 {p50:.1f} µs, p99 {p99:.1f} µs, max {max(durations) / 1000:.1f} µs")
        self.stdout.write(
            f"floor (bare pyahocorasick, same {word_count} words and messages): {floor_rate:,.0f} messages/s "
            f"({floor_hits:,} matches); p50 {percentile(floor_durations, 0.5) / 1000:.1f} µs"
        )
        self.stdout.write(
            f"bench qa_inspection figure={messages / inspecting:.0f} floor={floor_rate:.0f} unit=msg/s "
            f"ratio={messages / inspecting / floor_rate:.2f} goal>=0.5"
        )
        self.stdout.write(f"memory: max RSS {max_rss_mib:.0f} MiB")

    @staticmethod
    def _time(contestants: list[tuple[Callable[[Any], Sized], list]], messages: int) -> list[tuple[array, int, float]]:
        """Run each contestant's function on ``messages`` items cycled from its pool, taking turns by blocks of
        10,000 so that both meet the same machine (other load comes and goes); per contestant: each call's ns,
        the results' total length, and the wall time of its loops."""
        results = [(array("q", bytes(8 * messages)), [0], [0.0]) for _ in contestants]
        clock = time.perf_counter_ns
        gc.disable()  # the loop allocates only short-lived objects; keep collector pauses out of p99
        with tqdm(total=messages, desc="inspecting and floor", unit="msg", unit_scale=True, mininterval=0.5) as bar:
            for start in range(0, messages, 10_000):
                block = range(start, min(start + 10_000, messages))
                for (inspect, pool), (durations, hits, wall) in zip(contestants, results, strict=True):
                    size = len(pool)
                    began = time.perf_counter()
                    for n in block:
                        item = pool[n % size]
                        before = clock()
                        hits[0] += len(inspect(item))
                        durations[n] = clock() - before
                    wall[0] += time.perf_counter() - began
                bar.update(len(block))
        gc.enable()
        return [(durations, hits[0], wall[0]) for durations, hits, wall in results]
