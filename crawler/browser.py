"""Chromium for the crawler: scrapy-playwright, made safe to leave running unattended.

scrapy-playwright trusts the browser. A Chromium that is killed, runs out of memory or is wedged
by a hostile page can leave page operations waiting forever (its child processes may keep the
control pipe open, so the disconnection is never noticed), and Scrapy's DOWNLOAD_TIMEOUT does not
apply to browser downloads: one bad page would hang the overnight scan. This handler adds:

- a deadline on every browser download (twice the navigation timeout, plus the render wait and a
  margin). When it passes, the browser is probed; if it does not answer it is abandoned and the
  next page launches a new one. The page is recorded as failed with the reason.
- a throwaway browser context per capture (requests whose `playwright_context` starts with
  `CAPTURE_CONTEXT_PREFIX`), closed after the page: a seller's cookies, service workers and
  popups never reach the next site, and a wedged page takes only its own context with it.
- the address guard inside Chromium: every request the browser makes (sub-resources, frames,
  scripted navigations, popups) is judged by the crawl's address policy (crawler/addresses.py),
  like Scrapy's own requests, and aborted when refused; a page whose navigation was
  refused fails with AddressRefused and the reason. Redirect hops are the exception: Playwright
  does not route them, so a redirect served only to the browser is judged after Chromium followed
  it, and the page is refused then (the plain fetch, which Chromium re-renders the final URL of,
  is guarded on every hop).
- bounded memory: Chromium is relaunched after `CAPTURE_BROWSER_RECYCLE_PAGES` pages (its browser
  process grows with the pages it has served even when each context is closed). New pages wait
  until the pages in flight are done (at most a deadline), then every context and the browser are
  closed and the next page launches a fresh one.
- the render wait ends when the page has settled (`settle`) instead of always taking
  `CAPTURE_RENDER_WAIT_MS`, and the full-page PNG is encoded for speed (`full_page_png`).
- speed: a spare context and page for the next capture are opened while a page renders
  (`CAPTURE_BROWSER_SPARE_PAGE`; opening them is a third of a page's time), and Chromium routes
  through Python only the requests the address guard must judge (`judged_urls`).
- bounded shutdown: closing a dead browser does not hang the end of the scan.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import re
import weakref
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Route
from playwright.async_api import Request as PlaywrightRequest
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy_playwright.handler import BrowserContextWrapper, ScrapyPlaywrightDownloadHandler

from crawler.addresses import AddressPolicy
from crawler.middlewares.address_guard import AddressRefused, policy_from_settings

logger = logging.getLogger(__name__)

CAPTURE_CONTEXT_PREFIX = "capture-"
PROBE_SECONDS = 10.0  # a healthy browser opens and closes a context well within this
CLOSE_SECONDS = 15.0


#: Installed in every context we open, before the page's own scripts: keeps count of what the page is
#: still doing (fetch and XHR calls in flight, timers due within the render wait, DOM changes) so the
#: render wait can end as soon as the page has settled. A page can tamper with it (it runs in the
#: page's world); the worst it can do is end its own render wait early, as a page that renders later
#: than the wait always could.
SETTLE_SCRIPT = """
(() => {
  if (window.__pharmwatchSettled) { return; }
  const budget = %(budget_ms)d;
  let busy = 0, lastChange = performance.now();
  const timers = new Set();
  const changed = () => { lastChange = performance.now(); };
  const setTimeout_ = window.setTimeout, clearTimeout_ = window.clearTimeout;
  window.setTimeout = function (callback, delay, ...rest) {
    if (typeof callback !== "function" || !(Number(delay || 0) <= budget)) {
      return setTimeout_.call(window, callback, delay, ...rest);
    }
    const id = setTimeout_.call(window, function () {
      timers.delete(id); changed(); return callback.apply(this, rest);
    }, delay);
    timers.add(id);
    return id;
  };
  window.clearTimeout = function (id) { timers.delete(id); return clearTimeout_.call(window, id); };
  const fetch_ = window.fetch;
  if (fetch_) {
    window.fetch = function (...args) {
      busy++;
      const done = () => { busy--; changed(); };
      const promise = fetch_.apply(this, args);
      promise.then(done, done);
      return promise;
    };
  }
  const send_ = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    busy++;
    this.addEventListener("loadend", () => { busy--; changed(); }, { once: true });
    return send_.apply(this, args);
  };
  // Images and external scripts the page adds (a catalogue's pictures, a loader's next script) are
  // loading until they report so: an image until it is complete, a script until load or error. Lazy
  // images and scripts the browser will not run never load and are not counted; scripts the parser
  // inserts are awaited by the load event already (and may have loaded before we could listen).
  const images = new Set();
  const runs = /^$|^module$|^(text|application)\\/(x-)?(java|ecma)script$/i;
  const watch = (node) => {
    if (node.nodeType !== 1) { return; }
    const found = node.childElementCount ? [node, ...node.querySelectorAll("img, script[src]")] : [node];
    for (const element of found) {
      if (element.tagName === "IMG" && element.loading !== "lazy") {
        images.add(element);
      } else if (element.tagName === "SCRIPT" && document.readyState !== "loading" && element.src
                 && !element.noModule
                 && runs.test(element.type.trim()) && !element.__pharmwatchCounted) {
        element.__pharmwatchCounted = true;
        busy++;
        const done = () => { busy--; changed(); };
        element.addEventListener("load", done, { once: true });
        element.addEventListener("error", done, { once: true });
      }
    }
  };
  new MutationObserver((records) => {
    changed();
    for (const record of records) { record.addedNodes.forEach(watch); }
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  const imagesLoading = () => {
    for (const image of images) {
      if (image.complete || !image.isConnected) { images.delete(image); }
    }
    return images.size > 0;
  };
  const settled = (quietMs) => document.readyState === "complete" && busy <= 0 && timers.size === 0
    && (!document.fonts || document.fonts.status === "loaded") && performance.now() - lastChange >= quietMs
    && !imagesLoading();
  // Resolves once settled, or after `waitMs`; polls with the page's own timer (uncounted), not a frame loop.
  Object.defineProperty(window, "__pharmwatchSettled", { value: (quietMs, waitMs) => new Promise((resolve) => {
    const until = performance.now() + waitMs;
    const poll = () => {
      if (settled(quietMs) || performance.now() >= until) { resolve(true); return; }
      setTimeout_.call(window, poll, 25);
    };
    poll();
  }) });
})();
"""
#: The page must have been still (no DOM change, nothing in flight) this long to count as settled. What
#: is in flight is counted (fetch, XHR, timers, images, added scripts), so the quiet is only for work we
#: cannot see (animation frames, message passing): 100 ms, down from 200 when images and added scripts
#: were not counted.
SETTLE_QUIET_MS = 100
SETTLE_MARGIN_SECONDS = 2.0  # past the budget, a page that does not answer is not waited for


#: URLs whose host the address policy judges without DNS: literal IPv4/IPv6 addresses and localhost names.
#: Chromium canonicalises hosts (lower case, `0x7f.1` → `127.0.0.1`) before a request is made, so the
#: forms it can send are these. Matched by Playwright's driver (a JavaScript regular expression): a
#: request that does not match is never paused for Python.
LITERAL_HOST_URLS = (r"^https?://(?:[^/?#@]*@)?(?:\[[0-9A-Fa-f:.]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
                     r"|(?:[^/?#:@]*\.)?localhost\.?)(?::[0-9]*)?(?:[/?#]|$)")


def judged_urls(policy: AddressPolicy | None, page_url: str | None = None) -> str | re.Pattern[str] | None:
    """What Chromium must route through Python: the URLs the address policy could refuse, plus the page's
    own URL (its navigation carries the Scrapy request's headers). `"**"` (everything) when the policy
    resolves names, since any name may resolve to a private address; only literal addresses and
    localhost when a proxy resolves names (crawler/addresses.py); None when nothing needs routing.

    Every request paused for Python costs a round trip through Playwright's driver (~+160 ms CPU per
    shop page when every sub-resource was routed: bench/browser_capture.py --profile)."""
    if policy is not None and policy.resolve_names:
        return "**"
    alternatives = [LITERAL_HOST_URLS] if policy is not None else []
    if page_url:
        alternatives.append("^" + re.escape(page_url.rstrip("/")) + "/?$")
    return re.compile("|".join(f"(?:{a})" for a in alternatives)) if alternatives else None


@dataclass
class SparePage:
    """A fresh context and page opened ahead for the next capture (never used twice, like any capture's)."""

    context_name: str
    context_kwargs: dict[str, Any]
    page: Page
    browser: Any  # the Chromium it was opened in: one relaunched or abandoned since makes it useless


class BrowserTimeout(Exception):
    """Chromium did not finish a page within the deadline."""


async def settle(page: Page, budget_ms: int) -> None:
    """Give the page's scripts up to `budget_ms` after load, ending as soon as the page has settled.

    Settled: loaded, no fetch or XHR in flight, no timer due within the budget pending, no image or
    external script added after load still arriving, fonts loaded, and no DOM change for
    `SETTLE_QUIET_MS`. A page that keeps polling never settles and gets
    the whole budget (the fixed wait used before). A page without our script (another document
    type, or a page that removed it) gets the whole budget too.
    """
    if budget_ms <= 0:
        return
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        instrumented = await asyncio.wait_for(page.evaluate(
            "([quiet, wait]) => window.__pharmwatchSettled ? window.__pharmwatchSettled(quiet, wait) : false",
            [SETTLE_QUIET_MS, budget_ms]), budget_ms / 1000 + SETTLE_MARGIN_SECONDS)
    except TimeoutError:
        return  # a page busy in a script: its budget is used up; the deadline covers what follows
    except PlaywrightError:
        instrumented = False  # the page navigated while we asked (a script-driven redirect)
    if not instrumented:
        left = budget_ms - (loop.time() - started) * 1000
        if left > 0:
            await page.wait_for_timeout(left)


async def full_page_png(page: Page) -> bytes:
    """A full-page PNG screenshot, encoded by Chromium for speed rather than size.

    The same pixels as Playwright's `page.screenshot(full_page=True, type="png")` (lossless either
    way), about half the time on shop pages and files about a fifth larger (Chrome DevTools
    Protocol `optimizeForSpeed`; Playwright does not expose it). Falls back to Playwright's own.
    """
    try:
        session = await page.context.new_cdp_session(page)
    except PlaywrightError:
        return await page.screenshot(full_page=True, type="png")
    try:
        metrics = await session.send("Page.getLayoutMetrics")
        size = metrics["cssContentSize"]
        shot = await session.send("Page.captureScreenshot", {
            "format": "png", "optimizeForSpeed": True, "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        })
        return base64.b64decode(shot["data"])
    except PlaywrightError:
        if page.is_closed():
            raise
        return await page.screenshot(full_page=True, type="png")
    finally:
        try:
            await session.detach()
        except PlaywrightError:
            pass


class CaptureBrowserHandler(ScrapyPlaywrightDownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        navigation = settings.getfloat("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT") / 1000
        self.render_wait_ms = settings.getint("CAPTURE_RENDER_WAIT_MS")
        self.user_agent = settings.get("USER_AGENT")
        self.deadline = 2 * navigation + self.render_wait_ms / 1000 + 10
        # Bounded memory: the browser is relaunched after this many pages (0: never).
        self.recycle_pages = settings.getint("CAPTURE_BROWSER_RECYCLE_PAGES")
        self.pages_since_launch = 0
        self.open_pages = 0  # pages open or being opened: a recycle waits for none
        self.no_open_pages = asyncio.Event()
        self.no_open_pages.set()
        self.recycle_lock = asyncio.Lock()
        self.policy: AddressPolicy | None = None
        if settings.getbool("GUARD_ENABLED"):
            self.policy = policy_from_settings(settings)
            self.abort_request = self._refuse
        self._requests_of_pages: weakref.WeakKeyDictionary[Page, Request] = weakref.WeakKeyDictionary()
        self.spare_enabled = settings.getbool("CAPTURE_BROWSER_SPARE_PAGE")
        self._spare: asyncio.Task[SparePage | None] | None = None
        self._spare_names = itertools.count(1)

    async def _download_request(self, request: Request, spider: Any = None) -> Response:
        context_name = request.meta.get("playwright_context", "")
        # scrapy-playwright routes every request of the page through Python ("**"); narrow it first thing.
        request.meta.setdefault("playwright_page_init_callback", self._route_only_judged)
        if self.spare_enabled and context_name.startswith(CAPTURE_CONTEXT_PREFIX) \
                and "playwright_page" not in request.meta:
            spare = await self._take_spare(request)
            self._open_spare(request)
            self.stats.inc_value(f"playwright/spare_page/{'used' if spare else 'not_ready'}")
            if spare is not None:
                context_name = request.meta["playwright_context"] = spare.context_name
                request.meta["playwright_page"] = spare.page
        try:
            response = await asyncio.wait_for(super()._download_request(request, spider), self.deadline)
        except TimeoutError:
            await self._close_pages_of(request)
            await self._replace_browser_if_unresponsive()
            raise BrowserTimeout(f"Chromium did not finish the page within {self.deadline:.0f} s") from None
        except PlaywrightError:
            refused = request.meta.get("guard_refused")
            if refused:
                raise AddressRefused(refused) from None
            raise
        finally:
            request.meta.pop("playwright_page", None)  # closed by now; the response need not hold it
            if context_name.startswith(CAPTURE_CONTEXT_PREFIX):
                await self._close_context(context_name)
        # Chromium follows redirects without asking the route again, so a redirect served only to
        # the browser (cloaking) can be judged only once followed: refuse to keep what it led to.
        for url in [*request.meta.get("redirect_urls", []), response.url]:
            reason = await self._refusal(url)
            if reason:
                raise AddressRefused(f"{reason}, reached by a redirect inside Chromium")
        return response

    async def _create_page(self, request: Request, spider: Any, spare: bool = False) -> Page:
        if self.recycle_pages and self.pages_since_launch >= self.recycle_pages:
            await self._recycle_browser()
        self.open_pages += 1
        self.no_open_pages.clear()
        if spare and self.config.max_contexts:
            # Spares are outside the context limit until used: a slot lent now is taken back when it is
            # used or closed (`_take_spare`, `_close_spare`), so a spare never waits for a capture's slot.
            self.context_semaphore.release()
        try:
            page = await super()._create_page(request, spider)
        except BaseException:
            self._page_gone()
            raise
        self.pages_since_launch += 1
        if spare:
            self._page_gone()  # waiting to be used is not being open: a recycle does not wait for it
        else:
            page.once("close", lambda _page: self._page_gone())
            self._requests_of_pages[page] = request
        return page

    def _open_spare(self, request: Request) -> None:
        """Start opening a spare for the next capture (like this request's context), unless one is there."""
        if self._spare is None:
            kwargs = dict(request.meta.get("playwright_context_kwargs") or {})
            self._spare = asyncio.ensure_future(self._new_spare(kwargs))

    async def _new_spare(self, kwargs: dict[str, Any]) -> SparePage | None:
        name = f"{CAPTURE_CONTEXT_PREFIX}spare-{next(self._spare_names)}"
        opening = Request("about:blank", meta={"playwright_context": name, "playwright_context_kwargs": kwargs})
        try:
            page = await asyncio.wait_for(self._create_page(opening, self._crawler.spider, spare=True), self.deadline)
        except Exception as exc:  # noqa: BLE001 - a spare is an optimisation: the capture opens its own
            logger.debug("No spare page: %r", exc)
            await self._close_context(name)
            if self.config.max_contexts:
                await self.context_semaphore.acquire()  # the slot lent to it
            return None
        return SparePage(name, kwargs, page, getattr(self, "browser", None))

    async def _take_spare(self, request: Request) -> SparePage | None:
        """The spare page, if it is ready and fits this request (same context options, same Chromium), with
        a context slot taken for it as any capture takes one; otherwise None (an unfit one is closed)."""
        task = self._spare
        if task is None or not task.done():
            return None  # still opening: it waits for the next capture (a burst of captures opens their own)
        self._spare = None
        spare = None if task.cancelled() or task.exception() is not None else task.result()
        if spare is None:
            return None
        wanted = dict(request.meta.get("playwright_context_kwargs") or {})
        browser = getattr(self, "browser", None)
        if (spare.page.is_closed() or spare.context_kwargs != wanted or spare.browser is not browser
                or spare.context_name not in self.context_wrappers):
            self.stats.inc_value("playwright/spare_page/unfit")
            await self._close_spare(spare)
            return None
        if self.config.max_contexts:
            await self.context_semaphore.acquire()  # spares are outside the limit until used (no deadlock)
        self.open_pages += 1
        self.no_open_pages.clear()
        spare.page.once("close", lambda _page: self._page_gone())
        self._requests_of_pages[spare.page] = request
        return spare

    async def _close_spare(self, spare: SparePage) -> None:
        if self.config.max_contexts:
            await self.context_semaphore.acquire()  # its close releases the slot it never held
        await self._close_context(spare.context_name)

    async def _route_only_judged(self, page: Page, request: Request) -> None:
        """Replace scrapy-playwright's route of every request ("**") by one of only what must be judged
        (`judged_urls`): images, scripts and stylesheets on named hosts behind a proxy load without a
        round trip through Python. The narrow route is added before the wide one is removed, so a
        failure in between leaves the page guarded."""
        pattern = judged_urls(self.policy, request.url)
        if pattern == "**":
            return
        if pattern is not None:
            await page.route(pattern, self._make_request_handler(
                context_name=request.meta.get("playwright_context", ""), method=request.method, url=request.url,
                headers=request.headers, body=request.body, encoding=request.encoding,
                spider=self._crawler.spider, initial_request_done=asyncio.Event()))
        await page.unroute("**")

    def _page_gone(self) -> None:
        self.open_pages = max(0, self.open_pages - 1)
        if self.open_pages == 0:
            self.no_open_pages.set()

    async def _recycle_browser(self) -> None:
        """Relaunch Chromium (bounded memory): wait for the pages in flight, then close every context and
        the browser; the next page launches a fresh one. Pages arriving meanwhile wait here."""
        async with self.recycle_lock:
            if self.pages_since_launch < self.recycle_pages:
                return  # another page recycled it while this one waited
            try:
                await asyncio.wait_for(self.no_open_pages.wait(), self.deadline)
            except TimeoutError:
                logger.warning("Recycling Chromium with %d page(s) still open", self.open_pages)
            self.pages_since_launch = 0
            browser = self.__dict__.pop("browser", None)
            if browser is None:
                return
            # Our own close, not a crash: scrapy-playwright's disconnection handler must not run.
            browser.remove_listener("disconnected", self._browser_disconnected_callback)
            self.stats.inc_value("playwright/browser_recycled")
            for name in list(self.context_wrappers):
                await self._close_context(name)
            self.context_wrappers.clear()
            await _close_quietly(browser)

    async def _create_browser_context(self, name: str, context_kwargs: dict | None,
                                      spider: Any = None) -> BrowserContextWrapper:
        # The crawl's user agent for every request of the page and for its scripts (`navigator`), so
        # sub-resources need no header rewriting (`_make_request_handler`).
        context_kwargs = {"user_agent": self.user_agent, **(context_kwargs or {})}
        try:
            wrapper = await super()._create_browser_context(name, context_kwargs, spider)
        except AttributeError as exc:
            # scrapy-playwright launches the browser under a lock but uses `self.browser` after
            # releasing it; a page that timed out meanwhile may have abandoned that browser
            # (`_abandon_browser`). The context slot was released: open it on a fresh browser.
            if getattr(exc, "name", None) != "browser":
                raise
            wrapper = await super()._create_browser_context(name, context_kwargs, spider)
        # Before the page's own scripts: what `settle` asks whether the page is still busy.
        await wrapper.context.add_init_script(SETTLE_SCRIPT % {"budget_ms": self.render_wait_ms})
        judged = judged_urls(self.policy)
        if judged is not None:
            # Pages route through scrapy-playwright's handler (which asks `_refuse`); popups and
            # other pages the site opens have no page route, so the context guards them.
            await wrapper.context.route(judged, self._guard_route)
        return wrapper

    def _make_request_handler(self, *args: Any, **kwargs: Any) -> Any:
        """The page's route: navigations get scrapy-playwright's handling (the Scrapy request's headers,
        method and body); sub-resources only the address guard. They carry the context's user agent
        already, and scrapy-playwright would ask Chromium for each one's headers: a round trip per
        image, script and stylesheet, for nothing."""
        navigation_handler = super()._make_request_handler(*args, **kwargs)

        async def handle(route: Route, playwright_request: PlaywrightRequest) -> None:
            if playwright_request.is_navigation_request():
                await navigation_handler(route, playwright_request)
                return
            try:
                if self.policy is not None and await self._refuse(playwright_request):
                    self.stats.inc_value("playwright/request_count/aborted")
                    await route.abort()
                else:
                    await route.continue_()
            except PlaywrightError:
                pass  # the page closed meanwhile: nothing left to fetch for

        return handle

    async def _guard_route(self, route: Route, request: PlaywrightRequest) -> None:
        if await self._refuse(request):
            await route.abort()
        else:
            await route.fallback()

    async def _refuse(self, playwright_request: PlaywrightRequest) -> bool:
        """Whether Chromium must not make this request (the address guard's verdict)."""
        reason = await self._refusal(playwright_request.url)
        if reason is None:
            return False
        self.stats.inc_value("guard/refused_in_browser")
        if playwright_request.is_navigation_request():
            try:
                scrapy_request = self._requests_of_pages.get(playwright_request.frame.page)
            except PlaywrightError:  # a service worker's request has no frame
                scrapy_request = None
            if scrapy_request is not None:
                scrapy_request.meta["guard_refused"] = reason
        return True

    async def _refusal(self, url: str) -> str | None:
        """The address policy's reason to refuse `url`, or None (names resolved off the event loop, cached)."""
        if self.policy is None or not url.startswith(("http://", "https://")):
            return None  # data:, blob:, about: never leave the browser
        return await self.policy.refusal_async(url)

    async def _close_pages_of(self, request: Request) -> None:
        """Close the pages a timed-out request left open (cancelling it skipped scrapy-playwright's own close)."""
        for page in [page for page, owner in self._requests_of_pages.items() if owner is request]:
            try:
                await asyncio.wait_for(page.close(), CLOSE_SECONDS)
            except (TimeoutError, PlaywrightError):
                pass

    async def _close_context(self, name: str) -> None:
        wrapper = self.context_wrappers.get(name)
        if wrapper is None:
            return
        try:
            await asyncio.wait_for(wrapper.context.close(), CLOSE_SECONDS)
        except TimeoutError:
            await self._abandon_browser(f"context {name} did not close")
        except PlaywrightError:
            pass  # the browser is already gone; its disconnection handler tidies up

    async def _replace_browser_if_unresponsive(self) -> None:
        browser = getattr(self, "browser", None)
        if browser is None:
            return
        try:
            probe = await asyncio.wait_for(browser.new_context(), PROBE_SECONDS)
            await asyncio.wait_for(probe.close(), PROBE_SECONDS)
        except (TimeoutError, PlaywrightError):
            await self._abandon_browser("it stopped answering")

    async def _abandon_browser(self, why: str) -> None:
        """Forget the current browser (the next page launches a new one) and free its slots."""
        browser = self.__dict__.pop("browser", None)
        if browser is None:
            return
        logger.warning("Chromium abandoned and replaced: %s", why)
        self.stats.inc_value("playwright/browser_abandoned")
        if self._spare is not None:  # opened (or opening) in the abandoned browser: forgotten with it
            self._spare.cancel()
            self._spare = None
        self.context_wrappers.clear()
        # Its pages may never report closing: a recycle must not wait for them.
        self.open_pages, self.pages_since_launch = 0, 0
        self.no_open_pages.set()
        if self.config.max_contexts:
            # The lost contexts never report closing: start counting afresh, and wake whoever
            # waits on the old count (briefly over the limit rather than waiting forever).
            stale, self.context_semaphore = self.context_semaphore, asyncio.Semaphore(self.config.max_contexts)
            for _ in range(self.config.max_contexts):
                stale.release()
        asyncio.ensure_future(_close_quietly(browser))

    async def _close(self) -> None:
        if self._spare is not None:
            self._spare.cancel()
        try:
            await asyncio.wait_for(super()._close(), 2 * CLOSE_SECONDS)
        except (TimeoutError, PlaywrightError) as exc:
            logger.warning("Chromium did not close cleanly (%s); leaving it", type(exc).__name__)


async def _close_quietly(browser: Any) -> None:
    try:
        await asyncio.wait_for(browser.close(), CLOSE_SECONDS)
    except (TimeoutError, PlaywrightError):
        pass
