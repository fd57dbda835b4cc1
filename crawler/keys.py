"""The names thriftwatch's components share: request meta keys, stats keys, the
``page_fault`` signal and the kinds of fault. Each is written here once and imported
everywhere else, so a typo is an ImportError, not a silently empty value.
"""

from __future__ import annotations

from typing import Final


class Meta:
    """Keys of ``Request.meta`` that thriftwatch's components set or read."""

    # Set by the capture middleware for the callback: ``(capture_id, body_sha256)``.
    CAPTURE: Final = "thriftwatch_capture"
    # ... and ``(capture_id, png_sha256)`` of the screenshot of a rendered page.
    SCREENSHOT: Final = "thriftwatch_screenshot"
    # Set by a spider on an exchange that carries credentials (an access-token request):
    # the capture keeps the fetch's metadata but neither body.
    CREDENTIALS: Final = "thriftwatch_credentials"
    # Set by replica mode's download handler: the replica that served the response.
    REPLICA: Final = "thriftwatch_replica"
    # Set by a spider that wants the page rendered in Chromium (serialisable, so JOBDIR
    # queues keep working): ``{"wait_for": CSS, "data_url": regex or None, "scroll": ...}``.
    # The render middleware turns it into scrapy-playwright meta just before download.
    RENDER: Final = "thriftwatch_render"
    # Set on a request that may reach other hosts than its spider's ``allowed_domains`` (a
    # listing's images: only the platform's image CDN hosts): the fetch guard checks the
    # request, and every redirect it makes, against these instead.
    FETCH_HOSTS: Final = "thriftwatch_fetch_hosts"


class Stats:
    """Keys of the crawl's Scrapy stats that thriftwatch writes and reads."""

    CAPTURES: Final = "thriftwatch/captures"
    OBSERVATIONS: Final = "thriftwatch/observations"
    FLAGGED: Final = "thriftwatch/flagged"
    LEXICON_VERSION: Final = "thriftwatch/lexicon_version"
    HEALTH: Final = "thriftwatch/health"
    # The DB's head just after the run ended (write it down outside the machine).
    HEAD: Final = "thriftwatch/head"
    UNANCHORED: Final = "thriftwatch/unanchored"  # run ends no TSA answered for
    BACKOFF_SECONDS: Final = "thriftwatch/backoff_seconds"
    FAULTS_PREFIX: Final = "thriftwatch/faults/"
    # Listings that could not be written (a run with any fails its health check), and
    # listing values normalisation refused (stored as NULL, recorded as faults).
    STORE_ERRORS: Final = "thriftwatch/store_errors"
    REFUSED_VALUES: Final = "thriftwatch/refused_values"
    # Faults that could not be written to the evidence DB (logged instead; fails the run).
    FAULT_WRITE_ERRORS: Final = "thriftwatch/fault_write_errors"
    # Scrapy's own count of items that passed every pipeline: listings as a search page
    # showed them, and as their own page showed them (one item per listing page).
    ITEMS: Final = "item_scraped_count"
    # Enrichment (pipelines/enrich.py, pipelines/images.py): listings whose page the
    # per-run cap left unfetched, listings a page flagged that their card had not, contacts
    # found, images stored and their bytes, image URLs refused (a seller's file://, internal
    # or foreign host), images not fetched because the run's image bytes were spent.
    DETAIL_CAPPED: Final = "thriftwatch/enrich/capped"
    FLAGGED_BY_PAGE: Final = "thriftwatch/enrich/flagged_by_page"
    CONTACTS: Final = "thriftwatch/enrich/contacts"
    IMAGES: Final = "thriftwatch/enrich/images"
    IMAGE_BYTES: Final = "thriftwatch/enrich/image_bytes"
    IMAGES_REFUSED: Final = "thriftwatch/enrich/images_refused"
    IMAGES_OVER_BUDGET: Final = "thriftwatch/enrich/images_over_budget"

    @staticmethod
    def pages(platform: str) -> str:
        """Search pages parsed as results, and listing pages parsed."""
        return f"thriftwatch/pages/{platform}"

    @staticmethod
    def listing_pages(platform: str) -> str:
        """Listing pages parsed (also counted in :meth:`pages`: run health counts them alike)."""
        return f"thriftwatch/listing_pages/{platform}"

    @staticmethod
    def blocks(platform: str) -> str:
        """Search pages answered with a captcha, login wall or anti-bot page."""
        return f"thriftwatch/blocks/{platform}"

    @staticmethod
    def faults(kind: str, platform: str) -> str:
        """Search pages lost to a fault of ``kind`` (one of :data:`FAULT_KINDS` but "blocked")."""
        return f"{Stats.FAULTS_PREFIX}{kind}/{platform}"

    @staticmethod
    def level(level: str) -> str:
        """Listings given verdict ``level``."""
        return f"thriftwatch/level/{level}"

    @staticmethod
    def recheck(status: str) -> str:
        """Listings a recheck found ``status`` (live, removed, blocked or error)."""
        return f"thriftwatch/recheck/{status}"


# Sent by spiders when a page could not be read as search results:
# ``page_fault(response, request, kind, detail)`` with kind one of FAULT_KINDS.
# The evidence recorder stores it with the page's capture, so a block is never mistaken
# for "no results".
page_fault = object()

# Pages; refused_url: a URL the fetch policy refused (crawler/runtime/url_policy.py), not sent.
FAULT_KINDS = ("blocked", "parse_error", "http_error", "download_error", "token_error",
               "refused_url")
# Faults about one listing rather than a page: a value set aside, a listing not stored, a
# result not readable; a listing without a title (stored with an empty one) or without an
# id or URL (not stored); a value whose text had to be repaired to be stored (a lone
# surrogate, control characters in an id or URL). Counted as Stats.faults(kind, platform).
LISTING_FAULT_KINDS = ("field_out_of_range", "store_error", "item_parse_error",
                       "listing_incomplete", "value_repaired")
# Faults of enrichment: a listing page that says the listing is gone (taken down between
# search and page); an image that could not be fetched or is no image; a run's image bytes
# spent (once a run). An image URL the fetch policy refuses is a ``refused_url`` fault.
ENRICH_FAULT_KINDS = ("listing_gone", "image_error", "image_unreadable", "image_budget_spent")

# Sent by the evidence recorder when a crawl's run is about to end, after its last listing
# is written and before the run's end (with its chain heads) is: ``run_ending(recorder,
# spider, reason)``. Run health checks the run and records its report here.
run_ending = object()
# Sent once the run's end is written: ``run_ended(recorder, spider, reason, head)`` with the
# DB's head just after it. Run health alerts then, so the alert carries the head.
run_ended = object()
