"""What went wrong talking to the identity provider, in words an operator
can act on.

A provider behind TLS with an internal certificate authority that Maca has
not been given fails with ``ConnectError`` and nothing more, which reads as
"the provider is down". The TLS failure underneath says what is really
wrong — the certificate is not trusted, or it is for another name — and
what to do: give Maca the authority's certificate (``SSL_CERT_FILE``, which
httpx and so Maca's requests to the provider read), or name the provider
by a name its certificate holds.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import httpx

__all__ = ["describe"]

# OpenSSL's X509_V_ERR_* codes for "I cannot vouch for this certificate".
_NOT_TRUSTED = {
    2,  # unable to get issuer certificate
    18,  # self-signed certificate
    19,  # self-signed certificate in certificate chain
    20,  # unable to get local issuer certificate
    21,  # unable to verify the first certificate
}
_EXPIRED = {9, 10}  # not yet valid, expired
_NAME_MISMATCH = 62  # X509_V_ERR_HOSTNAME_MISMATCH
_IP_MISMATCH = 64  # X509_V_ERR_IP_ADDRESS_MISMATCH


def _tls_error(error: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def describe(error: httpx.HTTPError, url: str) -> str:
    """``error`` (from a request to ``url``) as one line: a TLS failure
    named as such, with what to do; otherwise the kind of failure."""
    host = urlsplit(url).hostname or url
    tls = _tls_error(error)
    if isinstance(tls, ssl.SSLCertVerificationError):
        code = tls.verify_code
        said = tls.verify_message or tls.reason or "certificate verify failed"
        if code in (_NAME_MISMATCH, _IP_MISMATCH):
            return (
                f"TLS: the certificate of {host} is for another name ({said}); "
                "set OIDC_ISSUER to a name the certificate holds"
            )
        if code in _EXPIRED:
            return f"TLS: the certificate of {host} is out of date ({said})"
        if code in _NOT_TRUSTED:
            return (
                f"TLS: the certificate of {host} is not trusted ({said}); give Maca the certificate of the "
                "authority that issued it with SSL_CERT_FILE"
            )
        return f"TLS: the certificate of {host} was refused ({said})"
    if tls is not None:
        return f"TLS: the connection to {host} failed ({tls.reason or type(tls).__name__})"
    if isinstance(error, httpx.TimeoutException):
        return f"{host} did not answer in time ({type(error).__name__})"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect to {host} ({error})"[:300]
    return f"{host}: {type(error).__name__}"
