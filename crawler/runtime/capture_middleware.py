"""The capture middleware: every response is stored as evidence before any callback reads it.

A downloader middleware at order 10, so it sees each response as the spider will: after
retries, redirects and decompression (a retried or redirected answer is not the page that
was read). It tells the callback where its evidence is through ``meta[Meta.CAPTURE]``.
For a rendered page the evidence is the page's HTML as drawn, its full-page screenshot
(``meta[Meta.SCREENSHOT]``) and the data fetches its scripts made.

Enable with ``DOWNLOADER_MIDDLEWARES`` entry
``"crawler.runtime.capture_middleware.CaptureMiddleware": 10``; it needs
:class:`crawler.runtime.recorder.EvidenceRecorder`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.evidence.capture import (
    REDACTED_BODY,
    Capture,
    redact_headers,
    strip_query_secrets,
    utc_now,
)
from crawler.keys import Meta
from crawler.runtime.browser import DATA_METHOD, SCREENSHOT_METHOD, page_method_result
from crawler.runtime.recorder import EvidenceRecorder

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class CaptureMiddleware:
    def __init__(self, recorder: EvidenceRecorder):
        self.recorder = recorder

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureMiddleware:
        recorder = crawler.get_extension(EvidenceRecorder)
        if recorder is None:
            raise NotConfigured("captures need the EvidenceRecorder extension")
        return cls(recorder)

    def process_response(self, request: Request, response: Response,
                         spider: Any = None) -> Response:
        if self.recorder.recording:
            self.capture(request, response)
        return response

    def capture(self, request: Request, response: Response) -> None:
        replica = request.meta.get(Meta.REPLICA)
        rendered = "playwright" in response.flags
        secret = request.meta.get(Meta.CREDENTIALS)
        capture = Capture(
            url=strip_query_secrets(response.url),
            method=request.method,
            status=response.status,
            request_headers=redact_headers(request.headers),
            response_headers=redact_headers(response.headers),
            request_body=None if secret else request.body or None,
            body=REDACTED_BODY if secret else response.body,
            fetched_at=utc_now(),
        )
        request.meta[Meta.CAPTURE] = self.recorder.add_capture(
            capture, replica, kind="rendered" if rendered else "response")
        if not rendered:
            return
        screenshot = page_method_result(request.meta, SCREENSHOT_METHOD)
        if isinstance(screenshot, bytes):
            shot = replace(capture, method="SCREENSHOT", status=200, request_body=None,
                           response_headers={"content-type": "image/png"}, body=screenshot)
            request.meta[Meta.SCREENSHOT] = self.recorder.add_capture(shot, replica,
                                                                      kind="screenshot")
        for data in page_method_result(request.meta, DATA_METHOD) or ():
            fetched = Capture(url=strip_query_secrets(data.url), method=data.method,
                              status=data.status, request_headers={},
                              response_headers=redact_headers(data.headers),
                              request_body=None, body=data.body,
                              fetched_at=capture.fetched_at)
            self.recorder.add_capture(fetched, replica, kind="data")
