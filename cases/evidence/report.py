"""The human-readable report inside a package: `report.html` and the same page as `report.pdf`, in Chinese.

Owns the report's content (site, case, findings with highlighted excerpts and legal basis,
captures with times and IPs, screenshots, custody, file hashes, how to verify) and its PDF
rendering with WeasyPrint. A finding read in an image (OCR) shows that image with the matched lines
outlined: a rendering derived from the original (`outlined_rendering`), which the package keeps
unchanged. Every value from a seized page is escaped: a seller's page text must never become markup
in our report, and the renderer may only read the images we hand it.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rules.model import CATEGORY_ZH

SEVERITY_ZH = {"critical": "严重", "high": "高", "medium": "中", "low": "低", "none": "无"}
STATUS_ZH = {"open": "待审核", "under_review": "审核中", "confirmed": "已确认违法", "dismissed": "已排除",
             "closed": "已结案"}
ACTION_ZH = {"captured": "采集", "exported": "导出证据包", "case_opened": "立案", "case_closed": "结案",
             "reviewed": "审核", "referred": "移送", "rechecked": "复查"}
_WS = re.compile(r"\s+")


@dataclass
class CaptureRow:
    """One captured page as the report shows it."""

    url: str
    fetched_at: datetime
    final_url: str | None = None
    title: str | None = None
    server_ip: str | None = None
    status_code: int | None = None
    rendered: bool = False
    warc_sha256: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    screenshot_sha256: str | None = None
    how: dict[str, Any] = field(default_factory=dict)  # from the WARC metadata record: crawler, UA, proxy


@dataclass
class ReportContext:
    case: Mapping[str, Any]
    exported_at: datetime
    exported_by: str
    software: str
    key_fingerprint: str
    captures: list[CaptureRow]
    findings: Sequence[Mapping[str, Any]]
    custody: Sequence[Mapping[str, Any]]
    files: list[tuple[str, int, str]]  # member path, bytes, sha256 hex
    screenshot_names: dict[str, str]  # sha256 -> file name relative to report.html
    tsa_url: str | None = None
    timezone: str = "Asia/Shanghai"
    search: Sequence[Mapping[str, Any]] = ()  # results and ads that led to the site
    ocr_image_names: dict[str, str] = field(default_factory=dict)  # image sha256 -> original's file name


def highlights_from_spans(text: str, spans: Sequence[Sequence[int]]) -> list[str]:
    """The matched strings of a finding (`Finding.spans` index the capture's extracted text), for `matches`."""
    out = []
    for span in spans:
        start, end = int(span[0]), int(span[1])
        piece = _WS.sub(" ", text[start:end]).strip()
        if piece and piece not in out:
            out.append(piece)
    return out


def highlight(excerpt: str, matches: Sequence[str]) -> str:
    """The excerpt as escaped HTML with every occurrence of every match wrapped in <mark>."""
    marks = [False] * len(excerpt)
    folded = excerpt.casefold()
    for match in matches:
        needle = _WS.sub(" ", match).strip().casefold()
        if not needle:
            continue
        start = folded.find(needle)
        while start >= 0:
            for i in range(start, min(start + len(needle), len(marks))):
                marks[i] = True
            start = folded.find(needle, start + 1)
    out, i = [], 0
    while i < len(excerpt):
        j = i
        while j < len(excerpt) and marks[j] == marks[i]:
            j += 1
        piece = html.escape(excerpt[i:j])
        out.append(f"<mark>{piece}</mark>" if marks[i] else piece)
        i = j
    return "".join(out)


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _time(value: object, zone: ZoneInfo) -> str:
    moment = _as_datetime(value)
    if moment is None:
        return _e(value)
    local = moment.astimezone(zone)
    return (f"{moment.strftime('%Y-%m-%d %H:%M:%S')} UTC"
            f"<br><span class=muted>北京时间 {local.strftime('%Y-%m-%d %H:%M:%S')}</span>")


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, str) and value:
        try:
            return _as_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _hash(value: str | None) -> str:
    return f"<code class=hash>{_e(value)}</code>" if value else "—"


CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
        @bottom-center { content: "第 " counter(page) " 页 / 共 " counter(pages) " 页"; font-size: 8pt; color: #555; } }
html { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif;
       font-size: 10pt; line-height: 1.5; color: #111; }
h1 { font-size: 18pt; margin: 0 0 2mm 0; }
h2.new-page { break-before: page; }
h2 { font-size: 13pt; border-bottom: 1px solid #888; margin-top: 7mm; padding-bottom: 1mm; break-after: avoid; }
h3 { font-size: 11pt; margin: 4mm 0 1mm 0; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; }
th, td { border: 1px solid #bbb; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #eee; white-space: nowrap; }
tr { break-inside: avoid; }
code, .hash, .url { font-family: "DejaVu Sans Mono", "Noto Sans CJK SC", monospace; font-size: 8pt;
                    overflow-wrap: anywhere; word-break: break-all; }
mark { background: #ffe066; font-weight: bold; }
.excerpt { border-left: 3px solid #d33; padding: 1mm 2mm; background: #fafafa; margin: 1mm 0; }
.finding { break-inside: avoid; margin-bottom: 4mm; }
.muted { color: #555; font-size: 8.5pt; }
.sev-critical, .sev-high { color: #b00; font-weight: bold; }
.sev-medium { color: #a60; font-weight: bold; }
figure { margin: 3mm 0; break-inside: avoid; }
figure img { max-width: 100%; max-height: 215mm; border: 1px solid #999; }
figcaption { font-size: 8.5pt; color: #333; }
figure.ocr img { max-height: 120mm; }
"""


def render_html(ctx: ReportContext, *, screenshot_parts: Mapping[str, list[str]] | None = None) -> str:
    """The report page. `screenshot_parts` (sha256 -> image names) replaces a screenshot by the
    slices the PDF shows (see `slice_screenshot`); the HTML shows each screenshot whole."""
    zone = ZoneInfo(ctx.timezone)
    case = ctx.case
    site = case.get("site") or case.get("domain") or ""
    case_id = case.get("id", "")
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>电子数据证据报告 — {_e(site)} — 案件 {_e(case_id)}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>电子数据证据报告</h1>",
        f"<p>网站 <b>{_e(site)}</b> · 案件编号 <b>{_e(case_id)}</b> · 发现 {len(ctx.findings)} 条 · "
        f"采集页面 {len(ctx.captures)} 个</p>",
    ]
    parts += _summary(ctx, zone)
    parts += _findings(ctx, zone)
    parts += _search(ctx, zone)
    parts += _captures(ctx, zone)
    parts += _screenshots(ctx, zone, screenshot_parts or {})
    parts += _custody(ctx, zone)
    parts += _files(ctx)
    parts += _how_to_verify(ctx)
    parts.append("</body></html>")
    return "\n".join(parts)


def _summary(ctx: ReportContext, zone: ZoneInfo) -> list[str]:
    case = ctx.case
    categories = case.get("categories") or sorted({str(f.get("category", "")) for f in ctx.findings} - {""})
    risk = str(case.get("risk") or "")
    rows = [
        ("网站", _e(case.get("site") or case.get("domain"))),
        ("案件编号", _e(case.get("id"))),
        ("案件状态", _e(STATUS_ZH.get(str(case.get("status")), case.get("status")))),
        ("风险等级", f'<span class="sev-{_e(risk)}">{_e(SEVERITY_ZH.get(risk, risk))}</span>'),
        ("违法类别", "、".join(_e(CATEGORY_ZH.get(str(c), c)) for c in categories) or "—"),
        ("立案时间", _time(case.get("opened_at"), zone) if case.get("opened_at") else "—"),
        ("导出时间", _time(ctx.exported_at, zone)),
        ("导出人", _e(ctx.exported_by)),
        ("导出软件", _e(ctx.software)),
        ("签名公钥指纹 (Ed25519)", _hash(ctx.key_fingerprint)),
        ("可信时间戳", f"已向 {_e(ctx.tsa_url)} 申请 (RFC 3161)，令牌保存在 datapackage-digest.json"
         if ctx.tsa_url else "未申请"),
    ]
    known = {"id", "site", "domain", "status", "risk", "categories", "opened_at"}
    rows += [(_e(k), _e(v)) for k, v in case.items() if k not in known and v not in (None, "", [], {})]
    out = ["<h2>一、基本信息</h2>", "<table>"]
    out += [f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows]
    out.append("</table>")
    return out


def _findings(ctx: ReportContext, zone: ZoneInfo) -> list[str]:
    out = [f"<h2>二、违法发现（{len(ctx.findings)} 条）</h2>"]
    if not ctx.findings:
        out.append("<p>无。</p>")
    for number, finding in enumerate(ctx.findings, start=1):
        severity = str(finding.get("severity", ""))
        legal = finding.get("legal_basis") or []
        legal_html = "<br>".join(_e(item) for item in legal) if legal else "—"
        category = finding.get("category", "")
        out += [
            '<div class="finding">',
            f"<h3>{number}. {_e(finding.get('title'))} "
            f'<span class="sev-{_e(severity)}">〔{_e(SEVERITY_ZH.get(severity, severity))}〕</span></h3>',
            "<table>",
            f"<tr><th>违法类别</th><td>{_e(CATEGORY_ZH.get(str(category), category))}</td></tr>",
            f"<tr><th>法律依据</th><td>{legal_html}</td></tr>",
            f"<tr><th>页面</th><td class=url>{_e(finding.get('url'))}</td></tr>",
            *([f"<tr><th>来源</th><td>{_e(finding['source'])}</td></tr>"] if finding.get("source") else []),
            *([f"<tr><th>登记信息</th><td>{_registry_facts(finding['registry_facts'])}</td></tr>"]
              if finding.get("registry_facts") else []),
            *([f"<tr><th>判定说明</th><td>{_e(finding['rule_description'])}</td></tr>"]
              if finding.get("rule_description") else []),
            *([f"<tr><th>见于</th><td>{_seen_in(finding['seen_in'], zone)}</td></tr>"]
              if len(finding.get("seen_in") or []) > 1 else []),
            f"<tr><th>采集时间</th><td>{_time(finding.get('fetched_at'), zone) if finding.get('fetched_at') else '—'}"
            "</td></tr>",
            f"<tr><th>规则</th><td><code>{_e(finding.get('rule_id'))}</code>"
            + (f" 第 {_e(finding.get('rule_version'))} 版" if finding.get("rule_version") else "")
            + (f"<br>{_hash(finding.get('rule_sha256'))}" if finding.get("rule_sha256") else "") + "</td></tr>",
            "</table>",
            f'<div class="excerpt">{highlight(str(finding.get("excerpt") or ""), finding.get("matches") or [])}</div>',
            *_read_in_images(finding, ctx.ocr_image_names),
            "</div>",
        ]
    return out


def _read_in_images(finding: Mapping[str, Any], originals: Mapping[str, str]) -> list[str]:
    """The images a finding's wording was read in, each with the matched lines outlined in red."""
    out = []
    for sha, boxes in ocr_regions(finding).items():
        if sha not in originals:
            continue
        out.append(
            f'<figure class="ocr"><img src="{_e(outlined_name(sha, boxes))}" alt="图片识别文字 {_e(sha[:12])}">'
            f"<figcaption>以上文字由图片识别（OCR）得出，红框为匹配文字在图片中的位置（{len(boxes)} 处）。"
            f"红框图为派生图；原图：report/{_e(originals[sha])}，SHA-256 {_hash(sha)}</figcaption></figure>")
    return out


def ocr_regions(finding: Mapping[str, Any]) -> dict[str, list[list[list[int]]]]:
    """The boxes of the image lines a finding was read in (`Finding.ocr`), by image SHA-256, in order."""
    regions: dict[str, list[list[list[int]]]] = {}
    for entry in finding.get("ocr") or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("sha256"), str) and entry.get("box"):
            box = [[int(x), int(y)] for x, y in entry["box"]]
            regions.setdefault(entry["sha256"], [])
            if box not in regions[entry["sha256"]]:
                regions[entry["sha256"]].append(box)
    return regions


def outlined_name(sha256: str, boxes: Sequence[Sequence[Sequence[int]]]) -> str:
    """The file name of an image's rendering with `boxes` outlined: named by what it shows, so two
    findings outlining the same lines share one file."""
    digest = hashlib.sha256(json.dumps([sha256, boxes]).encode("ascii")).hexdigest()
    return f"outlined-{sha256[:16]}-{digest[:12]}.png"


#: A rendering taller than this many times its width shows only the band around the outlined lines (a
#: 750x3000 detail image whole would print its text too small to read).
OUTLINE_MAX_RATIO = 1.5


def outlined_rendering(data: bytes, boxes: Sequence[Sequence[Sequence[int]]]) -> bytes:
    """A PNG of the image with each box (four corners, the image's own pixels) outlined in red; of a long
    image, the band around the boxes. Raises ValueError when the bytes are not an image Pillow reads."""
    from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError  # Pillow comes with WeasyPrint

    try:
        with Image.open(io.BytesIO(data)) as opened:
            if getattr(opened, "is_animated", False):
                opened.seek(0)
            # As OCR saw it (crawler.ocr_engines.decode_image): EXIF orientation applied, boxes fit.
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"not an image: {err}") from err
    draw = ImageDraw.Draw(image)
    width = max(3, round(min(image.size) / 150))
    for box in boxes:
        corners = [(int(x), int(y)) for x, y in box]
        draw.line([*corners, corners[0]], fill=(220, 0, 0), width=width, joint="curve")
    if boxes and image.height > image.width * OUTLINE_MAX_RATIO:
        top = min(int(y) for box in boxes for _x, y in box)
        bottom = max(int(y) for box in boxes for _x, y in box)
        margin = image.width // 3
        image = image.crop((0, max(0, top - margin), image.width, min(image.height, bottom + margin)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def image_extension(data: bytes) -> str:
    """The file extension of an image's format as Pillow reads it (`img` when it cannot tell)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = (image.format or "").lower()
    except (UnidentifiedImageError, OSError):
        return "img"
    return {"jpeg": "jpg", "": "img"}.get(kind, kind)


VERDICT_ZH = {"unknown": "登记库中无此编号", "product_mismatch": "登记的产品与页面产品不符",
              "domain_mismatch": "证书登记的网站不是本网站", "malformed": "编号格式不合规", "expired": "已过期",
              "not_yet_valid": "尚未生效", "revoked": "已撤销", "cancelled": "已注销", "suspended": "已暂停"}


def _registry_facts(facts: Sequence[Mapping[str, Any]]) -> str:
    """Each number the finding rests on and what the registry holds for it."""
    lines = []
    for fact in facts:
        held = [f"登记产品：{_e(fact['product_name'])}" if fact.get("product_name") else "",
                f"持有人：{_e(fact['holder'])}" if fact.get("holder") else "",
                f"登记网站：{_e('、'.join(fact['domains']))}" if fact.get("domains") else ""]
        verdict = str(fact.get("verdict", ""))
        lines.append(f"{_e(fact.get('number'))}：{_e(VERDICT_ZH.get(verdict, verdict))}"
                     + "".join(f"；{item}" for item in held if item))
    return "<br>".join(lines)


def _seen_in(seen: Sequence[Mapping[str, Any]], zone: ZoneInfo) -> str:
    """Every capture a finding was seen in: one fact, several copies (plain and rendered, several days)."""
    return "<br>".join(
        f"{_time(s.get('fetched_at'), zone) if s.get('fetched_at') else '—'} "
        f"{'浏览器渲染' if s.get('rendered') else '原始响应'} <span class=url>{_e(s.get('url'))}</span>"
        for s in seen)


def _search(ctx: ReportContext, zone: ZoneInfo) -> list[str]:
    if not ctx.search:
        return []
    out = [f"<h2>搜索结果与广告（{len(ctx.search)} 条）</h2>", "<table>",
           "<tr><th>时间</th><th>搜索引擎 / 关键词</th><th>位置</th><th>标题与摘要</th><th>链接</th></tr>"]
    for entry in ctx.search:
        where = f"第 {_e(entry.get('page'))} 页 " + (
            f"广告 #{_e(entry.get('rank'))}" + (f"（{_e(entry.get('advertiser'))}）" if entry.get("advertiser") else "")
            if entry.get("is_ad") else f"自然结果 #{_e(entry.get('rank'))}")
        out.append(
            f"<tr><td>{_time(entry.get('observed_at'), zone) if entry.get('observed_at') else '—'}</td>"
            f"<td>{_e(entry.get('engine'))}：{_e(entry.get('query'))}</td><td>{where}</td>"
            f"<td>{_e(entry.get('title'))}<br>{_e(entry.get('snippet'))}</td>"
            f"<td class=url>{_e(entry.get('url'))}</td></tr>")
    out.append("</table>")
    return out


def _captures(ctx: ReportContext, zone: ZoneInfo) -> list[str]:
    out = [f"<h2>三、页面采集记录（{len(ctx.captures)} 个）</h2>"]
    for number, capture in enumerate(ctx.captures, start=1):
        how = capture.how
        method = "Chromium 浏览器渲染（含截图）" if capture.rendered else "直接抓取（HTTP 请求与响应原样保存）"
        rows = [
            ("网址", f"<span class=url>{_e(capture.url)}</span>"),
            ("最终网址", f"<span class=url>{_e(capture.final_url)}</span>"
             if capture.final_url and capture.final_url != capture.url else "同上"),
            ("页面标题", _e(capture.title) or "—"),
            ("采集时间", _time(capture.fetched_at, zone)),
            ("服务器 IP", _e(capture.server_ip) or "—"),
            ("HTTP 状态", _e(capture.status_code) if capture.status_code is not None else "—"),
            ("采集方式", method),
            ("采集程序", _e(how.get("crawler")) or "—"),
            ("User-Agent", _e(how.get("user_agent")) or "—"),
            ("出口代理", _e(how.get("egress_proxy")) or "直连"),
            ("TLS 证书", _e(json.dumps(how["tls"], ensure_ascii=False)) if how.get("tls") else "—"),
            ("WARC SHA-256", _hash(capture.warc_sha256)),
            ("WARC 位置", f"archive/data.warc.gz 第 {capture.warc_offset} 字节起，共 {capture.warc_length} 字节"
             if capture.warc_offset is not None else "—"),
            ("截图 SHA-256", _hash(capture.screenshot_sha256)),
        ]
        out.append(f"<h3>页面 {number}</h3><table>")
        out += [f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows]
        out.append("</table>")
    return out


def _screenshots(ctx: ReportContext, zone: ZoneInfo, parts: Mapping[str, list[str]]) -> list[str]:
    shots = [c for c in ctx.captures if c.screenshot_sha256 and c.screenshot_sha256 in ctx.screenshot_names]
    out = [f'<h2 class="new-page">四、页面截图（{len(shots)} 张）</h2>']
    if not shots:
        out.append("<p>无。</p>")
    for capture in shots:
        sha = capture.screenshot_sha256 or ""
        names = parts.get(sha) or [ctx.screenshot_names[sha]]
        for number, name in enumerate(names, start=1):
            piece = f"（第 {number} / {len(names)} 段）" if len(names) > 1 else ""
            out.append(
                f'<figure><img src="{_e(name)}" alt="截图 {_e(capture.url)}">'
                f"<figcaption>截图{piece} <span class=url>{_e(capture.url)}</span><br>{_time(capture.fetched_at, zone)}"
                f"<br>SHA-256 {_hash(sha)}（原图：report/{_e(ctx.screenshot_names[sha])}）</figcaption></figure>"
            )
    return out


def _custody(ctx: ReportContext, zone: ZoneInfo) -> list[str]:
    out = [f"<h2>五、保管链（{len(ctx.custody)} 个事件）</h2>",
           "<p class=muted>每个事件的哈希覆盖前一事件的哈希，任何事件被改动、删除或插入都会使后续哈希不符。"
           "完整记录见 evidence/custody.json。</p>",
           "<table><tr><th>序号</th><th>时间</th><th>操作人</th><th>操作</th><th>对象</th><th>事件哈希</th></tr>"]
    for entry in ctx.custody:
        action = str(entry.get("action"))
        out.append(
            f"<tr><td>{_e(entry.get('seq'))}</td><td>{_time(entry.get('at'), zone)}</td><td>{_e(entry.get('actor'))}"
            f"</td><td>{_e(ACTION_ZH.get(action, action))}</td><td>{_e(entry.get('subject'))}</td>"
            f"<td>{_hash(entry.get('hash'))}</td></tr>"
        )
    out.append("</table>")
    return out


def _files(ctx: ReportContext) -> list[str]:
    out = ["<h2>六、文件哈希（SHA-256）</h2>",
           "<p class=muted>本报告本身（report.html、report.pdf）及 datapackage.json 的哈希记录在 datapackage.json "
           "与 datapackage-digest.json 中。</p>",
           "<table><tr><th>文件</th><th>字节数</th><th>SHA-256</th></tr>"]
    out += [f"<tr><td><code>{_e(path)}</code></td><td>{size}</td><td>{_hash(sha)}</td></tr>"
            for path, size, sha in ctx.files]
    out.append("</table>")
    return out


def _how_to_verify(ctx: ReportContext) -> list[str]:
    return [
        "<h2>七、校验方法</h2>",
        "<ol>",
        "<li>本证据包为 WACZ 1.1.1 格式（ZIP 压缩包），可用 ReplayWeb.page 等工具回放网页原貌；"
        "archive/data.warc.gz 为采集时原样保存的 WARC 记录"
        "（请求、响应头与正文、渲染后的页面与截图、采集元数据）。</li>",
        "<li>一键校验：<code>pharmwatch evidence verify 证据包.wacz</code>，逐个文件重新计算哈希并核对签名与时间戳，"
        "任何一个字节的改动、文件的删除或增加都会被指出。</li>",
        "<li>人工校验：解压后用 <code>sha256sum</code> 计算各文件哈希，与 datapackage.json 中的 hash 逐一比对；"
        "datapackage.json 的哈希记录在 datapackage-digest.json，并由本系统的 Ed25519 密钥对字符串 "
        "“sha256:…” 签名（公钥：evidence/signing-key.pub.pem，指纹 "
        f"{_hash(ctx.key_fingerprint)}，请与监管部门公布的指纹核对）。</li>",
        "<li>可信时间戳（如有）：datapackage-digest.json 的 timestamp.token 为 RFC 3161 时间戳令牌（Base64），"
        "其消息摘要即 datapackage.json 的 SHA-256，可用 "
        "<code>openssl ts -verify -token_in -data datapackage.json</code> "
        "配合时间戳机构根证书校验。</li>",
        "</ol>",
    ]


#: Width : height of one screenshot slice in the PDF, so a slice and its caption fill at most one A4 page.
SLICE_RATIO = 215 / 182
MAX_SLICES = 40


def slice_screenshot(data: bytes) -> list[bytes]:
    """A tall full-page screenshot cut into page-sized PNG slices for the PDF (the package keeps the
    original PNG as evidence; slices only make it legible on paper). One slice when it already fits."""
    from PIL import Image  # Pillow comes with WeasyPrint

    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        step = max(1, int(width * SLICE_RATIO))
        if height <= step * 1.15:
            return [data]
        out = []
        for top in range(0, min(height, step * MAX_SLICES), step):
            buffer = io.BytesIO()
            image.crop((0, top, width, min(height, top + step))).save(buffer, format="PNG")
            out.append(buffer.getvalue())
        return out


def render_pdf(document: str, images: Mapping[str, bytes]) -> bytes:
    """The report as PDF. `images` maps the file names the HTML uses to their bytes; nothing else
    can be loaded (file: URLs only, inside a private temporary folder)."""
    from weasyprint import HTML  # imported here: verifying a package must not need WeasyPrint or Pango
    from weasyprint.urls import URLFetcher

    with tempfile.TemporaryDirectory(prefix="pharmwatch-report-") as folder:
        base = Path(folder)
        for name, data in images.items():
            (base / Path(name).name).write_bytes(data)
        fetcher = URLFetcher(allowed_protocols=("file",))
        return HTML(string=document, base_url=str(base) + "/", url_fetcher=fetcher).write_pdf()
