"""Scrapy settings for thriftwatch: defaults fit for crawling real marketplaces politely."""

from crawler import __version__

BOT_NAME = "thriftwatch"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Identify the tool honestly; operators set a contact address for their deployment.
USER_AGENT = f"thriftwatch/{__version__} (+https://github.com/thriftwatch/thriftwatch)"
ROBOTSTXT_OBEY = True

# Politeness: adapt to the site's latency, never hammer one host.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.5
DOWNLOAD_TIMEOUT = 60

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# Retries wait: the server's Retry-After, else 1 s, 2 s, 4 s... (at most 60 s).
DOWNLOADER_MIDDLEWARES = {
    # First to see every request (redirects and retries too): only http(s) URLs on the
    # spider's hosts and on public addresses leave; each refusal is a refused_url fault.
    "crawler.runtime.fetch_guard.FetchGuardMiddleware": 5,
    # Every response is stored as evidence as the spider will see it (after retries,
    # redirects and decompression), before any callback reads it.
    "crawler.runtime.capture_middleware.CaptureMiddleware": 10,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.runtime.retry.BackoffRetryMiddleware": 550,
    # Spiders that render pages mark their requests; this hands them to Chromium.
    "crawler.runtime.browser.RenderMiddleware": 950,
    # First to see a failed download: a name the DNS resolver refused (it resolves to a
    # non-public address) is a refused_url fault, not a DNS error to retry.
    "crawler.runtime.fetch_guard.RefusedAddressMiddleware": 990,
}
THRIFTWATCH_BACKOFF_BASE = 1.0
THRIFTWATCH_BACKOFF_MAX = 60.0
# No search page is this big: a larger answer is refused, not parsed.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024

# The evidence DB and run of each crawl (built first: the capture middleware, the store
# pipeline and run health write through it). Credentials in URLs (?access_token=...) are
# blanked in every log line. Live progress on a terminal (plain lines otherwise);
# run-health checks and alerts at the end.
EXTENSIONS = {
    "crawler.runtime.log_redaction.RedactLogSecrets": 0,
    "crawler.runtime.recorder.EvidenceRecorder": 10,
    "crawler.runtime.progress.ProgressExtension": 500,
    "crawler.runtime.run_health.RunHealthExtension": 600,
    # With JOBDIR, Scrapy would unpickle spider.state from it; no spider here keeps state.
    "scrapy.extensions.spiderstate.SpiderState": None,
}
# With JOBDIR (-s JOBDIR=DIR), pending requests, the spiders' start requests among them
# (a queue of their own), are kept on disk as JSON, never pickled.
SCHEDULER_DISK_QUEUE = "crawler.runtime.job_queue.JsonLifoDiskQueue"
SCHEDULER_START_DISK_QUEUE = "crawler.runtime.job_queue.JsonFifoDiskQueue"
THRIFTWATCH_PROGRESS_ENABLED = True
THRIFTWATCH_PROGRESS_INTERVAL = 30  # seconds between plain progress lines
THRIFTWATCH_HEALTH_ENABLED = True  # check each run when it ends, store the report, alert
THRIFTWATCH_HEALTH_BLOCK_RATE = 0.2  # fail a run when more pages than this are blocked
THRIFTWATCH_HEALTH_ERROR_RATE = 0.2
THRIFTWATCH_HEALTH_DROP = 0.5  # warn when pages/listings per keyword fall below half the median
THRIFTWATCH_HEALTH_HISTORY = 5  # earlier runs that median is taken over
THRIFTWATCH_ALERT_WEBHOOK = None  # URL that gets a JSON POST when a run needs attention
# "host:port"; the password comes only from env THRIFTWATCH_SMTP_PASSWORD
THRIFTWATCH_ALERT_SMTP = None
THRIFTWATCH_ALERT_SMTP_STARTTLS = False  # upgrade to TLS, checking the server's certificate
THRIFTWATCH_ALERT_SMTP_SSL = False  # SMTPS: TLS from the start (port 465)
THRIFTWATCH_ALERT_SMTP_USER = None
# A password never crosses a plain connection unless this says so (a trusted local relay).
THRIFTWATCH_ALERT_SMTP_ALLOW_PLAIN = False
THRIFTWATCH_ALERT_EMAIL_FROM = "thriftwatch@localhost"
THRIFTWATCH_ALERT_EMAIL_TO = []

