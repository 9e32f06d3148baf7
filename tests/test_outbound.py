"""The outbound client (core.outbound): the only way Shopbee calls a URL a shop or a merchant chose."""

import pytest

from core import outbound


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8210\\@hooks.example/x",  # the parser's host is not the host a client connects to
        "http://hooks.example\\.evil.example/x",
        "https://user:pw@hooks.example/x",
        "https://@hooks.example/x",
        "ftp://hooks.example/x",
        "file:///etc/passwd",
        "gopher://hooks.example:70/x",
        "http://hooks.example:0/x",
        "http://hooks.example:65536/x",
        "http://hooks .example/x",
        "http://hooks.example/a b",
        "http://例子.测试/x",
        "http://[::1/x",
        "http://hooks_example.com/x",
        "//hooks.example/x",
        "",
    ],
)
def test_a_url_that_is_not_plainly_one_host_is_refused(url):
    with pytest.raises(outbound.TargetRefused):
        outbound.parse_target(url)


def test_a_plain_url_is_split_into_what_will_be_called():
    target = outbound.parse_target("HTTPS://Hooks.Example.com:8443/in?shop=1#frag")
    assert target == outbound.Target(scheme="https", host="hooks.example.com", port=8443, path="/in?shop=1")
    assert target.host_header == "hooks.example.com:8443"
    assert outbound.parse_target("http://[2001:db8::1]/").host_header == "[2001:db8::1]"
    assert outbound.parse_target("http://hooks.example").path == "/"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "ff02::1",
    ],
)
def test_non_public_addresses_are_not_public(address):
    assert not outbound.is_public(address)


def test_public_addresses_are_public():
    assert outbound.is_public("93.184.216.34") and outbound.is_public("2606:2800:220:1:248:1893:25c8:1946")


def test_an_ip_literal_that_is_not_public_is_refused_before_saving_unless_allowed():
    with pytest.raises(outbound.TargetRefused, match="private address"):
        outbound.checked_url("http://169.254.169.254/latest/meta-data/", allow_private=False)
    assert outbound.checked_url("http://127.0.0.1:8000/hook", allow_private=True).port == 8000
    assert outbound.checked_url("https://hooks.example/x", allow_private=False).host == "hooks.example"


def test_a_name_with_any_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["93.184.216.34", "10.0.0.5"])
    answer = outbound.post("https://hooks.example/x", b"{}", {}, allow_private=False)
    assert answer == outbound.Answer(status=None, error="refused: private address", refused=True)
    assert not answer.retryable


def test_a_name_that_does_not_resolve_may_be_tried_again(monkeypatch):
    def no_such_name(host, port):
        raise OSError("Name or service not known")

    monkeypatch.setattr(outbound, "resolve", no_such_name)
    answer = outbound.post("https://hooks.example/x", b"{}", {}, allow_private=False)
    assert answer.error == "name not resolved" and not answer.refused and answer.retryable


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (None, True),
        (200, False),
        (301, False),
        (400, False),
        (404, False),
        (408, True),
        (429, True),
        (500, True),
        (503, True),
    ],
)
def test_only_no_answer_a_server_error_a_timeout_or_a_rate_limit_is_worth_another_call(status, retryable):
    assert outbound.Answer(status=status, error="x").retryable is retryable


def test_a_target_that_does_not_answer_in_time_is_a_timeout(webhook_receiver):
    import threading

    webhook_receiver.hold = threading.Event()
    answer = outbound.post(webhook_receiver.url, b"{}", {}, allow_private=True, read_timeout=0.5)
    webhook_receiver.hold.set()
    assert answer == outbound.Answer(status=None, error="timeout")


def test_at_most_max_body_bytes_of_the_answer_are_read(webhook_receiver):
    webhook_receiver.answer_body = b"x" * 100_000
    answer = outbound.post(webhook_receiver.url, b"{}", {}, allow_private=True, max_body=1000)
    assert answer.ok and answer.error == "" and answer.body == b"x" * 1000
