"""Benchmark: index build time, memory and per-question answer latency on a synthetic shop of N cards.

The measured build is the process's first (cold: no text or segmentation cached yet, jieba's dictionary
loaded as every worker loads it when it starts); a second, warm build is printed beside it. The floor, in the
same process: bm25s (a benchmark-only dependency, requirements-bench.txt) indexing the same texts cut by
jieba, and answering the same questions (jieba cut + top 5); ``ratio=`` is Shopbee's time over the floor's.
"""

import os
import random
import time
from pathlib import Path

import jieba
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from core.caching import bump
from core.models import ChangeStamp
from core.runtime import settle_worker_memory
from devtools.stats import percentile
from knowledge.engine import Index, load_dictionary
from knowledge.impact import PREVIEW_QUESTIONS, CardDraft, preview
from knowledge.models import AnswerLog, AnswerOutcome, FAQCard, SimilarQuestion
from knowledge.services import answer_question, shop_index
from shops.models import Shop

PRODUCTS = [
    "跑步鞋",
    "篮球鞋",
    "板鞋",
    "老爹鞋",
    "训练鞋",
    "速干T恤",
    "紧身衣",
    "运动短裤",
    "瑜伽裤",
    "冲锋衣",
    "皮肤衣",
    "卫衣",
    "羽绒服",
    "运动袜",
    "双肩包",
    "腰包",
    "护膝",
    "水壶",
    "瑜伽垫",
    "毛巾",
    "发带",
    "连衣裙",
    "衬衫",
    "打底衫",
    "羊绒衫",
    "开衫",
    "阔腿裤",
    "牛仔裤",
    "铅笔裤",
    "半身裙",
    "大衣",
    "风衣",
    "西装",
    "睡衣",
    "丝巾",
    "贝雷帽",
    "腰带",
    "消毒液",
    "除菌液",
    "消毒片",
    "消毒喷雾",
    "湿巾",
    "酒精",
    "洗衣液",
    "洗衣凝珠",
    "彩漂粉",
    "柔顺剂",
    "重油污清洁剂",
    "洗洁精",
    "洗碗块",
    "清洁膏",
    "洁厕灵",
    "瓷砖清洁剂",
    "除霉啫喱",
    "疏通剂",
    "地板清洁剂",
    "玻璃清洁剂",
    "除螨喷雾",
    "空气清新剂",
    "果蔬清洗剂",
    "马桶刷",
    "抹布",
    "拖把",
]
VARIANTS = [
    "黑色",
    "白色",
    "红色",
    "蓝色",
    "灰色",
    "粉色",
    "大号",
    "小号",
    "家庭装",
    "旅行装",
    "儿童款",
    "男款",
    "女款",
    "限量款",
    "新款",
    "经典款",
]
TOPICS = [
    ("什么时候发货", "多久能发出来"),
    ("包邮吗", "要不要运费"),
    ("尺码偏大还是偏小", "码数准不准"),
    ("能开发票吗", "可以开票吗"),
    ("怎么清洗", "能不能机洗"),
    ("质保多久", "坏了能修吗"),
    ("还有货吗", "什么时候补货"),
    ("可以退货吗", "不喜欢能退吗"),
    ("有优惠券吗", "有没有折扣"),
    ("预售什么时候发", "定金能退吗"),
    ("是正品吗", "会不会是假货"),
    ("怎么使用", "用法是什么"),
    ("保质期多久", "能放多久"),
    ("适合什么人", "小孩能用吗"),
    ("材质是什么", "什么面料"),
]
OUT_OF_SCOPE = ["今天天气怎么样", "帮我订张机票", "你们招聘吗", "讲个笑话", "股票怎么买", "附近有什么好吃的"]


