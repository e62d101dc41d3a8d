"""The channels against real loopback receivers: e-mail parts, subject and Message-ID; each webhook's format,
signature and the robots' errors reported inside a 2xx answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

import pytest

from alerts.channels import DeliveryError, Outgoing, SmtpChannel, WebhookChannel, markdown_plain
from tests.alerts.conftest import SmtpServer, WebhookReceiver

MESSAGE = Outgoing(id=42, kind="digest", subject="每日监测摘要：3 个网站被标记", text="降糖神药 出现在 a.test\n第二行",
                   html="<p>降糖神药 出现在 <b>a.test</b></p>", created_at=datetime(2026, 12, 9, 1, 2, 3))


def test_an_email_has_text_and_html_parts_a_chinese_subject_and_a_stable_message_id(smtp_server: SmtpServer) -> None:
    channel = SmtpChannel(name="mail", host=smtp_server.host, port=smtp_server.port, security="none",
                          sender="PharmWatch 监测 <pw@example.gov.cn>", to=("a@example.gov.cn", "b@example.gov.cn"))
    assert channel.send(MESSAGE) is None
    channel.send(MESSAGE)
    first, second = smtp_server.mailbox.messages
    assert first["Subject"] == "每日监测摘要：3 个网站被标记"
    assert first["Message-ID"] == second["Message-ID"] == "<pharmwatch.42.20261209010203@example.gov.cn>"
    assert first.get_content_type() == "multipart/alternative"
    assert first.get_body(("plain",)).get_content() == "降糖神药 出现在 a.test\n第二行\n"  # type: ignore[union-attr]
    assert "<b>a.test</b>" in first.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert smtp_server.mailbox.envelopes[0] == ("pw@example.gov.cn", ["a@example.gov.cn", "b@example.gov.cn"])


def test_an_email_without_html_is_plain_text(smtp_server: SmtpServer) -> None:
    channel = SmtpChannel(name="mail", host=smtp_server.host, port=smtp_server.port, security="none",
                          sender="pw@example.gov.cn", to=("a@example.gov.cn",))
    channel.send(Outgoing(1, "test", "测试", "正文", None, datetime(2026, 12, 9)))
    (mail,) = smtp_server.mailbox.messages
    assert mail.get_content_type() == "text/plain" and mail.get_content() == "正文\n"


def test_an_unreachable_smtp_server_is_a_delivery_error_without_the_password() -> None:
    channel = SmtpChannel(name="mail", host="127.0.0.1", port=1, security="none", sender="pw@x.cn", to=("a@x.cn",),
                          username="u", password="hunter2", timeout=2)
    with pytest.raises(DeliveryError) as caught:
        channel.send(MESSAGE)
    assert "127.0.0.1:1" in str(caught.value) and "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(channel)


def test_generic_json(webhook: WebhookReceiver) -> None:
    WebhookChannel(name="hook", type="json", url=f"{webhook.url}/json").send(MESSAGE)
    (got,) = webhook.requests
    assert got.body == {"id": 42, "kind": "digest", "subject": MESSAGE.subject, "text": MESSAGE.text,
                        "html": MESSAGE.html, "created_at": "2026-12-09T01:02:03+00:00"}
    assert got.headers["Idempotency-Key"] == "pharmwatch.42.20261209010203"
    assert got.headers["Content-Type"] == "application/json; charset=utf-8"


def test_dingtalk_markdown_signed_in_the_query(webhook: WebhookReceiver) -> None:
    channel = WebhookChannel(name="ding", type="dingtalk", url=f"{webhook.url}/dingtalk?access_token=T0KEN",
                             secret="SEC123")
    channel.send(MESSAGE)
    (got,) = webhook.requests
    assert got.body["msgtype"] == "markdown" and got.body["markdown"]["title"] == MESSAGE.subject
    assert MESSAGE.subject in got.body["markdown"]["text"] and "降糖神药" in got.body["markdown"]["text"]
    timestamp = got.query["timestamp"]
    expected = base64.b64encode(hmac.new(b"SEC123", f"{timestamp}\nSEC123".encode(), hashlib.sha256).digest())
    assert got.query["access_token"] == "T0KEN" and got.query["sign"] == expected.decode()  # parse_qs unquoted it
    assert abs(int(timestamp) / 1000 - datetime.now().timestamp()) < 60


def test_wecom_markdown(webhook: WebhookReceiver) -> None:
    WebhookChannel(name="wecom", type="wecom", url=f"{webhook.url}/wecom?key=K").send(MESSAGE)
    (got,) = webhook.requests
    content = f"**{markdown_plain(MESSAGE.subject)}**\n{markdown_plain(MESSAGE.text)}"
    assert got.body == {"msgtype": "markdown", "markdown": {"content": content}}


def test_crawled_text_never_becomes_markdown_in_a_robot_message() -> None:
    hostile = "降糖神药 [点此购买](http://evil.test/) ![](http://evil.test/p.png)\n# 标题"
    assert markdown_plain(hostile) == (r"降糖神药 \[点此购买\]\(http://evil\.test/\) \!\[\]\(http://evil\.test/p\.png\)"
                                       "  \n" r"\# 标题")
    message = Outgoing(1, "alert", "s", hostile, None, datetime(2026, 12, 9))
    for kind, field in (("dingtalk", "text"), ("wecom", "content")):
        _, body = WebhookChannel(name=kind, type=kind, url="http://relay.local/w").request(message)
        assert body["markdown"][field].endswith(markdown_plain(hostile))


def test_wecom_content_is_cut_to_its_limit() -> None:
    long = Outgoing(1, "digest", "s", "药" * 5000, None, datetime(2026, 12, 9))
    _, body = WebhookChannel(name="w", type="wecom", url="http://relay.local/w").request(long)
    content = body["markdown"]["content"]
    assert len(content.encode()) <= 4096 and content.endswith("…")


def test_feishu_text_signed_in_the_body(webhook: WebhookReceiver) -> None:
    WebhookChannel(name="fs", type="feishu", url=f"{webhook.url}/feishu", secret="FSEC").send(MESSAGE)
    (got,) = webhook.requests
    assert got.body["msg_type"] == "text" and got.body["content"]["text"].startswith(MESSAGE.subject)
    timestamp = got.body["timestamp"]
    expected = base64.b64encode(hmac.new(f"{timestamp}\nFSEC".encode(), b"", hashlib.sha256).digest()).decode()
    assert got.body["sign"] == expected


@pytest.mark.parametrize("path, answer, reported", [
    ("/dingtalk", '{"errcode":310000,"errmsg":"sign not match"}', "errcode 310000: sign not match"),
    ("/wecom", '{"errcode":93000,"errmsg":"invalid webhook url"}', "errcode 93000: invalid webhook url"),
    ("/feishu", '{"code":19021,"msg":"sign match fail or timestamp is not within one hour"}', "code 19021"),
])
def test_a_robot_refusal_inside_a_2xx_answer_is_a_failure(webhook: WebhookReceiver, path: str, answer: str,
                                                          reported: str) -> None:
    webhook.script(path, (200, answer))
    channel = WebhookChannel(name="r", type=path.strip("/"), url=f"{webhook.url}{path}?access_token=SECRET-TOKEN")
    with pytest.raises(DeliveryError) as caught:
        channel.send(MESSAGE)
    assert reported in str(caught.value)
    assert "SECRET-TOKEN" not in str(caught.value) and path not in str(caught.value)


def test_http_errors_never_show_the_urls_path_or_query(webhook: WebhookReceiver) -> None:
    webhook.script("/open-apis/bot/v2/hook/HOOKTOKEN", (500, "{}"))
    channel = WebhookChannel(name="fs", type="feishu", url=f"{webhook.url}/open-apis/bot/v2/hook/HOOKTOKEN")
    with pytest.raises(DeliveryError) as caught:
        channel.send(MESSAGE)
    assert str(caught.value).startswith(f"{webhook.url}: HTTP 500")
    assert "HOOKTOKEN" not in str(caught.value) and "HOOKTOKEN" not in repr(channel)
