# The two commands of the README: `make demo` (run it) and `make test` (test it).
# Both install what they need first: a virtualenv with pinned Python packages, and Debian's
# Chromium plus a CJK font (Playwright cannot download its own browser on these machines),
# PostgreSQL (the tests start a throwaway server), GNU time (peak-memory figures), Pango for
# WeasyPrint (the evidence report PDF), poppler-utils (pdftotext in tests), openssl (the test TSA), nginx
# (bench/static_crawl.py serves its generated pages with it; started by the bench, never as a service) and
# Tesseract with Chinese and English data (the second OCR engine, bench/ocr.py and its tests).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PHARMWATCH_HOME ?= $(CURDIR)/var

.PHONY: demo test test-fast test-postgresql install system-deps lint model eval bench

demo: install
	$(VENV)/bin/pharmwatch demo run

# The whole suite on SQLite, then the tests that store into the database again on a real PostgreSQL
# server (one throwaway server, a fresh database per test: tests/databases.py). Not the browser tests:
# they exercise Chromium, not SQL, and the double run must fit CI's time (the second pass's figure is in
# docs/architecture.md, "Testing on both databases").
PG_TESTS := tests/storage tests/cases tests/alerts tests/web tests/crawler/pipelines tests/reference/test_registry.py \
	tests/test_tips.py tests/test_cli.py tests/test_scheduler.py tests/test_scheduler_service.py
PG_MARKERS := not browser
test: install
	$(PY) -m pytest -q
	PHARMWATCH_TEST_DATABASE=postgresql $(PY) -m pytest -q -m "$(PG_MARKERS)" $(PG_TESTS)

test-postgresql: install
	PHARMWATCH_TEST_DATABASE=postgresql $(PY) -m pytest -q -m "$(PG_MARKERS)" $(PG_TESTS)

# The tests that start no Chromium, no scan and no server process: under a minute, for the edit-test loop.
FAST_MARKERS := not browser and not e2e and not slow
test-fast: install
	$(PY) -m pytest -q -m "$(FAST_MARKERS)"

# Retrain the second-opinion model on the corpus (after adding items), and print the honest figures.
model: install
	$(VENV)/bin/pharmwatch rules train

eval: install
	$(VENV)/bin/pharmwatch rules eval

# Every benchmark in bench/, each beside its baseline (ratios measured in one run; about 10 minutes).
bench: install
	$(PY) bench/all.py

lint: install
	$(VENV)/bin/ruff check .

install: $(VENV)/.installed system-deps

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

DEBIAN_PACKAGES := chromium fonts-noto-cjk fonts-dejavu-core postgresql time poppler-utils openssl nginx-light \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra

system-deps:
	@if [ -x /usr/bin/chromium ] && fc-list :lang=zh 2>/dev/null | grep -q . \
	    && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -x /usr/bin/time ] \
	    && command -v pdftotext >/dev/null && command -v openssl >/dev/null && command -v tesseract >/dev/null \
	    && [ -x /usr/sbin/nginx ] \
	    && ldconfig -p | grep -q libpangoft2 && ldconfig -p | grep -q libharfbuzz-subset; then :; else \
	  echo "installing Debian packages: $(DEBIAN_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends $(DEBIAN_PACKAGES) >/dev/null; fi
