"""The Redis keys of one platform's frontier in one run.

Every key starts with ``thriftwatch:frontier:<platform>:<run>:``, so rounds and platforms
never meet and one Redis serves them all; every key expires :data:`KEEP_SECONDS` after a
process last touched it, so a round's frontier does not outlive it for long.
"""

from __future__ import annotations

from dataclasses import dataclass

KEEP_SECONDS = 3 * 24 * 3600


@dataclass(frozen=True)
class FrontierKeys:
    platform: str
    run: str

    @property
    def prefix(self) -> str:
        return f"thriftwatch:frontier:{self.platform}:{self.run}"

    @property
    def queue(self) -> str:
        """Sorted set of entries waiting, scored by minus their priority (scrapy-redis's)."""
        return f"{self.prefix}:requests"

    @property
    def dupefilter(self) -> str:
        """Set of the fingerprints of every request ever queued (scrapy-redis's)."""
        return f"{self.prefix}:dupefilter"

    @property
    def nodes(self) -> str:
        """Set of the ids of the processes that have leased requests."""
        return f"{self.prefix}:nodes"

    @property
    def sequence(self) -> str:
        """Counter that numbers leases."""
        return f"{self.prefix}:seq"

    def processing(self, node_id: str) -> str:
        """Hash of a process's leased entries: lease number -> ``score|entry``."""
        return f"{self.prefix}:processing:{node_id}"

    def lease(self, node_id: str) -> str:
        """A process's heartbeat: exists while the process is alive."""
        return f"{self.prefix}:lease:{node_id}"

    def shared(self) -> tuple[str, ...]:
        return (self.queue, self.dupefilter, self.nodes, self.sequence)
