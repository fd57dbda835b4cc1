"""The frontier's Redis connection: to the URL ``THRIFTWATCH_FRONTIER`` names, nowhere else.

scrapy-redis would build its own from ``REDIS_URL``, ``REDIS_HOST`` and ``REDIS_PARAMS``;
thriftwatch's frontier builds its one client here from the typed config, so no other
setting can point it elsewhere. The URL may carry the password (from the setting or
``THRIFTWATCH_FRONTIER_PASSWORD``): only ``config.public_url`` is ever logged or recorded.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import redis

if TYPE_CHECKING:
    from crawler.config import FrontierConfig

# The password, when THRIFTWATCH_FRONTIER's URL carries none: from the environment, so it is
# in no scrapyd job queue, log line or settings digest.
FRONTIER_PASSWORD_ENV = "THRIFTWATCH_FRONTIER_PASSWORD"  # noqa: S105 - an env var's name


class FrontierUnavailable(RuntimeError):
    """Redis did not answer, or refused the login; the message names the public URL."""


def connect(config: FrontierConfig, timeout: float = 10.0) -> redis.Redis:
    """A client of the frontier's Redis, checked with a PING."""
    if config.url is None:
        raise FrontierUnavailable("no frontier is configured (THRIFTWATCH_FRONTIER)")
    password = os.environ.get(FRONTIER_PASSWORD_ENV) or None
    extra = {"password": password} if password and config.url == config.public_url else {}
    client = redis.Redis.from_url(config.url, socket_timeout=timeout,
                                  socket_connect_timeout=timeout, retry_on_timeout=True,
                                  health_check_interval=30, **extra)
    try:
        client.ping()
    except redis.RedisError as error:
        # The error's text names host and port, never the password.
        raise FrontierUnavailable(f"the frontier's Redis at {config.public_url} does not "
                                  f"answer: {type(error).__name__}: {error}") from None
    return client
