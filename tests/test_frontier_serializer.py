"""The shared frontier's queue entries: JSON, never pickle; every request our search spiders
queue comes back as it went; what comes back from Redis is checked, never run; the config
hides the Redis password. Pure: no Redis (tests/test_frontier.py has the real one)."""

from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.settings import Settings

from crawler.config import Config, ConfigError
from crawler.frontier import serializer
from crawler.frontier.requests import NotShareable, from_entry, to_entry
from crawler.frontier.serializer import EntryDecodeError, EntryEncodeError
from crawler.items import Listing
from crawler.keys import Meta
from spiders.blibli import BlibliSpider
from spiders.bukalapak import BukalapakSpider
from spiders.lazada import LazadaSpider
from spiders.profile import ProfileKeyword, ProfileSpider
from spiders.shopee import ShopeeSpider
from spiders.tokopedia import TokopediaSpider

SPIDERS = (TokopediaSpider, ShopeeSpider, LazadaSpider, BlibliSpider, BukalapakSpider)
KEYWORD = st.text(min_size=1, max_size=40).filter(lambda k: k.strip() and "," not in k)


def comparable(request: Request, spider) -> dict:
    return request.to_dict(spider=spider)


@settings(max_examples=150, deadline=None)
@given(spider_cls=st.sampled_from(SPIDERS), keyword=KEYWORD, page=st.integers(1, 500),
       retries=st.integers(0, 3), priority=st.integers(-100, 100))
def test_every_search_request_comes_back_as_it_went(spider_cls, keyword, page, retries,
                                                    priority):
    spider = spider_cls()
    spider.max_pages = 5
    request = spider.page_request(keyword, page)
    meta = {**request.meta, "is_start_request": page == 1}
    if retries:
        meta["retry_times"] = retries
    request = request.replace(meta=meta, priority=priority)
    entry = to_entry(request, spider)
    json.loads(entry)  # plain JSON, whatever the keyword holds
    back = from_entry(entry, spider)
    assert comparable(back, spider) == comparable(request, spider)
    assert back.callback == spider.parse_search
    assert back.errback == spider.page_failed


@settings(max_examples=150, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.binary()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8) | st.binary(max_size=8), inner, max_size=4),
    max_leaves=20))
def test_json_values_bytes_tuples_and_byte_keys_round_trip(value):
    assert serializer.loads(serializer.dumps({"value": value})) == {"value": value}


def test_process_local_meta_is_dropped_and_the_lease_number_never_travels():
    spider = TokopediaSpider()
    spider.max_pages = 5
    request = spider.page_request("balpres", 2)
    request.meta.update({Meta.CAPTURE: (1, "ab"), "download_slot": "x",
                         "thriftwatch_frontier_token": "7", "download_latency": 0.3})
    back = from_entry(to_entry(request, spider), spider)
    assert set(back.meta) == {"handle_httpstatus_list", "dont_redirect"}


@pytest.mark.parametrize(("change", "why"), [
    (lambda r, s: r.replace(cb_kwargs={**r.cb_kwargs, "card": Listing(
        platform="tokopedia", listing_id="1", title="t", url="https://www.tokopedia.com/x",
        keyword="balpres")}),
     "crawler.items.Listing"),
    (lambda r, s: r.replace(meta={**r.meta, "proxy": "http://10.0.0.1:3128"}), "'proxy'"),
    (lambda r, s: r.replace(meta={**r.meta, Meta.FETCH_HOSTS: ["evil.example"]}),
     Meta.FETCH_HOSTS),
    (lambda r, s: r.replace(cb_kwargs={"keyword": ProfileKeyword("bal", "olx"), "page": 1}),
     "ProfileKeyword"),
    (lambda r, s: r.replace(cb_kwargs={**r.cb_kwargs, "score": float("nan")}), "nan"),
    (lambda r, s: r.replace(callback=lambda response: None), "not an instance method"),
])
def test_what_json_cannot_carry_exactly_is_not_shared_and_says_why(change, why):
    spider = TokopediaSpider()
    spider.max_pages = 5
    with pytest.raises(NotShareable, match=why.replace(".", r"\.").replace("(", r"\(")):
        to_entry(change(spider.page_request("balpres", 1), spider), spider)


