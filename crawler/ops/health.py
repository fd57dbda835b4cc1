"""Run health, checked after every crawl the way Spidermon's monitors check a finished job.

:func:`check_run` is pure: a run's stats (the Scrapy stats keys the spiders write) and the
stats of earlier runs of the same platform in, a :class:`HealthReport` out. Its checks:

- ``finish``: the crawl stopped early (not ``finished``);
- ``zero_listings``: not one listing came back;
- ``parse_errors``: a response the parser does not know (the platform changed its shape);
- ``store_errors``: listings that could not be written to the evidence DB;
- ``refused_values``: listing values out of range (a price of 10^20), stored as NULL;
- ``fault_write_errors``: faults that could not be written to the evidence DB (logged);
- ``incomplete_listings``: listings without a title (stored with an empty one) or without
  an id or URL (not stored);
- ``repaired_values``: seller text that had to be repaired to be stored (a lone surrogate,
  control characters in an id or URL; a notice);
- ``block_rate`` / ``error_rate``: too many pages were blocks (captcha, login wall) or
  HTTP and network errors;
- ``pages_drop`` / ``listings_drop``: pages or listings per keyword fell sharply against
  the median of earlier runs;
- ``new_strong``: listings flagged ``strong`` for the first time (news, not a fault);
- ``returning_seller``: accounts first seen in this run that are linked to an account taken
  down before (news, not a fault: a seller came back). The proofs are worked out outside,
  from the evidence DB (:func:`crawler.sellers.stored.returned_in_run`), and handed in.

:class:`crawler.runtime.run_health.RunHealthExtension` runs the checks when a search
spider's run ends, appends the report to the evidence DB's chained ``run_health`` table,
logs it, and alerts (:mod:`crawler.ops.alerts`) when something is wrong, new strong
flags appeared or a seller came back.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from crawler.config import HealthConfig
from crawler.keys import FAULT_KINDS, Stats
from crawler.normalise import printable

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

SEVERITIES = ("failing", "warning", "notice")  # worst first
ERROR_KINDS = tuple(kind for kind in FAULT_KINDS if kind not in ("blocked", "parse_error"))
DEFAULT_THRESHOLDS = HealthConfig()
RETURNS_SHOWN = 10  # returns named in a returning_seller notice (the rest are counted)


@dataclass(frozen=True)
class RunRecord:
    """What a check needs of one run: its platform, keyword count and final stats."""

    platform: str
    keywords: int
    stats: Mapping[str, Any]

    def count(self, key: str) -> int:
        return int(self.stats.get(key) or 0)

    @property
    def pages(self) -> int:
        return self.count(Stats.pages(self.platform))

    @property
    def listings(self) -> int:
        return self.count(Stats.ITEMS)

    @property
    def blocks(self) -> int:
        return self.count(Stats.blocks(self.platform))

    def faults(self, *kinds: str) -> int:
        return sum(self.count(Stats.faults(kind, self.platform)) for kind in kinds)

    @property
    def attempts(self) -> int:
        """Search pages asked for: parsed, blocked, or lost to a fault."""
        return self.pages + self.blocks + self.faults(*ERROR_KINDS, "parse_error")


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str  # one of SEVERITIES
    message: str
    value: float | None = None
    expected: float | None = None


@dataclass
class HealthReport:
    platform: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``failing``, ``warning`` or ``ok`` (a notice alone leaves a run ``ok``)."""
        for severity in ("failing", "warning"):
            if any(f.severity == severity for f in self.findings):
                return severity
        return "ok"

    @property
    def needs_alert(self) -> bool:
        """Something is wrong, new strong flags appeared or a seller came back."""
        return bool(self.findings)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self.findings]


def _stat(key: str) -> Callable[[RunRecord], int]:
    return lambda run: run.count(key)


def _faults(kind: str) -> Callable[[RunRecord], int]:
    return lambda run: run.faults(kind)


# Problems a run counts: (check, severity, the count, what each one is).
COUNTED_PROBLEMS: tuple[tuple[str, str, Callable[[RunRecord], int], str], ...] = (
    ("parse_errors", "failing", _faults("parse_error"),
     ("responses had a shape the parser does not know: the platform may have changed its "
     "response")),
    ("store_errors", "failing", _stat(Stats.STORE_ERRORS),
     "listings could not be written to the evidence DB (each is a store_error fault)"),
    ("item_parse_errors", "warning", _faults("item_parse_error"),
     ("results could not be read among results that could (each is an item_parse_error "
     "fault with its page's capture)")),
    ("refused_values", "warning", _stat(Stats.REFUSED_VALUES),
     ("listing values were out of range and stored as NULL (each is a field_out_of_range "
     "fault)")),
    ("fault_write_errors", "failing", _stat(Stats.FAULT_WRITE_ERRORS),
     "faults could not be written to the evidence DB (each is in the crawl log)"),
    ("incomplete_listings", "warning", _faults("listing_incomplete"),
     ("listings lacked a title (stored with an empty one) or an id or URL (not stored); each "
     "is a listing_incomplete fault with its page's capture")),
    ("repaired_values", "notice", _faults("value_repaired"),
     ("listing values held text no evidence DB can store as sent (lone surrogates, control "
     "characters in an id or URL) and were stored repaired; each is a value_repaired fault")),
)


