"""The shared crawl frontier: every crawl process of a platform and run pops its requests
from one queue and checks them against one duplicate filter in Redis (scrapy-redis), so a
platform's crawl is split over processes and machines and each page is fetched once.

One job a module: ``addon`` switches it on from ``THRIFTWATCH_FRONTIER``; ``serializer``
(JSON, never pickle) and ``requests`` (which requests may be shared, and checking what comes
back) turn requests into queue entries and back; ``keys`` names the Redis keys of a platform
and run; ``connection`` opens Redis; ``queue`` leases entries to a process until their
evidence is stored; ``lease`` keeps a process's lease alive and hands back the requests of
processes that died; ``dupefilter`` and ``scheduler`` are scrapy-redis's, configured;
``acks`` acknowledges a page the moment its listings are written; ``idle`` decides when a
process ends. See docs/operations.md, "Shared frontier".
"""