def test_a_listing_page_request_stays_in_its_process():
    """Its callback takes the search card (an object): asked for by the enrich pipeline of
    the process that parsed the card, it is fetched there."""
    spider = TokopediaSpider()
    card = Listing(platform="tokopedia", listing_id="1", title="bal", keyword="balpres",
                   url="https://www.tokopedia.com/toko/bal-1")
    request = spider.follow_listing_page(card)
    assert request is not None
    with pytest.raises(NotShareable, match="Listing"):
        to_entry(request, spider)


def test_a_profile_keyword_is_not_shared():
    """``spiders/profile.py`` tags its keyword with the profile (a ``str`` subclass): JSON
    would bring it back untagged, so profile crawls stay in each process."""
    spider = ProfileSpider()
    request = Request("https://example.org/search?q=bal", callback=spider.parse_search,
                      cb_kwargs={"keyword": ProfileKeyword("bal", "olx"), "page": 1})
    with pytest.raises(NotShareable, match="ProfileKeyword"):
        to_entry(request, spider)


def test_the_serializer_refuses_objects_with_a_clear_error():
    with pytest.raises(EntryEncodeError, match=r"builtins\.object.*cannot be shared"):
        serializer.dumps({"meta": {"x": object()}})
    with pytest.raises(EntryEncodeError, match="more than"):
        serializer.dumps({"body": b"x" * serializer.MAX_ENTRY_BYTES})


def _entry(spider, **changes) -> bytes:
    data = json.loads(to_entry(spider.page_request("balpres", 1), spider))
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize("changes", [
    {"_class": "subprocess.Popen"},
    {"_class": "scrapy.http.request.Request"},
    {"callback": "__init__"},
    {"callback": "start"},
    {"callback": "close"},
    {"callback": "log"},  # Scrapy's Spider.log
    {"callback": "record_fault "},
    {"errback": "crawler.settings"},
    {"callback": 12},
    {"url": "file:///etc/passwd"},
    {"url": None},
    {"method": "GET /x HTTP/1.1\r\nHost: evil"},
    {"meta": {"proxy": "http://10.0.0.1:3128"}},
    {"meta": {Meta.FETCH_HOSTS: ["evil.example"]}},
    {"meta": {"dont_obey_robotstxt": True}},
    {"meta": [1]},
    {"priority": 10**9},
    {"priority": True},
    {"cb_kwargs": {"$tuple": 1}},
    {"headers": {"$b64": "!!"}},
    {"flags": [1]},
])
def test_an_entry_outside_what_spiders_queue_is_refused(changes):
    spider = TokopediaSpider()
    spider.max_pages = 5
    with pytest.raises(EntryDecodeError):
        from_entry(_entry(spider, **changes), spider)


def test_a_pickle_is_not_an_entry_and_nothing_in_it_runs():
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("unpickled: code ran",))

    spider = TokopediaSpider()
    with pytest.raises(EntryDecodeError, match="not JSON"):
        from_entry(pickle.dumps(Boom()), spider)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode)
       | st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(
                          ["url", "callback", "meta", "$b64", "$map", "$tuple", "headers",
                           "body", "_class", "method", "cb_kwargs", "x"]), inner, max_size=4),
                      max_leaves=12).map(lambda v: json.dumps(v).encode()))
def test_any_bytes_from_redis_make_a_request_or_an_entry_decode_error(data):
    spider = TokopediaSpider()
    try:
        request = from_entry(data, spider)
    except EntryDecodeError:
        return
    assert request.url.startswith(("http://", "https://"))
    assert set(request.meta) <= {"handle_httpstatus_list", "dont_redirect", "retry_times",
                                 "depth", "download_timeout", "is_start_request",
                                 Meta.RENDER, Meta.CREDENTIALS}


