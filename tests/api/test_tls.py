"""``crmledger serve --tls-cert --tls-key`` serves HTTPS, with HSTS and a Secure session
cookie; plain HTTP is not answered on that port."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from crmledger.bootstrap import App
from tests.api.live import serving_process


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_https_with_hsts_and_secure_cookies(app: App, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    args = ("--tls-cert", str(cert), "--tls-key", str(key))
    with serving_process(
        app.settings.database_url, str(app.settings.keyring), *args, scheme="https", verify=trust
    ) as base:
        health = httpx.get(f"{base}/api/v1/health", verify=trust)
        assert health.status_code == 200
        assert health.headers["strict-transport-security"].startswith("max-age=")
        login = httpx.get(f"{base}/login", verify=trust)
        cookies = login.headers.get_list("set-cookie")
        assert cookies
        assert all("secure" in c.lower() and "httponly" in c.lower() for c in cookies)
        with pytest.raises(httpx.HTTPError):
            httpx.get(base.replace("https", "http") + "/api/v1/health", timeout=2)
