"""scrapy-redis's duplicate filter on the frontier's key, shared by every process of a run.

Unlike scrapy-redis's own, closing one process clears nothing: the other processes of the
run still filter against it (the key expires with the run's other keys).
"""

from __future__ import annotations

from scrapy_redis.dupefilter import RFPDupeFilter


class FrontierDupeFilter(RFPDupeFilter):
    def close(self, reason: str = "") -> None:
        """Keep the fingerprints: other processes of the run still use them."""
