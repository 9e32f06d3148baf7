"""Flood benchmark: does a flood on one shop slow down another shop's shoppers? Against a running server.

    python manage.py bench_flood --url ws://127.0.0.1:8123 --flood-shop swift-sports --shop lanyi-women

Opens ``--flood-sockets`` sockets on the flooded shop (each its own visitor, or all one visitor with
``--one-visitor``) that together offer ``--flood-rate`` messages a second, as fast as the server lets
them, while ``--shoppers`` normal shoppers of the other shop each ask a question every ``--interval-ms``
and wait for the answer. Prints the other shop's p50/p99 round trip (question sent to first reply) and
how many flood messages were acknowledged and refused (``rate_limited``). Starts no server itself.
"""

import asyncio
import json
import math
import time
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand
from tqdm import tqdm
from websockets.asyncio.client import connect

from devtools.stats import percentile

QUESTIONS = ["什么时候发货", "包邮吗", "可以开发票吗", "用什么快递", "几天能到", "怎么退换货"]


@dataclass
class Tally:
    round_trips: list[float] = field(default_factory=list)
    flood_acked: int = 0
    flood_refused: int = 0
    flood_sent: int = 0
    shopper_errors: int = 0


class Command(BaseCommand):
    help = "Flood one shop's shopper socket and measure another shop's round trip (against a running server)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="ws://127.0.0.1:8000", help="the server's ws:// base")
        parser.add_argument("--flood-shop", required=True, help="slug of the flooded shop")
        parser.add_argument("--shop", required=True, help="slug of the other shop, whose shoppers are measured")
        parser.add_argument("--flood-sockets", type=int, default=100)
        parser.add_argument("--flood-rate", type=float, default=500.0, help="flood messages offered per second")
        parser.add_argument("--one-visitor", action="store_true", help="every flood socket on one visitor token")
        parser.add_argument("--shoppers", type=int, default=20)
        parser.add_argument("--interval-ms", type=int, default=2000, help="each normal shopper asks this often")
        parser.add_argument("--duration", type=float, default=20.0, help="seconds of flood")

    def handle(self, *args, **options) -> None:
        tally = Tally()
        with tqdm(total=options["duration"], unit="s", desc="flood", disable=None) as progress:
            asyncio.run(self.run(options, tally, progress))
        trips = [t * 1000 for t in tally.round_trips]
        self.stdout.write(
            f"other shop: answers={len(trips)} p50_ms={percentile(trips, 0.5):.1f} "
            f"p99_ms={percentile(trips, 0.99):.1f} errors={tally.shopper_errors}"
        )
        self.stdout.write(
            f"flood: sent={tally.flood_sent} acked={tally.flood_acked} refused={tally.flood_refused} "
            f"offered_per_s={options['flood_rate']:.0f} acked_per_s={tally.flood_acked / options['duration']:.1f}"
        )

    async def run(self, options: dict, tally: Tally, progress: tqdm) -> None:
        base = options["url"].rstrip("/")
        origin = base.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
        deadline = math.inf  # set once every socket is open

        async def open_socket(slug: str, visitor: str = ""):
            socket = await connect(f"{base}/ws/chat/{slug}/?visitor={visitor}", origin=origin, max_queue=None)
            welcome = json.loads(await socket.recv())
            return socket, welcome["visitor"]

        async def flood(socket, number: int) -> None:
            pause = options["flood_sockets"] / options["flood_rate"]

            async def read() -> None:
                async for raw in socket:
                    frame = json.loads(raw)
                    if frame["type"] == "ack":
                        tally.flood_acked += 1
                    elif frame["type"] == "error" and frame["code"] == "rate_limited":
                        tally.flood_refused += 1

            reader = asyncio.create_task(read())
            sent = 0
            while time.monotonic() < deadline:
                await socket.send(
                    json.dumps(
                        {
                            "type": "message",
                            "text": QUESTIONS[sent % len(QUESTIONS)],
                            "client_msg_id": f"f{number}-{sent}",
                        }
                    )
                )
                sent += 1
                tally.flood_sent += 1
                await asyncio.sleep(pause)
            await asyncio.sleep(2)  # the last answers
            reader.cancel()
            await socket.close()

        async def shopper(number: int) -> None:
            socket, _ = await open_socket(options["shop"])
            await asyncio.sleep(number * options["interval_ms"] / 1000 / options["shoppers"])
            asked = 0
            while time.monotonic() < deadline:
                started = time.monotonic()
                await socket.send(
                    json.dumps(
                        {"type": "message", "text": QUESTIONS[asked % len(QUESTIONS)], "client_msg_id": f"s{asked}"}
                    )
                )
                asked += 1
                acked = None  # this question's message id: its answer is the first message after it
                while True:
                    frame = json.loads(await socket.recv())
                    if frame["type"] == "ack" and frame["client_msg_id"] == f"s{asked - 1}":
                        acked = frame["id"]
                    elif frame["type"] == "message" and acked is not None and frame["id"] > acked:
                        tally.round_trips.append(time.monotonic() - started)
                        break
                    elif frame["type"] == "error":
                        tally.shopper_errors += 1
                        break
                await asyncio.sleep(max(0.0, options["interval_ms"] / 1000 - (time.monotonic() - started)))
            await socket.close()

        async def tick() -> None:
            while time.monotonic() < deadline:
                await asyncio.sleep(1)
                progress.update(1)

        first, visitor = await open_socket(options["flood_shop"])
        flooders = [first] + [
            (await open_socket(options["flood_shop"], visitor if options["one_visitor"] else ""))[0]
            for _ in range(options["flood_sockets"] - 1)
        ]
        deadline = time.monotonic() + options["duration"]
        await asyncio.gather(
            tick(),
            *(flood(socket, n) for n, socket in enumerate(flooders)),
            *(shopper(n) for n in range(options["shoppers"])),
        )
