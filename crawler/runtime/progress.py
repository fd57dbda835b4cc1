"""Live crawl progress per platform: pages, listings, flagged, errors and blocks.

On a terminal (stderr is a TTY) a small board is redrawn in place twice a second and left
on screen when the crawl ends; a log record clears it first, so log lines and the board
never overwrite each other. Elsewhere (scrapyd, cron, a pipe) the same figures are logged
as plain lines every ``THRIFTWATCH_PROGRESS_INTERVAL`` seconds and once when a spider closes.

Enable with ``EXTENSIONS = {"crawler.runtime.progress.ProgressExtension": 500}``. Every crawler of
one process (``thriftwatch crawl all``) shares one board.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from crawler.config import Config, ProgressConfig
from crawler.keys import Stats

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

TTY_REFRESH = 0.5  # seconds between redraws on a terminal


def progress_line(platform: str, stats: dict[str, Any], state: str) -> str:
    """One platform's figures from its Scrapy stats, e.g. ``tokopedia  pages 4 ...``."""
    def count(key: str) -> int:
        return int(stats.get(key) or 0)

    errors = sum(count(key) for key in stats
                 if key.startswith(Stats.FAULTS_PREFIX) and key.endswith(f"/{platform}"))
    return (f"{platform:<12} pages {count(Stats.pages(platform)):>5}  "
            f"listings {count(Stats.ITEMS):>6}  flagged {count(Stats.FLAGGED):>5}  "
            f"errors {errors:>4}  blocks {count(Stats.blocks(platform)):>4}  {state}")


class Board:
    """The figures of every crawler in this process, drawn on ``stream``."""

    def __init__(self, stream: TextIO, interval: float):
        self.stream = stream
        self.tty = stream.isatty()
        self.crawlers: dict[str, Crawler] = {}
        self.states: dict[str, str] = {}
        self.drawn = 0  # board lines now on screen (TTY)
        self.finished = False  # every crawler has closed; a later crawl gets a new board
        self.loop = LoopingCall(self.tick)
        self.interval = TTY_REFRESH if self.tty else interval

    def lines(self) -> list[str]:
        return [progress_line(name, crawler.stats.get_stats(), self.states[name])
                for name, crawler in self.crawlers.items()]

    def opened(self, name: str, crawler: Crawler) -> None:
        self.crawlers[name] = crawler
        self.states[name] = "running"
        if not self.loop.running:
            self.loop.start(self.interval, now=self.tty)  # a board shows from the start
            if self.tty:
                for handler in logging.getLogger().handlers:
                    handler.addFilter(self.clear_before_log)

    def closed(self, name: str, reason: str) -> None:
        self.states[name] = reason
        if not self.tty:
            logger.info("progress: %s", self.lines()[list(self.crawlers).index(name)])
        if all(state != "running" for state in self.states.values()):
            self.finished = True
            self.loop.stop()
            if self.tty:
                self.draw()
                for handler in logging.getLogger().handlers:
                    handler.removeFilter(self.clear_before_log)

    def tick(self) -> None:
        if self.tty:
            self.draw()
        else:
            for line in self.lines():
                logger.info("progress: %s", line)

    def draw(self) -> None:
        self.clear()
        lines = self.lines()
        self.stream.write("".join(f"{line}\n" for line in lines))
        self.stream.flush()
        self.drawn = len(lines)

    def clear(self) -> None:
        """Erase the board: cursor up over its lines, then clear to the end of the screen."""
        if self.drawn:
            self.stream.write(f"\x1b[{self.drawn}F\x1b[J")
            self.stream.flush()
            self.drawn = 0

    def clear_before_log(self, record: logging.LogRecord) -> bool:
        """A logging filter: the board gives way to the record, and is redrawn next tick."""
        self.clear()
        return True


_board: Board | None = None


class ProgressExtension:
    """Connects each crawler of the process to the shared :class:`Board`."""

    def __init__(self, crawler: Crawler, progress: ProgressConfig):
        global _board  # noqa: PLW0603 - one board for the whole process, by design
        if _board is None or _board.finished:
            _board = Board(sys.stderr, progress.interval)
        self.board = _board
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        progress = Config.from_crawler(crawler).progress
        if not progress.enabled:
            raise NotConfigured("THRIFTWATCH_PROGRESS_ENABLED is off")
        extension = cls(crawler, progress)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any) -> None:
        self.board.opened(spider.name, self.crawler)

    def spider_closed(self, spider: Any, reason: str) -> None:
        self.board.closed(spider.name, reason)
