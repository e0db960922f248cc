"""An independent OpenID provider for the tests: panva's ``oidc-provider``
(OpenID Certified; npm, from package-lock.json) run by Node over TLS with
a certificate from a test authority made here, and Maca configured for it
only through documented environment variables.

    authority = an_authority(folder)                      # CA + localhost's certificate
    with independent_provider(folder, authority, maca_port) as issuer:
        env = maca_configured_for(issuer, authority, database_url, folder)
        with maca_running(env, folder / "maca.log", maca_port) as maca:
            token = await client_credentials(issuer, authority, "police-records")

The provider's claim layout is not Maca's development provider's (see
``independent_provider.mjs``): ``org`` and ``agency``, no partnership,
people's roles as groups, an agency system's as its scope.
"""

from __future__ import annotations

import datetime
import ssl
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.deploy.processes import START_TIMEOUT, background, free_port, maca_environment, output

SCRIPT = Path(__file__).with_name("independent_provider.mjs")
# The API's resource indicator: the access tokens' audience.
RESOURCE = "https://maca.test/api"
SECRETS = {"police-records": "police-records-secret", "csc-case-system": "csc-case-system-secret"}
SCOPES = {"police-records": "audit:contribute", "csc-case-system": "audit:coordinate"}

# What Maca is told, and nothing else: README, "Signing in", the third recipe.
CONFIGURATION = {
    "OIDC_AUDIENCE": RESOURCE,
    "OIDC_CLIENT_ID": "maca-web",
    "OIDC_CLAIM_ORGANISATION": "org",
    "OIDC_CLAIM_AGENCY_KIND": "agency",
    "OIDC_CLAIM_ROLES": "groups",
    "OIDC_CLAIM_NAME": "display_name",
    "OIDC_ROLE_MAP": "audit:contribute=auditor,audit:coordinate=coordinator,lscp-coordinators=coordinator,"
    "maca-admins=admin",
    "OIDC_DEFAULT_PARTNERSHIP": "lscp-riverside",
}


@dataclass(frozen=True)
class Authority:
    """A test certificate authority, and a certificate it issued for ``localhost``."""

    ca: Path
    certificate: Path
    key: Path


def an_authority(folder: Path) -> Authority:
    """A CA and a server certificate naming localhost (DNS only: an issuer
    addressed as 127.0.0.1 does not match it)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Maca test authority")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    authority = Authority(ca=folder / "ca.pem", certificate=folder / "localhost.pem", key=folder / "localhost-key.pem")
    authority.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    authority.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    authority.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return authority


@contextmanager
def independent_provider(folder: Path, authority: Authority, maca_port: int) -> Iterator[str]:
    """oidc-provider on a free port; yields its issuer, https://localhost:PORT."""
    port = free_port()
    issuer = f"https://localhost:{port}"
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PORT": str(port),
        "ISSUER": issuer,
        "CERT": str(authority.certificate),
        "KEY": str(authority.key),
        "RESOURCE": RESOURCE,
        "MACA_REDIRECT_URI": f"http://127.0.0.1:{maca_port}/auth/callback",
    }
    log = folder / "provider.log"
    with background(["node", str(SCRIPT)], log, env) as process:
        deadline = time.monotonic() + START_TIMEOUT
        while "ready" not in output(log):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the independent provider did not start:\n{output(log)}")
            time.sleep(0.1)
        yield issuer


def maca_configured_for(issuer: str, database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """``maca serve``'s environment for the independent provider."""
    return maca_environment(database_url, data_dir, OIDC_ISSUER=issuer, **CONFIGURATION, **extra)


@contextmanager
def maca_running(env: dict[str, str], log: Path, port: int) -> Iterator[str]:
    """``maca serve`` on ``port``, once it answers /healthz (ready or not:
    a test may be about why it is not); yields its base URL."""
    base_url = f"http://127.0.0.1:{port}"
    with background([*_maca_command()], log, {**env, "MACA_PORT": str(port)}) as process:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise AssertionError(f"maca serve exited with {process.returncode}:\n{output(log)}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"maca serve did not answer:\n{output(log)}")
            time.sleep(0.2)
        yield base_url


def _maca_command() -> list[str]:
    return [sys.executable, "-m", "server.cli", "serve"]


async def client_credentials(issuer: str, authority: Authority, client_id: str) -> str:
    """An agency system's access token, by the client-credentials grant."""
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=authority.ca), timeout=10) as http:
        response = await http.post(
            f"{issuer}/token",
            data={"grant_type": "client_credentials", "scope": SCOPES[client_id]},
            auth=(client_id, SECRETS[client_id]),
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
