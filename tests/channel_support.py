"""Real local servers for the channel tests: a marketplace bridge receiving Shopbee's signed webhooks, and a
WeCom server implementing the customer-service API as WeCom documents it (gettoken, kf/sync_msg,
kf/send_msg) that sends its callbacks encrypted with WeCom's scheme."""

import json
import secrets
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from chat.channels.wecom_crypto import WeComCrypto
from core.outbound import sign


class _Server:
    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                code, answer = owner.handle(self.command, self.path, dict(self.headers), body)
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, bytes]:
        raise NotImplementedError

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Bridge(_Server):
    """A marketplace bridge: checks each webhook's signature, answers 503 while ``down``, and keeps what it
    accepted in arrival order, de-duplicated on ``X-Shopbee-Delivery`` as docs/api.md tells bridges to."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.down = False
        self.refused = 0  # attempts answered 503
        self.forged = 0  # requests whose signature did not verify
        self.accepted: list[dict] = []  # the events, once each, in the order they were accepted
        self.seen: set[str] = set()
        self.repeats = 0
        self.lose_answers = 0  # events taken whose answer is then lost (a 503 instead of the 200)
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}/shopbee"

    def handle(self, method, path, headers, body):
        with self.lock:
            if self.down:
                self.refused += 1
                return 503, b"{}"
            timestamp = headers.get("X-Shopbee-Timestamp", "")
            if headers.get("X-Shopbee-Signature") != sign(self.secret, timestamp, body):
                self.forged += 1
                return 401, b"{}"
            delivery = headers["X-Shopbee-Delivery"]
            if delivery in self.seen:
                self.repeats += 1
            else:
                self.seen.add(delivery)
                self.accepted.append(json.loads(body))
            if self.lose_answers:
                self.lose_answers -= 1
                return 503, b"{}"
            return 200, b"{}"

    def texts(self) -> list[str]:
        return [event["data"]["message"]["text"] for event in self.accepted if event["event"] == "message"]


# A callback key as WeCom's console generates them (43 characters).
WECOM_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


class WeComServer(_Server):
    """WeCom's customer-service API for one corp: tokens that expire when told, a message log read with
    cursors, sent messages kept, scripted error codes, and callbacks posted encrypted."""

    def __init__(self, corp_id: str, secret: str, token: str, aes_key: str) -> None:
        self.corp_id, self.secret = corp_id, secret
        self.crypto = WeComCrypto(token, aes_key, corp_id)
        self.tokens: list[str] = []  # every access token issued, in order
        self.live_tokens: set[str] = set()
        self.log: list[dict] = []  # every message and event, the cursor is an index into it
        self.sent: list[dict] = []
        self.sync_bodies: list[dict] = []
        self.send_errors: list[int] = []  # errcodes the next send_msg calls answer
        self.sent_msgids: set[str] = set()
        super().__init__()
        self.base = f"http://127.0.0.1:{self.port}"

    def expire_tokens(self) -> None:
        with self.lock:
            self.live_tokens.clear()

    def shopper_writes(self, external_userid: str, text: str, *, open_kfid: str = "wkSHOP", msgid: str = "") -> dict:
        message = {
            "msgid": msgid or secrets.token_hex(8),
            "open_kfid": open_kfid,
            "external_userid": external_userid,
            "send_time": int(time.time()),
            "origin": 3,
            "msgtype": "text",
            "text": {"content": text},
        }
        with self.lock:
            self.log.append(message)
        return message

    def _token_error(self, query: dict) -> bytes | None:
        token = query.get("access_token", [""])[0]
        if token in self.live_tokens:
            return None
        code = 42001 if token in self.tokens else 40014
        return json.dumps({"errcode": code, "errmsg": "access_token expired"}).encode()

    def handle(self, method, path, headers, body):
        url = urlparse(path)
        query = parse_qs(url.query)
        with self.lock:
            if url.path == "/cgi-bin/gettoken" and method == "GET":
                if query.get("corpid") != [self.corp_id] or query.get("corpsecret") != [self.secret]:
                    return 200, b'{"errcode": 40001, "errmsg": "invalid credential"}'
                token = secrets.token_hex(16)
                self.tokens.append(token)
                self.live_tokens.add(token)
                return 200, json.dumps(
                    {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
                ).encode()
            if method != "POST" or url.path not in ("/cgi-bin/kf/sync_msg", "/cgi-bin/kf/send_msg"):
                return 404, b"{}"
            error = self._token_error(query)
            if error is not None:
                return 200, error
            request = json.loads(body)
            if url.path == "/cgi-bin/kf/sync_msg":
                self.sync_bodies.append(request)
                start = int(request.get("cursor") or 0)
                limit = min(int(request.get("limit", 1000)), 1000)
                page = self.log[start : start + limit]
                answer = {
                    "errcode": 0,
                    "errmsg": "ok",
                    "next_cursor": str(start + len(page)),
                    "has_more": int(start + len(page) < len(self.log)),
                    "msg_list": page,
                }
                return 200, json.dumps(answer, ensure_ascii=False).encode()
            if self.send_errors:
                code = self.send_errors.pop(0)
                return 200, json.dumps({"errcode": code, "errmsg": "scripted"}).encode()
            if request.get("msgid") in self.sent_msgids:
                return 200, b'{"errcode": 0, "errmsg": "ok"}'  # WeCom keeps one message per msgid
            self.sent_msgids.add(request.get("msgid"))
            self.sent.append(request)
            return 200, json.dumps({"errcode": 0, "errmsg": "ok", "msgid": request.get("msgid")}).encode()

    def callback_request(
        self, event_token: str = "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR"
    ) -> tuple[dict, bytes]:
        """The query and body of a ``kf_msg_or_event`` callback, encrypted and signed as WeCom sends it."""
        event = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
            f"<Token><![CDATA[{event_token}]]></Token><OpenKfId><![CDATA[wkSHOP]]></OpenKfId></xml>"
        ).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        encrypted, signature = self.crypto.encrypt(event, timestamp, nonce)
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>"
        ).encode()
        return {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}, body

    def post_callback(self, callback_url: str) -> tuple[int, bytes]:
        """Post a callback to ``callback_url`` over HTTP, as WeCom's servers do."""
        query, body = self.callback_request()
        url = f"{callback_url}?" + "&".join(f"{name}={value}" for name, value in query.items())
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/xml"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
