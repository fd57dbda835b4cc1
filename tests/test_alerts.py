"""Alert e-mail never exposes the SMTP password: STARTTLS and SMTPS check the server's
certificate, and a login over a plain connection is refused. Real SMTP servers (aiosmtpd)
on 127.0.0.1 with certificates made for the test."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl
from email import message_from_bytes
from typing import TYPE_CHECKING

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from scrapy.settings import Settings

from crawler.config import AlertConfig, Config, ConfigError
from crawler.ops.alerts import send_alerts, send_email
from tests.helpers import free_port

if TYPE_CHECKING:
    from pathlib import Path

USER, PASSWORD = "desk", "pl4nted-smtp-s3cret"


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate it signed for 127.0.0.1: (ca.pem, cert.pem, key.pem)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test mail CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.original_content)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=(auth_data.login.decode(), auth_data.password.decode())
                          == (USER, PASSWORD))


@pytest.fixture
def tls(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    ca, cert, key = certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return ca, context


def smtp_server(mailbox: Mailbox, context: ssl.SSLContext, *, implicit: bool) -> Controller:
    options = ({"ssl_context": context} if implicit else
               {"tls_context": context, "require_starttls": True})
    # aiosmtpd counts only STARTTLS as TLS; an implicit-TLS (SMTPS) connection is TLS anyway.
    server = Controller(mailbox, hostname="127.0.0.1", port=free_port(),
                        authenticator=mailbox.authenticate, auth_require_tls=not implicit,
                        **options)
    server.start()
    return server


def config(port: int, **changes: object) -> AlertConfig:
    return AlertConfig(smtp_host="127.0.0.1", smtp_port=port, smtp_user=USER,
                       smtp_password=PASSWORD, email_from="tw@example.org",
                       email_to=("desk@example.org",), **changes)


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
def test_mail_goes_over_tls_to_a_server_whose_certificate_checks_out(tls, monkeypatch,
                                                                     implicit):
    ca, context = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the test CA, as the system's would be
    mailbox = Mailbox()
    server = smtp_server(mailbox, context, implicit=implicit)
    try:
        send_email(config(server.port, smtp_starttls=not implicit, smtp_ssl=implicit),
                   "[thriftwatch] test", "body")
    finally:
        server.stop()
    assert mailbox.logins == [(USER, PASSWORD)]
    assert message_from_bytes(mailbox.messages[0])["Subject"] == "[thriftwatch] test"


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "smtps"])
def test_a_server_with_an_untrusted_certificate_gets_no_password(tls, caplog, implicit):
    _, context = tls  # no SSL_CERT_FILE: the certificate chains to nothing trusted
    mailbox = Mailbox()
    server = smtp_server(mailbox, context, implicit=implicit)
    payload = {"run_id": 1, "platform": "tokopedia", "status": "failing", "db": "x.db",
               "head": "0" * 64, "findings": [{"check": "finish", "severity": "failing",
                                              "message": "stopped"}]}
    try:
        with caplog.at_level(logging.ERROR):
            send_alerts(config(server.port, smtp_starttls=not implicit, smtp_ssl=implicit),
                        payload)
    finally:
        server.stop()
    assert mailbox.logins == []
    assert mailbox.messages == []
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text or "certificate verify failed" in caplog.text


def test_a_password_is_never_sent_over_a_plain_connection(monkeypatch):
    mailbox = Mailbox()
    server = Controller(mailbox, hostname="127.0.0.1", port=free_port(),
                        authenticator=mailbox.authenticate, auth_require_tls=False)
    server.start()
    try:
        with pytest.raises(Exception, match="refusing to send the SMTP password"):
            send_email(config(server.port), "s", "b")
        allowed = config(server.port, smtp_allow_plain=True)  # a trusted local relay
        send_email(allowed, "s", "b")
    finally:
        server.stop()
    assert mailbox.logins == [(USER, PASSWORD)]  # only the explicitly allowed one


def test_the_settings_refuse_a_login_without_encryption():
    with pytest.raises(ConfigError, match="not encrypted"):
        Config.from_settings(Settings({"THRIFTWATCH_ALERT_SMTP": "mail.example.org:587",
                                       "THRIFTWATCH_ALERT_SMTP_USER": USER}))
    ok = Config.from_settings(Settings({"THRIFTWATCH_ALERT_SMTP": "mail.example.org",
                                        "THRIFTWATCH_ALERT_SMTP_USER": USER,
                                        "THRIFTWATCH_ALERT_SMTP_SSL": True}))
    assert ok.alerts.smtp_port == 465