def _rss_mb() -> float:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Build a synthetic shop of N cards and print index build time, memory and p50/p99 answer latency."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cards", type=int, default=10_000)
        parser.add_argument("--questions", type=int, default=2_000)
        parser.add_argument("--keep", action="store_true", help="keep the synthetic shop instead of rolling back")
        parser.add_argument(
            "--previews",
            type=int,
            default=5,
            help=f"impact previews of one card change over {PREVIEW_QUESTIONS} logged questions (0: none)",
        )

    def handle(self, *args, cards: int, questions: int, keep: bool, previews: int, **options) -> None:
        if cards < 1 or questions < 1 or previews < 0:
            raise CommandError("--cards and --questions must be positive, --previews at least 0.")
        rng = random.Random(42)
        with transaction.atomic():
            shop, _ = Shop.objects.get_or_create(slug=f"bench-{cards}", defaults={"name": f"基准测试店铺 {cards}"})
            FAQCard.objects.filter(shop=shop).delete()
            specs = self._specs(cards, rng)
            self._create(shop, specs)
            bump(shop.pk, ChangeStamp.Kind.KNOWLEDGE)  # bulk_create sends no signal

            # As every worker starts (config.asgi): jieba's dictionary loaded, then the worker's collector settings.
            load_dictionary()
            settle_worker_memory()
            rss_before = _rss_mb()
            started, started_cpu = time.perf_counter(), time.thread_time()
            index: Index = shop_index(shop)
            build, build_cpu = time.perf_counter() - started, time.thread_time() - started_cpu
            rss_after = _rss_mb()
            bump(shop.pk, ChangeStamp.Kind.KNOWLEDGE)
            started = time.perf_counter()
            index = shop_index(shop)
            warm_build = time.perf_counter() - started

            asked = self._questions(specs, questions, rng)
            floor_build, floor_build_cpu, floor_search, floor_search_cpu = self._floor(index.doc_text, asked)
            # Wall time includes waiting for a busy CPU; thread CPU time is what the engine itself costs.
            timings: dict[str, list[float]] = {"answer wall": [], "answer cpu": [], "search wall": [], "search cpu": []}
            for text in tqdm(asked, desc="answering", unit="q"):
                wall, cpu = time.perf_counter(), time.thread_time()
                answer_question(shop, text, record=False)
                timings["answer wall"].append((time.perf_counter() - wall) * 1000)
                timings["answer cpu"].append((time.thread_time() - cpu) * 1000)
                wall, cpu = time.perf_counter(), time.thread_time()
                index.search(text)
                timings["search wall"].append((time.perf_counter() - wall) * 1000)
                timings["search cpu"].append((time.thread_time() - cpu) * 1000)
            preview_seconds = self._previews(shop, specs, previews, rng) if previews else ([], [])
            if not keep:
                transaction.set_rollback(True)

        self.stdout.write(f"cards={cards} indexed questions={index.n_docs} vocabulary={len(index.term_idf)}")
        self.stdout.write(
            f"index build (first, cold): {build:.3f} s wall, {build_cpu:.3f} s cpu; second (warm) {warm_build:.3f} s; "
            f"process RSS +{rss_after - rss_before:.1f} MB (now {rss_after:.0f} MB)"
        )
        self.stdout.write(
            f"{questions} questions; answer = version check + search + decision, search = index alone; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        for label, values in timings.items():
            self.stdout.write(f"{label:<12} p50={percentile(values, 0.5):.3f} ms p99={percentile(values, 0.99):.3f} ms")
        for label, values in zip(("wall", "cpu"), preview_seconds, strict=True):
            if values:
                self.stdout.write(
                    f"impact preview {label:<4} one card change over {PREVIEW_QUESTIONS} logged questions: "
                    f"first {values[0]:.3f} s, next p50={percentile(values[1:] or values, 0.5):.3f} s "
                    f"max={max(values):.3f} s ({len(values)} changes)"
                )
        self.stdout.write(
            f"floor (bm25s, jieba tokens, same texts and questions): build {floor_build:.3f} s wall, "
            f"{floor_build_cpu:.3f} s cpu; search wall p50={percentile(floor_search, 0.5):.3f} ms "
            f"p99={percentile(floor_search, 0.99):.3f} ms, cpu p50={percentile(floor_search_cpu, 0.5):.3f} ms "
            f"p99={percentile(floor_search_cpu, 0.99):.3f} ms"
        )
        # The ratios compare CPU time: on a machine shared with other work, wall time mostly measures the
        # waiting for a core, which neither side controls.
        search = timings["search cpu"]
        for name, figure, floor, unit in (
            (f"index_build_{cards}_cold", build_cpu, floor_build_cpu, "s_cpu"),
            (f"search_p50_{cards}", percentile(search, 0.5), percentile(floor_search_cpu, 0.5), "ms_cpu"),
            (f"search_p99_{cards}", percentile(search, 0.99), percentile(floor_search_cpu, 0.99), "ms_cpu"),
        ):
            self.stdout.write(
                f"bench {name} figure={figure:.3f} floor={floor:.3f} unit={unit} ratio={figure / floor:.2f} goal<=1.5"
            )

    def _floor(self, texts: list[str], asked: list[str]) -> tuple[float, float, list[float], list[float]]:
        """bm25s over ``texts`` cut by jieba: the build's wall and CPU seconds, and each question's wall and
        CPU milliseconds."""
        import bm25s  # a benchmark-only dependency (requirements-bench.txt)

        started, started_cpu = time.perf_counter(), time.thread_time()
        corpus = [[w for w in jieba.lcut(text) if w.strip()] for text in texts]
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
        build, build_cpu = time.perf_counter() - started, time.thread_time() - started_cpu
        vocabulary = retriever.vocab_dict
        wall, cpu = [], []
        for text in tqdm(asked, desc="floor (bm25s)", unit="q"):
            started, started_cpu = time.perf_counter(), time.thread_time()
            tokens = [w for w in jieba.lcut(text) if w in vocabulary]
            if tokens:
                retriever.retrieve([tokens], k=5, show_progress=False, n_threads=0)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
        return build, build_cpu, wall, cpu

    def _previews(self, shop: Shop, specs, count: int, rng: random.Random) -> tuple[list[float], list[float]]:
        """Log PREVIEW_QUESTIONS shopper questions, then time previews of adding a similar question to a card
        (wall and CPU seconds; the first preview of a saved index also reads every text once)."""
        logged = self._questions(specs, PREVIEW_QUESTIONS, rng)
        AnswerLog.objects.bulk_create(
            AnswerLog(shop=shop, question=text, score=0.5, outcome=AnswerOutcome.ANSWER) for text in logged
        )
        cards = list(FAQCard.objects.filter(shop=shop).order_by("pk")[:count])
        wall: list[float] = []
        cpu: list[float] = []
        for card in tqdm(cards, desc="impact previews", unit="change"):
            similar = tuple(card.similar_questions.values_list("text", flat=True))
            draft = CardDraft(card.pk, card.question, card.answer, similar=(*similar, rng.choice(logged)))
            started, started_cpu = time.perf_counter(), time.thread_time()
            preview(shop, draft)
            wall.append(time.perf_counter() - started)
            cpu.append(time.thread_time() - started_cpu)
        return wall, cpu

    def _specs(self, count: int, rng: random.Random) -> list[tuple[str, list[str]]]:
        specs: list[tuple[str, list[str]]] = []
        seen: set[str] = set()
        combos = [(p, v, t) for p in PRODUCTS for v in VARIANTS for t in TOPICS]
        rng.shuffle(combos)
        for product, variant, (topic, alternative) in combos:
            question = f"{variant}{product}{topic}"
            if question in seen:
                continue
            seen.add(question)
            specs.append((question, [f"{product}{variant}{alternative}", f"这个{product}{topic}"]))
            if len(specs) == count:
                return specs
        n = 0
        while len(specs) < count:  # beyond every combination: numbered model lines
            n += 1
            product, variant, (topic, alternative) = combos[n % len(combos)]
            specs.append((f"{product}{n}号{variant}{topic}", [f"{product}{n}号{alternative}"]))
        return specs

    def _create(self, shop: Shop, specs: list[tuple[str, list[str]]]) -> None:
        batch = 1000
        for start in tqdm(range(0, len(specs), batch), desc="creating cards", unit="batch"):
            chunk = specs[start : start + batch]
            created = FAQCard.objects.bulk_create(
                FAQCard(shop=shop, question=q, answer=f"关于“{q}”的标准答案。", category="基准") for q, _ in chunk
            )
            SimilarQuestion.objects.bulk_create(
                SimilarQuestion(card=card, text=text)
                for card, (_, similar) in zip(created, chunk, strict=True)
                for text in similar
            )

    def _questions(self, specs, count: int, rng: random.Random) -> list[str]:
        asked = []
        for _ in range(count):
            if rng.random() < 0.1:
                asked.append(rng.choice(OUT_OF_SCOPE))
                continue
            question, similar = rng.choice(specs)
            text = rng.choice([question, *similar])
            asked.append(f"亲，{text}？" if rng.random() < 0.5 else text)
        return asked
