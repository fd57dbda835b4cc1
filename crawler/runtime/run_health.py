"""Run health as an extension: when a search spider's run ends, check it
(:func:`crawler.ops.health.check_run`), record the report in the evidence DB, log it, and
alert when something is wrong, new strong flags appeared or a seller came back (an account
first seen in this run, linked to one taken down before: ``returned_in_run``).

It reads the run through the crawler's stats and the evidence store's public API, both
handed over with the recorder's ``run_ending`` signal, so the report is chained before
the run's end; it alerts on ``run_ended``, so the alert carries the DB's head. Enable with
``EXTENSIONS = {"crawler.runtime.run_health.RunHealthExtension": 600}``;
``THRIFTWATCH_HEALTH_ENABLED = False`` switches it off.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.config import Config
from crawler.keys import Stats, run_ended, run_ending
from crawler.ops.alerts import send_alerts
from crawler.ops.health import HealthReport, RunRecord, alert_payload, check_run
from crawler.sellers.stored import returned_in_run
from spiders.base import SearchSpider

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.runtime.recorder import EvidenceRecorder

logger = logging.getLogger(__name__)


class RunHealthExtension:
    def __init__(self, crawler: Crawler, config: Config):
        self.crawler = crawler
        self.config = config
        self.report: HealthReport | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunHealthExtension:
        config = Config.from_crawler(crawler)
        if not config.health.enabled:
            raise NotConfigured("THRIFTWATCH_HEALTH_ENABLED is off")
        extension = cls(crawler, config)
        crawler.signals.connect(extension.run_ending, signal=run_ending)
        crawler.signals.connect(extension.run_ended, signal=run_ended)
        return extension

    def run_ending(self, recorder: EvidenceRecorder, spider: Any, reason: str) -> None:
        if not isinstance(spider, SearchSpider):  # a recheck is not a search run
            return
        thresholds, store, run_id = self.config.health, recorder.store, recorder.run_id
        run = RunRecord(spider.name, len(spider.keywords),
                        {**self.crawler.stats.get_stats(), "finish_reason": reason})
        history = [RunRecord(spider.name, len(keywords), stats) for keywords, stats in
                   store.finished_runs(spider.name, run_id, thresholds.history)]
        returning = returned_in_run(store, run_id,
                                    image_distance=self.config.enrich.image_distance,
                                    image_max_accounts=self.config.enrich.image_max_accounts)
        report = check_run(run, history, new_strong=store.new_strong_listings(run_id),
                           returning=returning, thresholds=thresholds)
        store.add_run_health(run_id, platform=spider.name, status=report.status,
                             findings=report.as_dicts())
        self.crawler.stats.set_value(Stats.HEALTH, report.status)
        # A notice alone (new strong flags, a returning seller) is news, not trouble: it is
        # alerted, logged at INFO.
        log = logger.info if report.status == "ok" else logger.warning
        log("run %s health: %s%s", run_id, report.status,
            "".join(f"\n  {f.severity} {f.check}: {f.message}" for f in report.findings))
        self.report = report

    def run_ended(self, recorder: EvidenceRecorder, spider: Any, reason: str,
                  head: str) -> None:
        report, self.report = self.report, None
        if report is not None and report.needs_alert:
            send_alerts(self.config.alerts, alert_payload(
                report, recorder.run_id, str(self.config.store.db_path), self.config.replica,
                head))
