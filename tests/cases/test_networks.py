"""Operator networks: flagged sites that share an operator's identifiers are one network with a stable id;
shared infrastructure (a server address, a CDN, an id on very many sites) links nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import qrcode
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import select

from cases.networks import (
    NetworkChange,
    build_networks,
    captured_sites,
    groups,
    index_captures,
    list_networks,
    network_detail,
)
from cases.opening import open_cases_for_scan
from crawler.page_template import template_fingerprint
from crawler.tracking_ids import tracking_ids
from pharmwatch.cli import cli
from storage import db
from storage.blobs import BlobStore
from storage.models import Capture, Finding, OperatorNetwork, Site, SiteIdentifier
from storage.scans import start_scan_run

BAIDU = '<script>var _hmt=[];(function(){var hm=document.createElement("script");' \
        'hm.src="https://hm.baidu.com/hm.js?0123456789abcdef0123456789ABCDEF";})();</script>'


def test_tracking_ids_are_read_from_the_snippets_sellers_paste() -> None:
    html = (BAIDU + '<script src="https://s4.cnzz.com/z_stat.php?id=1278912345&web_id=1278912345"></script>'
            '<script src="//js.users.51.la/21345678.js"></script>'
            "<script>gtag('config', 'G-AB12CD34EF'); ga('create', 'UA-12345678-1', 'auto');</script>"
            '<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-ABC1234"></iframe></noscript>')
    assert tracking_ids(html) == ["baidu_tongji:0123456789abcdef0123456789abcdef", "cnzz:1278912345",
                                  "google_analytics:UA-12345678-1", "google_tag:G-AB12CD34EF",
                                  "google_tag:GTM-ABC1234", "la51:21345678"]
    assert tracking_ids("<p>UA-1 is a flight number; G-CLASS is a car</p>") == []


def screenshot_with_qr(target: str) -> bytes:
    """A tall page screenshot with one QR code far down, as sellers place their WeChat code."""
    shot = Image.new("RGB", (1280, 6000), "white")
    shot.paste(qrcode.make(target).get_image().convert("RGB").resize((180, 180)), (1000, 5200))
    out = io.BytesIO()
    shot.save(out, "PNG")
    return out.getvalue()


def page(session, blobs: BlobStore, run_id: int, domain: str, *, leads=(), ip=None, html="",  # type: ignore[no-untyped-def]
         licence=None, flagged=True, qr=None, cert=None, final_url=None, hops=(), favicon=None) -> None:
    site = session.query(Site).filter_by(domain=domain).one_or_none() or Site(domain=domain)
    session.add(site)
    session.flush()
    signals = {"contact_leads": list(leads),
               "licence_checks": [{"number": licence, "normalised": licence}] if licence else [],
               **({"tls_certificate": {"sha256": cert, "dns_names": []}} if cert else {}),
               **({"redirect_hops": list(hops)} if hops else {}),
               **({"favicon": {"url": f"http://{domain}/favicon.ico", "sha256": favicon}} if favicon else {})}
    capture = Capture(scan_run_id=run_id, site_id=site.id, url=f"http://{domain}/", final_url=final_url,
                      status_code=200, server_ip=ip, signals=signals,
                      body_sha256=blobs.put(f"<html>{html}</html>".encode(), ".html"),
                      screenshot_sha256=blobs.put(screenshot_with_qr(qr), ".png") if qr else None)
    session.add(capture)
    session.flush()
    if flagged:
        session.add(Finding(capture_id=capture.id, site_id=site.id, scan_run_id=run_id, rule_id="pw-cure",
                            rule_version=1, rule_sha256="0" * 64, title="t", category="disease_cure_claim",
                            severity="high", excerpt="根治糖尿病"))


def scan(sessions, blob_dir: Path, pages: list[dict]) -> int:  # type: ignore[no-untyped-def,type-arg]
    blobs = BlobStore(blob_dir)
    with db.transaction(sessions) as session:
        run = start_scan_run(session, "t")
        for spec in pages:
            page(session, blobs, run.id, **spec)
        session.flush()
        index_captures(session, blob_dir, scan_run_id=run.id)
        build_networks(session, site_ids=captured_sites(session, run.id))  # as a scan does: its sites only
        return run.id


def networks(sessions) -> dict[int, list[str]]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return {n.id: n.sites for n in list_networks(session)}


def test_strong_identifiers_link_weak_ones_only_add_up_and_shared_infrastructure_links_nothing(
        sessions, home: Path) -> None:  # type: ignore[no-untyped-def]
    blob_dir = home / "blobs"
    popular = '<script src="//js.users.51.la/99999999.js"></script>'
    scan(sessions, blob_dir, [
        {"domain": "tangniao-a.test", "leads": ["wechat:tnb8888"], "html": popular},
        {"domain": "tangniao-b.test", "leads": ["wechat:tnb8888"], "html": BAIDU},
        {"domain": "tangniao-c.test", "html": BAIDU, "ip": "114.114.114.114"},
        {"domain": "same-host-1.test", "ip": "47.95.1.10"},  # one shared host: 0.4 + its /24 0.2
        {"domain": "same-host-2.test", "ip": "47.95.1.10"},
        {"domain": "licence-1.test", "licence": "（京）-经营性-2020-0001", "ip": "39.96.5.5"},
        {"domain": "licence-2.test", "licence": "（京）-经营性-2020-0001", "ip": "39.96.5.5"},
        {"domain": "cert-1.test", "cert": "ab" * 32, "ip": "39.100.1.1"},  # one certificate on one host: 0.8 + 0.4
        {"domain": "cert-2.test", "cert": "ab" * 32, "ip": "39.100.1.1"},
        {"domain": "cert-only-1.test", "cert": "cd" * 32},  # a certificate alone: 0.8, not enough
        {"domain": "cert-only-2.test", "cert": "cd" * 32},
        {"domain": "cdn-1.test", "leads": [], "ip": "104.16.1.1"},
        {"domain": "cdn-2.test", "leads": [], "ip": "104.16.1.1"},
        *({"domain": f"shop{i}.test", "html": popular, "flagged": False} for i in range(30)),  # a platform id
        {"domain": "clean.test", "leads": ["wechat:tnb8888"], "flagged": False},  # not flagged: not a member
    ])
    found = networks(sessions)
    assert sorted(found.values()) == [["cert-1.test", "cert-2.test"], ["licence-1.test", "licence-2.test"],
                                      ["tangniao-a.test", "tangniao-b.test", "tangniao-c.test"]]
    network_id = next(i for i, sites in found.items() if "tangniao-a.test" in sites)
    with sessions() as session:
        detail = network_detail(session, network_id).to_json()
    assert [(link["kind"], link["sites"]) for link in detail["links"]] == [
        ("baidu_tongji", ["tangniao-b.test", "tangniao-c.test"]), ("wechat", ["tangniao-a.test", "tangniao-b.test"])]


def test_a_network_keeps_its_id_as_it_grows_and_absorbs_a_younger_one(sessions, home: Path) -> None:  # type: ignore[no-untyped-def]
    blob_dir = home / "blobs"
    scan(sessions, blob_dir, [{"domain": "a.test", "leads": ["phone:13800138000"]},
                              {"domain": "b.test", "leads": ["phone:13800138000"]},
                              {"domain": "x.test", "leads": ["qq:12345678"]},
                              {"domain": "y.test", "leads": ["qq:12345678"]}])
    first = networks(sessions)
    older = next(i for i, sites in first.items() if "a.test" in sites)
    younger = next(i for i, sites in first.items() if "x.test" in sites)
    scan(sessions, blob_dir, [{"domain": "c.test", "leads": ["phone:13800138000", "email:shop@evil.test"]}])
    assert networks(sessions)[older] == ["a.test", "b.test", "c.test"]
    scan(sessions, blob_dir, [{"domain": "bridge.test", "leads": ["email:shop@evil.test", "qq:12345678"]}])
    assert networks(sessions) == {older: ["a.test", "b.test", "bridge.test", "c.test", "x.test", "y.test"]}
    with sessions() as session:
        assert session.get_one(OperatorNetwork, younger).merged_into == older
        assert network_detail(session, older).merged_from == [younger]
    with db.transaction(sessions) as session:  # a full rebuild (`network build`) changes nothing
        assert build_networks(session) == NetworkChange()
    assert networks(sessions) == {older: ["a.test", "b.test", "bridge.test", "c.test", "x.test", "y.test"]}


def test_a_qr_code_in_two_sites_screenshots_links_them(sessions, home: Path) -> None:  # type: ignore[no-untyped-def]
    scan(sessions, home / "blobs", [{"domain": "qr-a.test", "qr": "https://u.wechat.com/EJ3Kz8abc"},
                                    {"domain": "qr-b.test", "qr": "https://u.wechat.com/EJ3Kz8abc"},
                                    {"domain": "qr-c.test", "qr": "wxp://f2f0other"}])
    [(network_id, sites)] = networks(sessions).items()
    assert sites == ["qr-a.test", "qr-b.test"]
    with sessions() as session:
        [link] = network_detail(session, network_id).links
    assert (link["kind"], link["value"]) == ("qr", "https://u.wechat.com/EJ3Kz8abc")


def test_network_list_and_show_through_the_cli(sessions, home: Path) -> None:  # type: ignore[no-untyped-def]
    scan(sessions, home / "blobs", [{"domain": "a.test", "leads": ["wechat:abc12345"]},
                                    {"domain": "b.test", "leads": ["wechat:abc12345"]}])
    env = {"PHARMWATCH_HOME": str(home), "PHARMWATCH_CONFIG": ""}

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), env=env, obj={})

    [listed] = json.loads(run("network", "list", "--format", "json").stdout)
    assert listed["sites"] == ["a.test", "b.test"] and listed["identifiers"] == 1
    shown = json.loads(run("network", "show", str(listed["id"]), "--format", "json").stdout)
    assert shown["links"][0]["value"] == "abc12345"
    dot = run("network", "show", str(listed["id"]), "--format", "dot").stdout
    assert dot.startswith("graph network_") and '"a.test" -- "wechat:abc12345"' in dot
    missing = run("network", "show", "99")
    assert missing.exit_code == 2 and "no network 99" in missing.stderr


def test_a_whole_network_is_blacklisted_in_one_act_and_its_contacts_flag_the_next_site(sessions, home: Path,
                                                                                       tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scan(sessions, home / "blobs", [{"domain": "a.test", "leads": ["wechat:abc12345", "phone:13912345678"]},
                                    {"domain": "b.test", "leads": ["wechat:abc12345"]}])
    env = {"PHARMWATCH_HOME": str(home), "PHARMWATCH_CONFIG": ""}

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), env=env, obj={})

    [network] = json.loads(run("network", "list", "--format", "json").stdout)
    done = run("network", "blacklist", str(network["id"]), "--reason", "串并案 一号", "--by", "科长")
    assert done.exit_code == 0 and "4 blacklist entries added" in done.stdout
    entries = {(e["kind"], e["value"]): e["reason"] for e in json.loads(run("blacklist", "list", "--format",
                                                                            "json").stdout)}
    assert set(entries) == {("site", "a.test"), ("site", "b.test"), ("wechat", "abc12345"), ("phone", "13912345678")}
    assert entries[("site", "a.test")] == f"串并案 一号 (operator network {network['id']})"
    again = run("network", "blacklist", str(network["id"]), "--reason", "again")
    assert "0 blacklist entries added" in again.stdout and "already on the list" in again.stderr
    page = tmp_path / "new-front.txt"
    page.write_text("新店开业，加微信 abc12345 咨询。", encoding="utf-8")
    checked = json.loads(run("check", str(page), "--json", "--no-fail").stdout)[0]
    assert checked["signals"]["blacklisted_operator"] is True


def test_one_referral_covers_a_whole_network_and_its_letter_lists_every_site_and_link(sessions, home: Path,
                                                                                      tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scan(sessions, home / "blobs", [{"domain": "a.test", "leads": ["wechat:abc12345"]},
                                    {"domain": "b.test", "leads": ["wechat:abc12345", "phone:13912345678"]},
                                    {"domain": "c.test", "leads": ["phone:13912345678"]},
                                    {"domain": "lone.test", "leads": ["qq:99999999"]}])
    with db.transaction(sessions) as session:
        open_cases_for_scan(session, session.query(Capture.scan_run_id).first()[0])
    env = {"PHARMWATCH_HOME": str(home), "PHARMWATCH_CONFIG": ""}

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), env=env, obj={})

    cases = {c["site"]: c["id"] for c in json.loads(run("case", "list", "--format", "json").stdout)}
    [network] = json.loads(run("network", "list", "--format", "json").stdout)
    for site in ("a.test", "lone.test"):
        run("case", "review", str(cases[site]))
        run("case", "confirm", str(cases[site]))
    outside = run("referral", "create", "--case", str(cases["lone.test"]), "--network", str(network["id"]))
    assert outside.exit_code == 2 and f"is not in operator network {network['id']}" in outside.stderr
    made = run("referral", "create", "--case", str(cases["a.test"]), "--network", str(network["id"]), "--to", "police")
    assert made.exit_code == 0, made.output
    letter = tmp_path / "letter.html"
    assert run("referral", "letter", "1", "-o", str(letter)).exit_code == 0
    html = letter.read_text(encoding="utf-8")
    assert f"串并案 {network['id']}，共 3 个网站" in html
    assert "a.test<br>b.test<br>c.test" in html
    assert "wechat：abc12345（a.test、b.test" in html and "phone：13912345678（b.test、c.test" in html
    assert json.loads(run("referral", "show", "1", "--format", "json").stdout)["network_id"] == network["id"]


def shop_page(name: str, products: list[str], *, variant: bool = False) -> str:
    """A shop's front page built from a seller's template: his header, menu, product grid, order form and
    footer; `variant` is another template (a sidebar instead of the menu, a table for the products)."""
    items = "".join(f'<div class="item"><a href="/p/{i}"><img src="/img/{i}.jpg"></a><h3>{title}</h3>'
                    f'<p class="price">￥{98 + i}</p><button>购买</button></div>' for i, title in enumerate(products))
    rows = "".join(f"<tr><td><img src='/img/{i}.jpg'></td><td>{title}</td><td><a>购买</a></td></tr>"
                   for i, title in enumerate(products))
    menu = ("<aside><dl><dt>分类</dt><dd><a>降糖</a></dd></dl></aside>" if variant else
            "<nav><ul><li><a>首页</a></li><li><a>产品</a></li><li><ol><li><a>案例</a></li></ol></li></ul></nav>")
    grid = f"<section><table><tbody>{rows}</tbody></table></section>" if variant else \
        f"<section><h2>热销</h2><div class='grid'>{items}</div></section>"
    return (f"<!doctype html><html><head><title>{name}</title><meta charset='utf-8'><script>var a=1;</script></head>"
            f"<body><header><div class='logo'><img src='/logo.png'><h1>{name}</h1></div>{menu}</header>"
            f"<main><div class='banner'><img src='/b.jpg'><p>{name}，<strong>限时</strong>特惠</p></div>{grid}"
            "<form action='/order'><label>姓名<input name='n'></label><label>电话<input name='t'></label>"
            "<select name='q'><option>1</option></select><textarea name='a'></textarea><button>提交</button></form>"
            f"</main><footer><div><p>{name} 版权所有</p><address><a>联系我们</a></address></div>"
            "<ul><li><a>关于</a></li></ul></footer></body></html>")


def test_two_shops_from_one_template_share_a_fingerprint_with_other_words_and_products_a_third_does_not() -> None:
    first = shop_page("糖安康", ["降糖灵", "糖脉通", "胰宝"])
    second = shop_page("风湿骨痛宁", ["骨痛贴", "风湿膏", "关节灵", "痛风宁", "祛湿丸"])
    other = shop_page("糖安康", ["降糖灵", "糖脉通", "胰宝"], variant=True)
    assert template_fingerprint(first) is not None
    assert template_fingerprint(first) == template_fingerprint(second)
    assert template_fingerprint(other) not in (None, template_fingerprint(first))
    assert template_fingerprint("<html><body><h1>根治糖尿病</h1><p>加微信</p></body></html>") is None  # too bare
    assert template_fingerprint("") is None


def test_a_shared_template_only_adds_to_another_tie_and_a_shop_systems_template_links_nothing(
        sessions, home: Path) -> None:  # type: ignore[no-untyped-def]
    template = shop_page("甲", ["一", "二"])
    system = shop_page("乙", ["一"], variant=True)  # a common shop system's template, on many shops
    scan(sessions, home / "blobs", [
        {"domain": "tpl-only-1.test", "html": template},  # the template alone: 0.4
        {"domain": "tpl-only-2.test", "html": template},
        {"domain": "tpl-host-1.test", "html": template.replace("甲", "丙"), "ip": "39.96.7.7"},  # + host 0.4 + /24 0.2
        {"domain": "tpl-host-2.test", "html": template.replace("甲", "丁"), "ip": "39.96.7.7"},
        {"domain": "system-1.test", "html": system, "ip": "39.97.1.1"},
        {"domain": "system-2.test", "html": system, "ip": "39.97.1.1"},
        *({"domain": f"system-shop{i}.test", "html": system, "flagged": False} for i in range(30)),
    ])
    [(network_id, sites)] = networks(sessions).items()  # the template alone (0.4 per pair) links no one
    assert sites == ["tpl-host-1.test", "tpl-host-2.test"]
    with sessions() as session:
        kinds = sorted((link["kind"], link["strength"]) for link in network_detail(session, network_id).links)
    assert kinds == [("ip", 0.4), ("ip24", 0.2), ("template", 0.4)]


def test_doorway_domains_redirecting_to_one_shop_are_linked_with_it_and_a_marketplace_target_links_nothing(
        sessions, home: Path) -> None:  # type: ignore[no-untyped-def]
    scan(sessions, home / "blobs", [  # a registered suffix (.com.cn): subdomains fold into the shop's domain
        {"domain": "tangniao-shop.com.cn"},
        {"domain": "door-1.test", "final_url": "https://www.tangniao-shop.com.cn/index.php?from=door-1"},
        {"domain": "door-2.test", "final_url": "http://m.tangniao-shop.com.cn/"},
        {"domain": "self.test", "final_url": "https://www.self.test/"},  # its own domain: no redirect
        {"domain": "to-taobao-1.test", "final_url": "https://item.taobao.com/item.htm?id=1"},
        {"domain": "to-taobao-2.test", "final_url": "https://item.taobao.com/item.htm?id=2"},
    ])
    [(network_id, sites)] = networks(sessions).items()
    assert sites == ["door-1.test", "door-2.test", "tangniao-shop.com.cn"]
    with sessions() as session:
        [link] = network_detail(session, network_id).links
        assert (link["kind"], link["value"], link["strength"]) == ("redirect", "tangniao-shop.com.cn", 1.0)
        assert not session.query(SiteIdentifier).filter_by(kind="redirect", value="self.test").count()
    scan(sessions, home / "blobs", [{"domain": "door-1.test", "final_url": "https://tangniao-shop.com.cn/"}])
    with sessions() as session:  # the shop's row is seen again, not added twice
        assert session.query(SiteIdentifier).filter_by(kind="redirect", value="tangniao-shop.com.cn").count() == 3


def test_one_phone_number_written_three_ways_is_one_identifier(sessions, home: Path) -> None:  # type: ignore[no-untyped-def]
    from rules.reference.identifiers.contacts import contact_leads

    spellings = {"e164.test": "咨询热线 +86 139 1234 5678", "intl.test": "电话：008613912345678",
                 "dashes.test": "订购电话 139-1234-5678", "hotline.test": "全国热线 4006123456",
                 "hotline-2.test": "客服 400-612-3456"}
    leads = {domain: [f"{c.kind}:{c.normalised}" for c in contact_leads(text)] for domain, text in spellings.items()}
    assert {tuple(found) for found in leads.values()} == {("phone:13912345678",), ("phone:400-612-3456",)}
    scan(sessions, home / "blobs", [{"domain": domain, "leads": found} for domain, found in leads.items()])
    assert sorted(networks(sessions).values()) == [["dashes.test", "e164.test", "intl.test"],
                                                   ["hotline-2.test", "hotline.test"]]


def test_doorways_passing_through_one_tracker_are_linked_and_a_search_engine_or_shortener_hop_links_nothing(
        sessions, home: Path) -> None:  # type: ignore[no-untyped-def]
    scan(sessions, home / "blobs", [
        # Two doorways whose redirects pass through one cloaker (two of its hosts) on the way to two shops.
        {"domain": "door-a.test", "hops": ["http://jump.cloak-trk.cn/c?id=1"], "final_url": "http://shop-1.test/"},
        {"domain": "door-b.test", "hops": ["https://go.cloak-trk.cn/r/2", "http://shop-2.test/go"], "final_url": "http://shop-2.test/"},
        {"domain": "shop-1.test"}, {"domain": "shop-2.test"},
        # Two more through public redirectors only: a search engine's click link and a URL shortener.
        {"domain": "door-c.test", "hops": ["https://www.baidu.com/link?url=x1", "http://t.cn/A6x"],
         "final_url": "http://shop-3.test/"},
        {"domain": "door-d.test", "hops": ["https://www.baidu.com/link?url=x2", "http://t.cn/B7y"],
         "final_url": "http://shop-4.test/"},
    ])
    found = sorted(networks(sessions).values())
    assert found == [["door-a.test", "door-b.test", "shop-1.test", "shop-2.test"]]
    [(network_id, _)] = networks(sessions).items()
    with sessions() as session:
        ties = {(link["value"], tuple(link["sites"])) for link in network_detail(session, network_id).links}
        hops_of_c = set(session.scalars(select(SiteIdentifier.value).join(Site, Site.id == SiteIdentifier.site_id)
                                        .where(Site.domain == "door-c.test", SiteIdentifier.kind == "redirect")))
    # The cloaker ties the doorways, and the shops reached through it; each shop is tied to its doorway.
    assert ("cloak-trk.cn", ("door-a.test", "door-b.test", "shop-1.test", "shop-2.test")) in ties
    assert ("shop-2.test", ("door-b.test", "shop-2.test")) in ties
    assert hops_of_c == {"baidu.com", "t.cn", "shop-3.test"}  # recorded, but on the stop-list


THINKPHP_DEFAULT_ICON = "50ee6523a4cba10377554c53f88bcd8b53cb5d11a03439f04f73aff55e982e86"  # on the stop-list


def test_a_shared_icon_only_adds_to_another_tie_and_a_frameworks_default_icon_adds_nothing(
        sessions, home: Path) -> None:  # type: ignore[no-untyped-def]
    logo, other = "1f" * 32, "2e" * 32
    scan(sessions, home / "blobs", [
        {"domain": "icon-only-1.test", "favicon": logo},  # the icon alone: 0.4
        {"domain": "icon-only-2.test", "favicon": logo},
        {"domain": "icon-host-1.test", "favicon": other, "ip": "39.98.2.2"},  # + host 0.4 + its /24 0.2
        {"domain": "icon-host-2.test", "favicon": other, "ip": "39.98.2.2"},
        # Two shops on one shared host, both built on ThinkPHP and never given an icon of their own.
        {"domain": "thinkphp-1.test", "favicon": THINKPHP_DEFAULT_ICON, "ip": "39.99.3.3"},
        {"domain": "thinkphp-2.test", "favicon": THINKPHP_DEFAULT_ICON, "ip": "39.99.3.3"},
    ])
    [(network_id, sites)] = networks(sessions).items()
    assert sites == ["icon-host-1.test", "icon-host-2.test"]
    with sessions() as session:
        kinds = sorted((link["kind"], link["strength"]) for link in network_detail(session, network_id).links)
        indexed = session.query(SiteIdentifier).filter_by(kind="favicon", value=THINKPHP_DEFAULT_ICON).count()
    assert kinds == [("favicon", 0.4), ("ip", 0.4), ("ip24", 0.2)]
    assert indexed == 2  # indexed like any icon: the stop-list decides what links, not what is recorded


def test_each_kind_of_identifier_counts_once_per_pair() -> None:
    # A page's plain and rendered copies give two template values; one host can show two addresses: more
    # values of one kind are one piece of evidence, so template + icon (0.8) stays below a link.
    weak = {("template", "plain"): {1, 2}, ("template", "rendered"): {1, 2}, ("favicon", "f" * 64): {1, 2},
            ("template", "t3"): {3, 4}, ("favicon", "e" * 64): {3, 4}, ("ip", "39.96.7.7"): {3, 4}}
    assert groups(weak) == [{3, 4}]


def test_every_stoplist_entry_is_a_well_formed_identifier_or_address_range() -> None:
    import re

    import yaml

    from cases.networks import STOPLIST_PATH, STRENGTH, stoplist
    from crawler.domains import site_of

    raw = yaml.safe_load(STOPLIST_PATH.read_text(encoding="utf-8"))
    identifiers, ranges = stoplist()
    offenders = []
    for entry in raw["identifiers"]:
        kind, _, value = entry.partition(":")
        if kind not in STRENGTH:
            offenders.append(f"{entry}: unknown kind")
        elif kind == "favicon" and not re.fullmatch(r"[0-9a-f]{64}", value):
            offenders.append(f"{entry}: not a SHA-256 in lower-case hex")
        elif kind == "redirect" and site_of(f"http://{value}/") != value:
            offenders.append(f"{entry}: not a registrable domain, as the index writes it")
    assert offenders == []
    assert len(identifiers) == len(raw["identifiers"])  # no repeats
    assert {"redirect:baidu.com", "redirect:t.cn", f"favicon:{THINKPHP_DEFAULT_ICON}"} <= identifiers
    assert len(ranges) == len(raw["networks"])
