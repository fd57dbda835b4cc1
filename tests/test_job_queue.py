"""A job directory's pending requests are kept as JSON, and what is read back runs nothing."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import scrapy
from queuelib import queue
from scrapy.utils.test import get_crawler

from crawler.frontier.serializer import EntryDecodeError
from crawler.runtime.job_queue import JsonFifoDiskQueue, JsonLifoDiskQueue
from crawler.settings import EXTENSIONS, SCHEDULER_DISK_QUEUE, SCHEDULER_START_DISK_QUEUE
from tests.helpers import crawl_replica, open_db


class SearchSpider(scrapy.Spider):
    name = "search"

    def parse(self, response):  # pragma: no cover - never called: requests only queued
        return None


def crawler_with_spider():
    crawler = get_crawler(SearchSpider)
    crawler.spider = SearchSpider()
    return crawler


def stored_bytes(path: Path) -> bytes:
    """What a disk queue at *path* holds on disk (a file, or a folder of chunks)."""
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    return b"".join(file.read_bytes() for file in files if file.is_file())


def request(number: int, spider: scrapy.Spider) -> scrapy.Request:
    return scrapy.Request(f"http://127.0.0.1:1/search?q=balpres&page={number}",
                          callback=spider.parse, method="POST", body=b"\x00\xffq",
                          headers={"X-Page": str(number)},
                          meta={"depth": number, "handle_httpstatus_list": [404, 429]})


@pytest.mark.parametrize(("queue_class", "order"), [(JsonLifoDiskQueue, [2, 1, 0]),
                                                     (JsonFifoDiskQueue, [0, 1, 2])])
def test_pending_requests_go_to_disk_as_json_and_come_back_whole(tmp_path, queue_class, order):
    crawler = crawler_with_spider()
    path = tmp_path / "requests.queue" / "0"
    pending = queue_class.from_crawler(crawler, str(path))
    for number in range(3):
        pending.push(request(number, crawler.spider))
    assert len(pending) == 3
    assert pending.peek().meta["depth"] == order[0]
    pending.close()
    stored = stored_bytes(path)
    assert b'"http://127.0.0.1:1/search?q=balpres&page=1"' in stored
    assert b"\x80\x04" not in stored  # no pickle protocol

    pending = queue_class.from_crawler(crawler, str(path))
    back = [pending.pop() for _ in range(3)]
    assert pending.pop() is None
    assert [got.meta["depth"] for got in back] == order
    sent = request(order[0], crawler.spider)
    assert (back[0].url, back[0].method, back[0].body, back[0].meta, back[0].callback) == \
        (sent.url, sent.method, sent.body, sent.meta, crawler.spider.parse)
    assert back[0].headers.get("X-Page") == str(order[0]).encode()
    pending.close()


def test_a_pickle_in_the_queue_file_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    path = tmp_path / "requests.queue" / "0"
    path.parent.mkdir()
    raw = queue.LifoDiskQueue(str(path))
    raw.push(pickle.dumps(Payload(), protocol=4))
    raw.close()
    pending = JsonLifoDiskQueue.from_crawler(crawler_with_spider(), str(path))
    with pytest.raises(EntryDecodeError):
        pending.pop()
    assert not marker.exists()


def test_a_request_the_frontier_would_not_share_stays_in_memory(tmp_path):
    """Scrapy's scheduler keeps a request in its memory queue when the disk queue raises
    ``ValueError``, as it does for one pickle cannot hold."""
    pending = JsonLifoDiskQueue.from_crawler(crawler_with_spider(), str(tmp_path / "q"))
    with pytest.raises(ValueError, match="not shared"):
        pending.push(scrapy.Request("http://127.0.0.1:1/", meta={"card": object()}))
    assert len(pending) == 0


def test_an_entry_no_spider_of_ours_would_make_is_refused(tmp_path):
    """Read back, an entry becomes a request only as the shared frontier allows: no proxy
    set through meta, no callback outside the spider's own code."""
    path = tmp_path / "requests.queue" / "0"
    path.parent.mkdir()
    raw = queue.LifoDiskQueue(str(path))
    raw.push(b'{"url":"http://127.0.0.1:1/","meta":{"proxy":"http://10.0.0.1:3128"}}')
    raw.push(b'{"url":"http://127.0.0.1:1/","callback":"close"}')
    raw.close()
    pending = JsonLifoDiskQueue.from_crawler(crawler_with_spider(), str(path))
    for _ in range(2):
        with pytest.raises(EntryDecodeError):
            pending.pop()


def test_the_project_keeps_job_directories_free_of_pickles():
    assert SCHEDULER_DISK_QUEUE == "crawler.runtime.job_queue.JsonLifoDiskQueue"
    assert SCHEDULER_START_DISK_QUEUE == "crawler.runtime.job_queue.JsonFifoDiskQueue"
    assert EXTENSIONS["scrapy.extensions.spiderstate.SpiderState"] is None


def test_a_stopped_scheduler_leaves_start_and_later_requests_as_json(tmp_path):
    """Scrapy keeps the spiders' start requests in a disk queue of their own: with the
    project's settings, a scheduler stopped with requests pending leaves no pickle in the
    job directory, and a new one takes every request back."""
    from scrapy.core.scheduler import Scheduler

    settings = {"JOBDIR": str(tmp_path / "job"), "SCHEDULER_DISK_QUEUE": SCHEDULER_DISK_QUEUE,
                "SCHEDULER_START_DISK_QUEUE": SCHEDULER_START_DISK_QUEUE,
                # the same disk queues under the priority queue that needs no running engine
                "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue"}
    crawler = get_crawler(SearchSpider, settings)
    crawler.spider = SearchSpider()
    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    start = request(0, crawler.spider)
    start.meta["is_start_request"] = True
    later = request(1, crawler.spider)
    assert scheduler.enqueue_request(start)
    assert scheduler.enqueue_request(later)
    scheduler.close("shutdown")
    stored = stored_bytes(tmp_path / "job" / "requests.queue")
    assert b"page=0" in stored
    assert b"page=1" in stored
    assert b"\x80\x04" not in stored  # no pickle protocol

    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    back = {scheduler.next_request().url, scheduler.next_request().url}
    assert back == {start.url, later.url}
    assert scheduler.next_request() is None
    scheduler.close("finished")


@pytest.mark.crawl
def test_a_crawl_with_a_job_directory_finishes_and_writes_no_spider_state(replica, tmp_path):
    jobdir = tmp_path / "job"
    db = tmp_path / "evidence.db"
    result = crawl_replica(replica, db, "tokopedia", "-a", "keywords=balpres,karungan",
                           "-a", "max_pages=2", "-s", f"JOBDIR={jobdir}")
    assert "'scheduler/enqueued/disk': " in result.stderr  # the requests went to disk
    with open_db(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] > 0
    assert (jobdir / "requests.seen").exists()
    assert not (jobdir / "spider.state").exists()