def test_deep_nesting_is_a_decode_error_not_a_crash():
    with pytest.raises(EntryDecodeError):
        serializer.loads(b"[" * 100_000 + b"]" * 100_000)


# -- the settings -----------------------------------------------------------------------


def test_the_frontier_url_is_checked_and_its_password_never_shown():
    config = Config.from_settings(Settings({
        "THRIFTWATCH_FRONTIER": "redis://:pl4nted-s3cret@10.0.0.7:6380/2",
        "THRIFTWATCH_FRONTIER_RUN": "round-12", "THRIFTWATCH_NODE": "jakarta-1"})).frontier
    assert config.enabled
    assert config.public_url == "redis://10.0.0.7:6380/2"
    assert config.url == "redis://:pl4nted-s3cret@10.0.0.7:6380/2"
    assert "pl4nted" not in repr(config)
    assert "pl4nted" not in str(config)
    assert (config.run, config.node) == ("round-12", "jakarta-1")
    assert not Config.from_settings(Settings()).frontier.enabled


@pytest.mark.parametrize(("values", "problem"), [
    ({"THRIFTWATCH_FRONTIER": "http://127.0.0.1:6379"}, "must look like redis://"),
    ({"THRIFTWATCH_FRONTIER": "redis://127.0.0.1:6379/x"}, "must look like redis://"),
    ({"THRIFTWATCH_FRONTIER": "redis://:pw@127.0.0.1:99999/0"}, "cannot be read"),
    ({"THRIFTWATCH_FRONTIER": "redis://:pl4nted@10.0.0.7/0",
      "THRIFTWATCH_REPLICA": "http://127.0.0.1:8321"}, "on 127.0.0.1"),
    ({"THRIFTWATCH_FRONTIER_RUN": "a b"}, "THRIFTWATCH_FRONTIER_RUN takes"),
    ({"THRIFTWATCH_FRONTIER_RUN": "x%(spider)s"}, "THRIFTWATCH_FRONTIER_RUN takes"),
    ({"THRIFTWATCH_NODE": "node:1"}, "THRIFTWATCH_NODE takes"),
    ({"THRIFTWATCH_FRONTIER_IDLE": "-1"}, "THRIFTWATCH_FRONTIER_IDLE must be"),
    ({"THRIFTWATCH_FRONTIER_LEASE": "0.5"}, "THRIFTWATCH_FRONTIER_LEASE must be"),
])
def test_unusable_frontier_settings_are_refused_by_name(values, problem):
    with pytest.raises(ConfigError, match=problem) as error:
        Config.from_settings(Settings(values))
    assert "pl4nted" not in str(error.value)


def test_the_addon_switches_scrapy_redis_on_only_with_a_frontier():
    from crawler.frontier.addon import FrontierAddon
    from crawler.runtime.process import project_settings

    plain = project_settings()
    FrontierAddon().update_settings(plain)
    assert plain["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"
    shared = project_settings({"THRIFTWATCH_FRONTIER": "redis://127.0.0.1:6379/0"})
    FrontierAddon().update_settings(shared)
    assert shared["SCHEDULER"] == "crawler.frontier.scheduler.FrontierScheduler"
    assert shared["SCHEDULER_SERIALIZER"] == "crawler.frontier.serializer"
    assert shared.getbool("SCHEDULER_PERSIST")
    assert shared.getint(
        "SCHEDULER_IDLE_BEFORE_CLOSE") == 0
    assert "crawler.frontier.idle.FrontierIdle" in shared.getdict("EXTENSIONS")
    # The run key is fixed once, for every component of the crawl.
    assert Config.from_settings(shared).frontier.run == Config.from_settings(
        shared).frontier.run
