"""The Scrapy components thriftwatch plugs into a crawl, and running crawls in a process.

Each is named in :mod:`crawler.settings` and built ``from_crawler`` with its part of
:class:`crawler.config.Config`: the evidence recorder extension, the capture downloader
middleware, replica mode's download handler, rendered pages in Chromium, back-off retries,
progress, run health and log redaction.
"""