# A shared crawl frontier (crawler/frontier/, docs/operations.md "Shared frontier"): with
# THRIFTWATCH_FRONTIER = "redis://[:PASSWORD@]HOST:PORT/DB", every crawl process of a platform
# and run (THRIFTWATCH_FRONTIER_RUN) shares one request queue and one duplicate filter in
# Redis (scrapy-redis, switched on by this add-on); without it the add-on does nothing.
ADDONS = {"crawler.frontier.addon.FrontierAddon": 0}
THRIFTWATCH_FRONTIER = None  # none: the local scheduler, as in a crawl on one machine
THRIFTWATCH_FRONTIER_RUN = None  # the round all processes share; none: the UTC hour started in
THRIFTWATCH_NODE = None  # this process's node name, recorded with its run; none: the host name
THRIFTWATCH_FRONTIER_IDLE = 30  # seconds the frontier stays drained before a process ends
THRIFTWATCH_FRONTIER_LEASE = 30  # seconds a killed process's requests stay leased to it

# No code-execution or interactive consoles inside a crawl.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# Replica mode lives in the download handler, so every other component sees real URLs.
# Stored URLs come from sellers: no scheme but http(s) has a handler at all (a file://,
# data:, s3:// or ftp:// URL fails even if the fetch guard let it through).
DOWNLOAD_HANDLERS = {
    "http": "crawler.runtime.replica_mode.PlainReplicaDownloadHandler",
    "https": "crawler.runtime.replica_mode.ReplicaDownloadHandler",
    "file": None,
    "s3": None,
    "ftp": None,
    "data": None,
}
# Names that resolve to loopback, private, link-local or other non-public addresses are
# refused (Scrapy's DNS_RESOLVER, renamed TWISTED_DNS_RESOLVER in Scrapy 2.15).
TWISTED_DNS_RESOLVER = "crawler.runtime.resolver.PublicOnlyResolver"

ITEM_PIPELINES = {
    "pipelines.normalise.NormalisePipeline": 100,
    "pipelines.flag.FlagPipeline": 200,
    # Contacts read, listing pages asked for (after the verdict they depend on).
    "pipelines.enrich.EnrichPipeline": 250,
    "pipelines.store.StorePipeline": 300,
    # Flagged listings' photos: fetched, fingerprinted, stored (after their listing).
    "pipelines.images.ImagesPipeline": 400,
}

# thriftwatch's own settings: defaults here, read once into crawler.config.Config.
THRIFTWATCH_DB = "thriftwatch.db"
THRIFTWATCH_REPLICA = None  # e.g. "http://127.0.0.1:8321": send every request to the replica
THRIFTWATCH_MAX_PAGES = 5
THRIFTWATCH_OPERATOR = None  # who ran the crawl, recorded with each run
THRIFTWATCH_LEXICON = None  # an investigator's lexicon file extending the shipped one
THRIFTWATCH_HTTP_HANDLER = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"
THRIFTWATCH_STORE_BATCH = 100  # listings written per transaction (at most until the next page)
THRIFTWATCH_RESUME_DIR = None  # keeps each platform's unfinished run id, to resume after a kill
THRIFTWATCH_CHROMIUM = "/usr/bin/chromium"  # Debian's Chromium, for spiders that render pages
THRIFTWATCH_INSTAGRAM_COOKIES = None  # a cookies file for Instagram's session (never stored)
# RFC 3161 time-stamp authorities (URLs, tried in order) that anchor each run's head when it
# ends; none: heads are only printed. A TSA that is down is retried at the next run's end.
THRIFTWATCH_TSA_URL = []
THRIFTWATCH_TSA_TIMEOUT = 10  # seconds per TSA
# Enrichment: each listing whose card verdict reaches the floor ("all", "reason": any
# reason, "weak", "medium", "strong") has its contacts read; with THRIFTWATCH_ENRICH its
# listing page is fetched (once per run, again if its card changed; at most DETAIL_CAP a
# run) and, once flagged, its images (IMAGE_CAP a listing, IMAGE_BYTES a run).
THRIFTWATCH_ENRICH = True
THRIFTWATCH_ENRICH_FLOOR = "reason"
THRIFTWATCH_DETAIL_CAP = 500  # listing pages per run
THRIFTWATCH_IMAGE_CAP = 4  # images per flagged listing
THRIFTWATCH_IMAGE_BYTES = 200_000_000  # image bytes per run (200 MB)
# Photos link accounts when their pHashes differ by at most this many bits, unless the photo
# is on more than IMAGE_MAX_ACCOUNTS unrelated accounts (a stock photo or placeholder).
THRIFTWATCH_IMAGE_DISTANCE = 6
THRIFTWATCH_IMAGE_MAX_ACCOUNTS = 5

# scrapy-playwright, used by the rendered spiders (they switch THRIFTWATCH_HTTP_HANDLER to it).
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_MAX_CONTEXTS = 1
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
