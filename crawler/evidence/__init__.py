"""The evidence store: a hash-chained, append-only SQLite DB, and what reads it back out.

:mod:`.schema` (tables and triggers), :mod:`.custody` (row hashes and chains),
:mod:`.capture` (a fetch as a record, credentials removed), :mod:`.store` (every read and
write), :mod:`.verify` (recompute every chain), and the ways out: :mod:`.export` (CSV and
JSONL), :mod:`.warc`, :mod:`.bundle`, and Datasette (:mod:`.serve_metadata`,
:mod:`.datasette_plugin`). Plain Python and SQLite; no Scrapy.
"""