def check_run(run: RunRecord, history: Sequence[RunRecord], *, new_strong: int = 0,
              returning: Sequence[Mapping[str, Any]] = (),
              thresholds: HealthConfig = DEFAULT_THRESHOLDS) -> HealthReport:
    """Every check on ``run``; ``history`` holds earlier finished runs, newest first;
    ``returning`` the proofs of returns found by this run (each a ``returning_evidence``
    entry of :class:`crawler.sellers.networks.Network`)."""
    report = HealthReport(run.platform)
    add = report.findings.append
    reason = str(run.stats.get("finish_reason", "unknown"))
    if reason != "finished":
        add(Finding("finish", "failing", f"the crawl stopped early: {reason}"))
    if run.listings == 0:
        add(Finding("zero_listings", "failing",
                    f"no listings from {run.pages} search pages", value=0))
    for check, severity, count_of, what in COUNTED_PROBLEMS:
        count = count_of(run)
        if count:
            add(Finding(check, severity, f"{count} {what}", value=count))
    attempts = max(run.attempts, 1)
    for check, count, limit, what in (
        ("block_rate", run.blocks, thresholds.block_rate, "blocked (captcha, login or anti-bot)"),
        ("error_rate", run.faults(*ERROR_KINDS), thresholds.error_rate,
         "lost to HTTP or network errors"),
    ):
        rate = count / attempts
        if count and rate > limit:
            add(Finding(check, "failing", f"{count} of {attempts} search pages {what}",
                        value=round(rate, 3), expected=limit))
    add_drops(report, run, history[:thresholds.history], thresholds)
    if new_strong:
        add(Finding("new_strong", "notice",
                    f"{new_strong} listings flagged strong for the first time", value=new_strong))
    if returning:
        add(returning_finding(returning))
    return report


def returning_finding(proofs: Sequence[Mapping[str, Any]]) -> Finding:
    """The ``returning_seller`` notice: each account that came back, the account taken down
    before it and the kinds of link that prove it. Contacts are personal data: the message
    names accounts and kinds of link, never a link's value (``thriftwatch sellers`` shows
    those)."""
    returned = sorted({proof["returned"] for proof in proofs})
    shown = "; ".join(
        f"{printable(proof['returned'])} after {printable(proof['taken_down'])} was taken down "
        f"(through {' + '.join(printable(link['kind']) for link in proof['links'])})"
        for proof in sorted(proofs, key=lambda p: (p["returned"], p["taken_down"]))[:RETURNS_SHOWN])
    more = len(proofs) - RETURNS_SHOWN
    return Finding("returning_seller", "notice",
                   f"{len(returned)} accounts first seen in this run are linked to accounts "
                   f"taken down before: {shown}{f'; and {more} more' if more > 0 else ''}",
                   value=len(returned))


def add_drops(report: HealthReport, run: RunRecord, history: Sequence[RunRecord],
              thresholds: HealthConfig) -> None:
    """Pages and listings per keyword against the median of earlier runs."""
    earlier = [r for r in history if r.keywords and r.pages]
    if len(earlier) < thresholds.min_history or not run.keywords:
        return
    for check, measure in (("pages_drop", "pages"), ("listings_drop", "listings")):
        usual = statistics.median(getattr(r, measure) / r.keywords for r in earlier)
        now = getattr(run, measure) / run.keywords
        if usual and now < usual * thresholds.drop:
            report.findings.append(Finding(
                check, "warning",
                f"{measure} per keyword fell to {now:.1f} from a usual {usual:.1f} "
                f"(median of the last {len(earlier)} runs)",
                value=round(now, 2), expected=round(usual, 2)))


def alert_payload(report: HealthReport, run_id: int, db: str,
                  replica: str | None, head: str | None = None) -> dict[str, Any]:
    """The JSON a webhook receives (and the email's content). ``head`` is the DB's head at
    the run's end: an alert received elsewhere is itself a record of it."""
    return {"tool": "thriftwatch", "run_id": run_id, "platform": report.platform,
            "status": report.status, "db": db, "replica": replica, "head": head,
            "findings": report.as_dicts()}
