"""Every crawler default in one place (Scrapy's settings module; `scrapy.cfg` points here).

Groups by prefix: CAPTURE_* (what a site crawl keeps), GUARD_* (addresses the crawler refuses),
EGRESS_* (the outgoing proxy), SERP_* (search monitoring), STORE_* (where results go), ANALYSE_* (where
pages are analysed) and RULES_* (which rule packs analyse pages). The user's settings file maps its keys onto these
names (`pharmwatch/config.py`, `crawl_overrides`; documented in docs/settings.md) and takes its
defaults from here: this module is the one source of crawl defaults. `crawler.run.crawl` applies
the overrides and derives the rest; running `scrapy crawl` by hand uses these.
"""

BOT_NAME = "pharmwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# Enforcement crawling: a seller's robots.txt must not hide evidence from the regulator.
ROBOTSTXT_OBEY = False
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Outputs of one response (a page's capture and its links) processed at once. Scrapy starts this many tasks
# per response whatever it yields; at its default of 100 that was ~100 tasks a page on the reactor's thread.
CONCURRENT_ITEMS = 16
DOWNLOAD_DELAY = 0
DOWNLOAD_TIMEOUT = 30.0  # seconds; Chromium's navigation timeout is derived from it
DOWNLOAD_MAXSIZE = 0  # off: BodyLimitMiddleware truncates at CAPTURE_MAX_BODY_BYTES instead of dropping
RETRY_TIMES = 1
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "WARNING"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

DOWNLOAD_HANDLERS = {
    "http": "crawler.browser.CaptureBrowserHandler",
    "https": "crawler.browser.CaptureBrowserHandler",
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
CAPTURE_CHROMIUM_PATH = "/usr/bin/chromium"  # the browser Playwright launches (it cannot download its own here)
# Playwright cannot download its own browser here: Debian's Chromium, with the flags it needs as root.
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": CAPTURE_CHROMIUM_PATH,
    "headless": True,
    "args": [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    ],
}
PLAYWRIGHT_MAX_CONTEXTS = 4  # each captured page gets its own context (crawler/browser.py)
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000

DOWNLOADER_MIDDLEWARES_BASE_PHARMWATCH = {
    "crawler.middlewares.egress_proxy.EgressProxyMiddleware": 350,
    "crawler.middlewares.address_guard.AddressGuardMiddleware": 360,
    # process_response runs from high to low: before RetryMiddleware (550) retries at once.
    "crawler.middlewares.retry_after.RetryAfterMiddleware": 560,
    # process_response runs from high to low: before HttpCompressionMiddleware (590) decompresses.
    "crawler.middlewares.body_limit.BodyLimitMiddleware": 595,
}
DOWNLOADER_MIDDLEWARES = dict(DOWNLOADER_MIDDLEWARES_BASE_PHARMWATCH)

# Order is data: a page is analysed before it is stored, so a Capture and its Findings land together.
# With OCR on, the image step chooses pages from the text's analysis, and a page whose images it read
# is analysed again with their text.
PIPELINES_BASE = {
    "crawler.pipelines.favicon.FaviconPipeline": 250,  # each site's icon, once per crawl (FAVICON_ENABLED)
    "crawler.pipelines.analysis_pool.PooledPageAnalysisPipeline": 300,  # in ANALYSE_WORKERS processes
    "crawler.pipelines.ocr.ImageTextPipeline": 400,  # off unless OCR_ENABLED (NotConfigured)
    "crawler.pipelines.analyse.ImageTextAnalysisPipeline": 500,  # likewise
    "crawler.pipelines.batched_store.BatchedStorePipeline": 800,  # on a thread, STORE_BATCH_PAGES a commit
}
ITEM_PIPELINES = dict(PIPELINES_BASE)
EXTENSIONS = {"crawler.extensions.progress.ProgressLog": 500}

# CAPTURE_*: what the site spider fetches and keeps.
CAPTURE_MAX_PAGES_PER_SITE = 20  # pages requested per registrable domain
CAPTURE_MAX_DEPTH = 2  # link hops from a site's first page
CAPTURE_RENDER_FIRST_PAGE = True  # first page of every site through Chromium, with a screenshot
CAPTURE_RENDER_WAIT_MS = 1500  # most time scripts get after load before DOM and screenshot (less once settled)
# Chromium is relaunched after this many pages (0: never): its memory grows with the pages it served.
CAPTURE_BROWSER_RECYCLE_PAGES = 500
CAPTURE_BROWSER_SPARE_PAGE = True  # the next capture's context and page are opened while a page renders
CAPTURE_MAX_BODY_BYTES = 10 * 1024 * 1024  # larger bodies are truncated here, kept, and marked truncated
CAPTURE_JS_TEXT_THRESHOLD = 200  # a plain page with scripts and less visible text is re-fetched in Chromium
CAPTURE_RETRY_AFTER_MAX_SECONDS = 30.0  # a 429/503 asking for a longer wait is recorded, not retried
CAPTURE_RETRY_AFTER_TIMES = 2  # times a 429/503 with Retry-After is asked again, after the wait it names
CAPTURE_HOST_ADDRESSES = {}  # host → IP recorded as the server's address (like /etc/hosts); used behind a proxy

# GUARD_*: the crawler refuses private, loopback and link-local addresses unless allow-listed.
GUARD_ENABLED = True
GUARD_ALLOW = []  # CIDRs or host names let through, e.g. ["127.0.0.0/8"] for the demo web

# EGRESS_*: the HTTP proxy every request (Scrapy and Chromium) goes through; empty for direct.
EGRESS_PROXY = ""

# SERP_*: search monitoring.
SERP_PLAN = []  # [engine, query, pages]: engine names are crawler/serp/engines/*.yaml
SERP_BLOCK_RETRIES = 2  # a blocked result page is asked again this many times, later in the run
SERP_BLOCK_BACKOFF_SECONDS = 60.0  # first wait; doubles on each further block
SERP_PROXIES = {}  # engine → HTTP proxy for its result pages (else EGRESS_PROXY)
SERP_DELAYS = {}  # engine → seconds between its requests; its requests share one download slot
SERP_RENDER = []  # engines whose result pages are fetched through Chromium (scripts, anti-bot checks)
SERP_DONE_PAGES = []  # [engine, query, page] already stored for this scan run (a resumed scan)

# --- OCR of page images during a scan (issue #20). Off: a worker costs about 0.5-0.7 GB and 1 s an image.
OCR_ENABLED = False  # read the text in each captured page's images (scope "ocr")
OCR_MAX_IMAGES_PER_PAGE = 10  # images read per page, in page order
# Which images (crawler/ocr_choice.py): pages whose text is drug-related or suspicious, or whose site was
# flagged earlier in the crawl, or that are mostly images; never an image too small to hold a line.
OCR_MIN_IMAGE_BYTES = 1024  # smaller files are spacers, pixels, icons or flat placeholders: skipped
OCR_MIN_IMAGE_SIDE = 32  # ... and so are images narrower or lower than this (pixels)
OCR_MIN_IMAGE_PIXELS = 20_000  # ... or with fewer pixels than this (a 160x160 product shot passes, 120x120 not)
OCR_MOSTLY_IMAGES_TEXT_CHARS = 200  # less visible body text than this, beside a large image: "mostly images"
OCR_READ_SCREENSHOTS = True  # the full-page screenshot of a page that is mostly images is read too
OCR_TIME_BUDGET_SECONDS = 300.0  # OCR time per crawl (fetching included); past it no more images are read
OCR_TIMEOUT_SECONDS = 60.0  # one image, model loading of a fresh worker included; then the worker is killed
OCR_MAX_IMAGE_BYTES = 5 * 1024 * 1024  # larger images are not read
OCR_RECYCLE_IMAGES = 200  # the worker is replaced after this many images (its memory grows, RapidOCR#187)
OCR_RECYCLE_MB = 1500  # ... or once it holds more than this
OCR_CACHE_DIR = ""  # results by image SHA-256 across scans; `pharmwatch scan` sets <home>/ocr-cache

# FAVICON_*: each site's icon, fetched once per crawl through the downloader; its SHA-256 ties sites
# (cases.networks).
FAVICON_ENABLED = True
FAVICON_MAX_BYTES = 1024 * 1024  # larger icons are not fingerprinted

# STORE_*: where captures, findings and evidence go.
STORE_DATABASE_URL = ""  # required to store anything; `pharmwatch scan` sets it
STORE_BLOB_DIR = ""
STORE_SCAN_RUN_ID = 0
STORE_BATCH_PAGES = 50  # most pages per transaction of the store thread (it takes what waits, up to this)

# ANALYSE_*: where pages are analysed.
ANALYSE_WORKERS = 2  # processes forked with the loaded rule packs; 0: on the reactor's thread

# RULES_*: which rule packs analyse pages (empty: the bundled packs).
RULES_PATHS = []  # used when the spider was not handed a loaded `ruleset`
RULES_CACHE_DIR = ""  # compiled rule automata kept between loads; `pharmwatch scan` sets <home>/rules-cache
