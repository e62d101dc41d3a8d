"""The crawler: Scrapy spiders (`search`, `site`), SERP parsers, Playwright capture, middlewares,
pipelines, and `crawler.run.crawl`, the entry point a scan and a re-check call."""
