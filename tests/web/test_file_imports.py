"""Importing files from the UI: a tip file (monitors) and another office's blacklist (supervisors), CSV or XLSX,
parsed by the CLI's own functions: a bad row refuses the whole file and every bad row is shown with its cells
(file:line: column: reason, the upload's own name, never the server's temporary folder); "import the good
rows" keeps the others; formula-looking cells stay text; CSRF and roles as everywhere."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import select

from storage.models import AuditEvent, BlacklistEntry, Tip
from tests.web.world import HOSTILE, World

FORMULA = '=HYPERLINK("http://evil.example.com/","click")'
TIPS = ("url,source,note,submitted_at\n"
        "http://seller-a.example.com/,12315 hotline,called twice,2026-12-01\n"
        "http://127.0.0.1/admin,12315 hotline,,\n"
        "http://seller-b.example.com/,,,yesterday\n"
        f"http://seller-c.example.com/,,{HOSTILE[0]},\n")


def _upload(name: str, data: bytes | str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, data.encode() if isinstance(data, str) else data, "text/csv")}


def _tip_urls(world: World) -> list[str]:
    with world.sessions() as session:
        return list(session.scalars(select(Tip.url).order_by(Tip.id)))


def test_a_tip_file_with_bad_rows_is_refused_whole_and_every_bad_row_shown(
        world: World, signed_in: Callable[[str], TestClient]) -> None:
    mona = signed_in("mona")
    assert 'action="/tips/import"' in mona.get("/tips").text
    response = mona.post("/tips/import", files=_upload("hotline tips.csv", TIPS))
    assert response.status_code == 400
    html = response.text
    assert "Nothing was imported." in html or "未导入任何内容" in html
    assert "hotline_tips.csv:3: url:" in html and "hotline_tips.csv:4: submitted_at: bad date" in html
    assert "pharmwatch-upload-" not in html and "/tmp" not in html  # the server's folder is not shown
    assert "called twice" not in html  # good rows are not listed as rejected
    assert "<td>3</td>" in html and "127.0.0.1" in html  # each bad row with its cells, to fix it
    assert _tip_urls(world) == []
    twin = mona.post("/api/tips/import", files=_upload("tips.csv", TIPS))
    assert twin.status_code == 400 and twin.json()["error"].startswith("tips.csv: 2 bad row(s); nothing imported")


def test_the_good_rows_of_a_tip_file_are_imported_on_request_and_the_rest_listed(
        world: World, signed_in: Callable[[str], TestClient], api_client: Callable[[str], TestClient]) -> None:
    mona = signed_in("mona")
    response = mona.post("/tips/import", files=_upload("tips.csv", TIPS), data={"skip_bad": "yes"})
    assert response.status_code == 201
    assert "<td>3</td>" in response.text and "<td>4</td>" in response.text  # the rejected rows, listed
    assert _tip_urls(world) == ["http://seller-a.example.com/", "http://seller-c.example.com/"]
    assert HOSTILE[0] not in mona.get("/tips").text  # a note is escaped like crawled text
    again = api_client("mona").post("/api/tips/import", files=_upload("tips.csv", TIPS), data={"skip_bad": "true"})
    assert again.status_code == 200  # nothing new: the same file twice adds nothing
    data = again.json()["data"]
    assert (data["new"], data["known"], data["rejected_count"]) == ([], 2, 2)
    assert [r["line"] for r in data["rejected"]] == [3, 4]
    with world.sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "tips_imported")).all()
        assert [(e.actor, e.subject) for e in events] == [("mona", "file:tips.csv")] * 2


def test_an_xlsx_tip_file_keeps_formulas_as_text(world: World, signed_in: Callable[[str], TestClient]) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["url", "note"])
    sheet.append(["http://seller-x.example.com/", FORMULA])
    sheet.append([])  # a blank row: skipped, and the line numbers stay the sheet's row numbers
    sheet.append(["localhost", "bad"])
    data = io.BytesIO()
    book.save(data)
    mona = signed_in("mona")
    response = mona.post("/tips/import", files=_upload("tips.xlsx", data.getvalue()))
    assert response.status_code == 400 and "tips.xlsx:4: url:" in response.text
    response = mona.post("/tips/import", files=_upload("tips.xlsx", data.getvalue()), data={"skip_bad": "yes"})
    assert response.status_code == 201
    with world.sessions() as session:
        tip = session.scalars(select(Tip)).one()
        assert (tip.url, tip.note) == ("http://seller-x.example.com/", FORMULA)  # stored as typed, not run


def test_a_supervisor_imports_another_offices_blacklist_all_or_nothing(
        world: World, signed_in: Callable[[str], TestClient]) -> None:
    sam, mona = signed_in("sam"), signed_in("mona")
    good = "kind,value,reason\nsite,pill-shop.example.com,sells prescription drugs\nphone,13800138000,sales line\n"
    bad = good + "fax,123,what\nsite,,empty\n"
    assert 'action="/blacklist/import"' in sam.get("/blacklist").text
    assert 'action="/blacklist/import"' not in mona.get("/blacklist").text
    assert mona.post("/blacklist/import", files=_upload("list.csv", good), data={"source": "Hangzhou"}
                     ).status_code == 403
    response = sam.post("/blacklist/import", files=_upload("list.csv", bad), data={"source": "Hangzhou"})
    assert response.status_code == 400
    assert "list.csv:4: kind:" in response.text and "list.csv:5: value:" in response.text
    assert "<td>4</td>" in response.text and "<td>5</td>" in response.text
    with world.sessions() as session:
        assert session.scalars(select(BlacklistEntry)).all() == []
    assert sam.post("/blacklist/import", files=_upload("list.csv", good)).status_code == 400  # whose list?
    response = sam.post("/blacklist/import", files=_upload("list.csv", good), data={"source": "Hangzhou"})
    assert response.status_code == 201 and ("2 entries added" in response.text or "2 条已添加" in response.text)
    twin = sam.post("/api/blacklist/import", files=_upload("list.csv", good), data={"source": "Hangzhou"})
    assert twin.status_code == 200 and twin.json()["data"]["added"] == 0  # already on the list
    with world.sessions() as session:
        entries = session.scalars(select(BlacklistEntry).order_by(BlacklistEntry.id)).all()
        assert [(e.kind, e.added_by, e.reason) for e in entries] == [
            ("site", "sam", "sells prescription drugs (imported from Hangzhou)"),
            ("phone", "sam", "sales line (imported from Hangzhou)")]


def test_an_upload_needs_the_csrf_token_and_a_file(world: World, signed_in: Callable[[str], TestClient]) -> None:
    sam = signed_in("sam")
    csrf = sam.headers.pop("X-CSRF-Token")
    for path in ("/tips/import", "/blacklist/import"):
        response = sam.post(path, files=_upload("tips.csv", TIPS), data={"source": "x"})
        assert response.status_code == 403, path
        response = sam.post(path, files=_upload("tips.csv", ""), data={"source": "x", "csrf_token": csrf})
        assert response.status_code == 400 and "the file is empty" in response.text, path
    assert _tip_urls(world) == []
