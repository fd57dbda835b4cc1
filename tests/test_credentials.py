"""Credentials stay out of everything printed or stored: scrapyd logins, URLs with a
``user:password@``, and log lines quoting them."""

from __future__ import annotations

import logging

from crawler.evidence.capture import redact_query_secrets, strip_query_secrets
from crawler.ops.scrapyd import resolve_servers
from crawler.runtime.log_redaction import install_log_redaction
from tests.helpers import run_command

SECRET = "pl4nted-pw"


def test_scrapyd_credentials_come_from_a_deploy_target_the_environment_or_the_url(tmp_path):
    project = tmp_path / "scrapy.cfg"
    project.write_text("[deploy:desk]\nurl = http://10.0.0.5:6800/\nusername = desk\n"
                       f"password = {SECRET}\n")
    named, by_url, from_env, in_url = resolve_servers(
        ["desk", "http://10.0.0.5:6800", "http://10.0.0.6:6800",
         f"http://ops:{SECRET}@10.0.0.7:6800/"],
        project, environ={"THRIFTWATCH_SCRAPYD_USERNAME": "envuser",
                          "THRIFTWATCH_SCRAPYD_PASSWORD": SECRET})
    assert (named.url, named.username, named.password) == ("http://10.0.0.5:6800", "desk",
                                                           SECRET)
    assert by_url.username == "desk"  # the target with the same URL gives its login
    assert (from_env.username, from_env.password) == ("envuser", SECRET)
    assert (in_url.url, in_url.username) == ("http://10.0.0.7:6800", "ops")
    for server in (named, by_url, from_env, in_url):
        assert SECRET not in str(server)
        assert SECRET not in repr(server)
        assert server.authorization.startswith("Basic ")


def test_a_cron_line_never_carries_a_password(tmp_path):
    result = run_command("thriftwatch", "schedule", "--cron", "--every", "1h", "tokopedia",
                         "--db", str(tmp_path / "e.db"),
                         "--scrapyd", f"http://ops:{SECRET}@10.0.0.7:6800")
    assert result.returncode == 2
    assert "scrapy.cfg [deploy:NAME]" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_user_and_password_in_urls_are_blanked_in_logs_and_stored_urls(caplog):
    text = f"POST https://desk:{SECRET}@hooks.example.org/alert?token=abc failed"
    assert SECRET not in redact_query_secrets(text)
    assert "https://REDACTED@hooks.example.org/alert?token=REDACTED" in redact_query_secrets(text)
    assert SECRET not in strip_query_secrets(f"https://desk:{SECRET}@host/p?q=1")
    install_log_redaction()
    with caplog.at_level(logging.INFO):
        logging.getLogger("thriftwatch.test").info("calling %s", f"http://a:{SECRET}@h:6800/")
    assert SECRET not in caplog.text
    assert "http://REDACTED@h:6800/" in caplog.text
