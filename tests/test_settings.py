"""Settings are read in one place and documented in one table: every ``THRIFTWATCH_*``
setting has its default in crawler/settings.py, is read by crawler/config.py only, and has
a row in the README's settings table (as sqlite-utils checks its CLI reference)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.settings import Settings

from crawler import settings as project_settings
from crawler.config import Config, ConfigError
from tests.helpers import REPO

NAME = re.compile(r"\bTHRIFTWATCH_[A-Z0-9_]+\b")
SOURCES = [path for package in ("crawler", "spiders", "pipelines")
           for path in (REPO / package).rglob("*.py")]


def defaults() -> set[str]:
    return {name for name in vars(project_settings) if name.startswith("THRIFTWATCH_")}


def read_by_config() -> set[str]:
    text = (REPO / "crawler" / "config.py").read_text("utf-8")
    return set(re.findall(r'"(THRIFTWATCH_[A-Z0-9_]+)"', text)) - {"THRIFTWATCH_SMTP_PASSWORD"}


def readme_rows(heading: str) -> set[str]:
    text = (REPO / "README.md").read_text("utf-8")
    section = text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(THRIFTWATCH_[A-Z0-9_]+)` \|", section, re.MULTILINE))


def environment_variables() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        text = path.read_text("utf-8")
        found.update(re.findall(r'environ(?:\.get)?\(\s*"(THRIFTWATCH_[A-Z0-9_]+)"', text))
        found.update(re.findall(r'_ENV = "(THRIFTWATCH_[A-Z0-9_]+)"', text))
    return found


def test_every_setting_has_one_default_and_config_reads_them_all():
    assert read_by_config() == defaults()


def test_every_setting_and_environment_variable_has_a_readme_row():
    documented = readme_rows("## Settings")
    assert defaults() <= documented, sorted(defaults() - documented)
    assert environment_variables() <= documented, sorted(environment_variables() - documented)
    assert documented <= defaults() | environment_variables(), "a row for no setting"
    assert {"THRIFTWATCH_SMTP_PASSWORD", "THRIFTWATCH_PURE"} <= environment_variables()


# settings.get*("NAME") (not os.environ), settings["NAME"] (not an assignment), config's readers.
READ = re.compile(r"""(?:(?<!environ)\.get\w*\(|\b(?:text|path|flag|whole|number|strings)\()"""
                  r"""\s*["']THRIFTWATCH_"""
                  r"""|\[\s*["']THRIFTWATCH_\w+["']\s*\](?!\s*=[^=])""")


def test_no_setting_is_read_outside_the_config_module():
    readers = sorted(str(path.relative_to(REPO)) for path in SOURCES
                     if READ.search(path.read_text("utf-8")))
    assert readers == ["crawler/config.py"]  # the pattern sees reads: config's own
    assert READ.search('path = crawler.settings.get("THRIFTWATCH_INSTAGRAM_COOKIES")')
    assert READ.search('base = settings["THRIFTWATCH_BACKOFF_BASE"]')


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(defaults())),
                       st.text(max_size=30) | st.integers(-5, 10**6) | st.floats(allow_nan=True)
                       | st.booleans() | st.none(), max_size=6))
def test_any_setting_value_is_taken_or_refused_by_name(values):
    """Whatever a settings file, ``-s`` or scrapyd hands over, the config is built or the
    error names a setting it was given."""
    try:
        Config.from_settings(Settings(values))
    except ConfigError as error:
        assert any(name in str(error) for name in values), str(error)


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("THRIFTWATCH_MAX_PAGES", "0", "must be at least 1"),
    ("THRIFTWATCH_STORE_BATCH", "many", "must be a whole number"),
    ("THRIFTWATCH_HEALTH_BLOCK_RATE", "1.5", "must be from 0.0 to 1.0"),
    ("THRIFTWATCH_BACKOFF_MAX", "-1", "must be >= 0.0"),
    ("THRIFTWATCH_HEALTH_ENABLED", "maybe", "must be True or False"),
    ("THRIFTWATCH_ALERT_SMTP", "mail:smtp", "HOST or HOST:PORT"),
    ("THRIFTWATCH_REPLICA", "127.0.0.1:8321", "must look like http://127.0.0.1:PORT"),
])
def test_unusable_values_are_refused_with_the_setting_named(name, value, problem):
    with pytest.raises(ConfigError, match=re.escape(problem)) as error:
        Config.from_settings(Settings({name: value}))
    assert name in str(error.value)


def test_defaults_fill_what_the_settings_leave_out():
    config = Config.from_settings(Settings())
    assert config.max_pages == project_settings.THRIFTWATCH_MAX_PAGES
    assert config.health.block_rate == project_settings.THRIFTWATCH_HEALTH_BLOCK_RATE
    assert config.backoff.cap == project_settings.THRIFTWATCH_BACKOFF_MAX
    assert config.alerts.smtp_host is None
    assert config.alerts.email_to == ()


def test_the_smtp_password_comes_from_the_environment_and_is_never_shown(monkeypatch):
    monkeypatch.setenv("THRIFTWATCH_SMTP_PASSWORD", "pl4nted-s3cret")
    config = Config.from_settings(Settings({"THRIFTWATCH_ALERT_SMTP_USER": "desk"}))
    assert config.alerts.smtp_password == "pl4nted-s3cret"
    assert "pl4nted-s3cret" not in repr(config)
    assert "pl4nted-s3cret" not in str(config)
