#!/usr/bin/env python3
"""A complete marketplace bridge for Shopbee's channel API, standard library only.

A real bridge sits between a marketplace's messaging (千牛, 抖店飞鸽, 京麦, 拼多多商家后台 ...) and Shopbee:
it hands each shopper message to Shopbee and posts Shopbee's replies back to the marketplace. Here the
marketplace is your terminal: type as the shopper; Shopbee's bot (and, after a hand-off, its agents)
answer through the webhook this script serves.

    export SHOPBEE_URL=https://shopbee.example.com    # where Shopbee runs
    export SHOPBEE_API_KEY=sb_xxxxxxxx_...             # an API key of the shop with the channels:write scope
    export SHOPBEE_CHANNEL_ID=3                        # the channel connection's id (admin: Open platform → Channels)
    export SHOPBEE_SIGNING_SECRET=...                  # shown on that connection's page
    python docs/example_bridge.py --listen 0.0.0.0:8765
    # and set the connection's "Bridge URL" to http://<this host>:8765/shopbee

What it shows: messages handed in with the marketplace's own conversation and message ids (a message sent
twice is stored once: retry freely on a network error), Shopbee's webhooks checked (signature, timestamp)
and de-duplicated on X-Shopbee-Delivery (a delivery whose answer got lost arrives again), and every event
answered 2xx only once it is handled (anything else makes Shopbee retry the same event later; the
conversation's later events wait behind it, so they always arrive in order).
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SHOPBEE_URL = os.environ.get("SHOPBEE_URL", "http://127.0.0.1:8000").rstrip("/")
API_KEY = os.environ.get("SHOPBEE_API_KEY", "")
CHANNEL_ID = os.environ.get("SHOPBEE_CHANNEL_ID", "")
SIGNING_SECRET = os.environ.get("SHOPBEE_SIGNING_SECRET", "")
MAX_CLOCK_SKEW = 300  # seconds: older signed events are refused (a replay)

seen_deliveries: set[str] = set()  # a real bridge keeps these in its database, with the forwarded message
seen_lock = threading.Lock()


def hand_in(conversation_id: str, message_id: str, sender: str, text: str, attempts: int = 5) -> dict:
    """POST one shopper message to Shopbee; retried on network errors and 5xx (the message id makes that safe)."""
    body = json.dumps(
        {"conversation_id": conversation_id, "message_id": message_id, "sender": sender, "text": text}
    ).encode()
    request = urllib.request.Request(
        f"{SHOPBEE_URL}/api/v1/channels/{CHANNEL_ID}/messages",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.load(answer)  # 201: stored and answered; 200: a repeat, nothing done
        except urllib.error.HTTPError as error:
            if error.code < 500 and error.code != 429:
                raise SystemExit(f"Shopbee refused the message: {error.code} {error.read().decode()}") from None
        except OSError:
            pass
        time.sleep(min(2**attempt, 30))
    raise SystemExit("Shopbee cannot be reached")


def signature_ok(headers, body: bytes) -> bool:
    timestamp = headers.get("X-Shopbee-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW:
        return False
    digest = hmac.new(SIGNING_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={digest}", headers.get("X-Shopbee-Signature", ""))


def post_to_marketplace(event: dict) -> None:
    """Where a real bridge calls the marketplace's send-message API. Here: print it."""
    data = event["data"]
    if event["event"] == "message":
        message = data["message"]
        who = {"bot": "机器人", "agent": f"客服 {message['agent']}", "system": "系统"}.get(message["sender"], "")
        print(f"\n[{data['conversation']['external_id']}] {who}: {message['text']}\n> ", end="", flush=True)
    elif event["event"] == "conversation.closed":
        print(f"\n[{data['conversation']['external_id']}] 会话已结束\n> ", end="", flush=True)
    # "ping" (the admin's test button) needs nothing but the 2xx.


class Webhook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 1_000_000))
        if not signature_ok(self.headers, body):
            self.send_response(401)
            self.end_headers()
            return
        delivery = self.headers["X-Shopbee-Delivery"]
        with seen_lock:
            repeat = delivery in seen_deliveries
        if not repeat:
            try:
                post_to_marketplace(json.loads(body))
            except Exception:
                self.send_response(503)  # Shopbee retries this event; later ones of the conversation wait
                self.end_headers()
                return
            with seen_lock:
                seen_deliveries.add(delivery)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:8765", help="host:port for Shopbee's webhooks")
    parser.add_argument("--conversation", default="demo-buyer-1", help="the marketplace's conversation id")
    args = parser.parse_args()
    if not (API_KEY and CHANNEL_ID and SIGNING_SECRET):
        sys.exit("Set SHOPBEE_API_KEY, SHOPBEE_CHANNEL_ID and SHOPBEE_SIGNING_SECRET (see the top of this file).")
    host, port = args.listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"Webhooks on http://{args.listen}/shopbee — type as the shopper (Ctrl-D to stop).\n> ", end="", flush=True)
    for line in sys.stdin:
        if line.strip():
            hand_in(args.conversation, uuid.uuid4().hex, "终端买家", line.strip())
    server.shutdown()


if __name__ == "__main__":
    main()
