"""thriftwatch's own Scrapy signals."""

# Sent by spiders when a page could not be read as search results:
# ``page_fault(response, request, kind, detail)`` with kind one of FAULT_KINDS.
# The store records it with the page's capture, so a block is never mistaken for "no results".
page_fault = object()

FAULT_KINDS = ("blocked", "parse_error", "http_error", "download_error", "token_error")
