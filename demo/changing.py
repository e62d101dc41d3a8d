"""Sites that change after they were flagged, for re-checks: corrected, closed, or moved to a new domain.

`recheck-shop.test` starts as a seller with a cure claim. A control request through the demo web,
`http://control.test/state?host=recheck-shop.test&set=corrected|closed|moved|violating`, switches
what it serves: the page without the claim, `410 Gone`, or a `301` to `recheck-shop-new.test`,
which sells the same thing. State lives on the server instance, so each test's demo web starts
afresh (`violating`).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

HOST = "recheck-shop.test"
NEW_HOST = "recheck-shop-new.test"
CONTROL_HOST = "control.test"
HOSTS = frozenset({HOST, NEW_HOST, CONTROL_HOST})
STATES = ("violating", "corrected", "closed", "moved")

_VIOLATING = ("降糖神丸，纯中药配方，三个疗程根治糖尿病，永不复发，告别胰岛素！"
              "无需处方，货到付款，咨询微信 tangshen888。")
_CORRECTED = "降糖神丸 暂停销售。本店已按市场监督管理局要求整改，现仅销售日用百货。"

Answer = tuple[int, list[tuple[str, str]], bytes]


def _page(title: str, body: str) -> Answer:
    html = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>{body}</p></body></html>")
    return 200, [("Content-Type", "text/html; charset=utf-8")], html.encode("utf-8")


def respond(state: dict[str, str], host: str, path_and_query: str) -> Answer:
    """The answer of one of HOSTS; `state` (host → state) is the server's and changes on control requests."""
    if host == CONTROL_HOST:
        query = parse_qs(urlsplit(path_and_query).query)
        target, wanted = query.get("host", [""])[0], query.get("set", [""])[0]
        if target != HOST or wanted not in STATES:
            return 400, [("Content-Type", "text/plain")], f"expected host={HOST}&set={'|'.join(STATES)}\n".encode()
        state[target] = wanted
        return 200, [("Content-Type", "text/plain")], f"{target}: {wanted}\n".encode()
    if host == NEW_HOST:
        return _page("降糖神丸 新店", _VIOLATING)
    current = state.get(HOST, "violating")
    if current == "corrected":
        return _page("百货小店", _CORRECTED)
    if current == "closed":
        return 410, [("Content-Type", "text/plain")], b"gone\n"
    if current == "moved":
        return 301, [("Location", f"http://{NEW_HOST}{urlsplit(path_and_query).path or '/'}")], b""
    return _page("降糖神丸 官方旗舰店", _VIOLATING)
