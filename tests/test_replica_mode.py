"""Replica mode's URL mapping and settings check."""

import pytest

from crawler.config import ConfigError, parse_replica
from crawler.runtime.replica_mode import replica_url


@pytest.mark.parametrize(("url", "expected"), [
    ("https://gql.tokopedia.com/graphql/SearchProductV5Query",
     "http://127.0.0.1:9/gql.tokopedia.com/graphql/SearchProductV5Query"),
    ("https://shopee.co.id/api/v4/search/search_items?keyword=bal&limit=60",
     "http://127.0.0.1:9/shopee.co.id/api/v4/search/search_items?keyword=bal&limit=60"),
    ("https://www.tokopedia.com", "http://127.0.0.1:9/www.tokopedia.com/"),
    ("http://example.test:8080/a?b=c#frag", "http://127.0.0.1:9/example.test:8080/a?b=c"),
])
def test_every_host_maps_under_the_replica(url, expected):
    assert replica_url(url, "http://127.0.0.1:9") == expected


@pytest.mark.parametrize("value", ["127.0.0.1:9", "ftp://127.0.0.1", "http://127.0.0.1:9/x",
                                   "http://127.0.0.1:9/?a=1", "http://"])
def test_bad_replica_urls_are_refused(value):
    with pytest.raises(ConfigError, match="THRIFTWATCH_REPLICA"):
        parse_replica(value)


def test_replica_url_is_normalised():
    assert parse_replica("http://127.0.0.1:8321/") == "http://127.0.0.1:8321"
    assert parse_replica("") is None
