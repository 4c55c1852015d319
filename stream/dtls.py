"""The DTLS context of every WebRTC peer (WHIP publishers, WHEP viewers), configured so the encoders
studios really use can connect, and a record of why a handshake failed.

aiortc builds its OpenSSL context in one place, `RTCCertificate._create_ssl_context`, with a cipher
list of ECDHE-ECDSA suites only and OpenSSL's default groups. That shuts out:
- GStreamer's webrtcbin (and others on OpenSSL defaults), whose certificate is RSA: it needs the
  ECDHE-RSA suites;
- FFmpeg's WHIP muxer (GnuTLS), whose certificate is on P-224: in DTLS 1.2 the curve of the peer's
  signing key must be one of our supported groups (RFC 8422 §5.1), else OpenSSL sends an
  illegal-parameter alert ("wrong curve").

We wrap that one method rather than fork aiortc: the wrapper lets aiortc build its context (its
certificate, SRTP profiles, verification that accepts any self-signed certificate, since the SDP
fingerprint is what authenticates the peer) and then widens the cipher list and the groups. The
tests (tests/test_webrtc_interop.py) handshake through aiortc's own transport, so an aiortc upgrade
that stops calling this method fails them instead of silently shutting encoders out again.

The groups cannot be set that way: the pyOpenSSL that pins to an OpenSSL with P-224 binds no call
for them. OpenSSL reads them from its configuration file instead (`system_default`, applied to
every context it makes), so the server starts the media worker with `OPENSSL_CONF` naming the file
`worker_environment` writes. P-224 also needs an OpenSSL that still has RFC 8422's deprecated
curves: OpenSSL 4.0 removed them, so pyproject.toml keeps cryptography below 47 (its wheels bundle
OpenSSL 3.5). `p224_works()` checks it at the worker's start; the tests check it too."""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

from aiortc import rtcdtlstransport
from cryptography.hazmat.primitives.asymmetric import ec
from OpenSSL import SSL
from OpenSSL._util import ffi, lib

# ECDHE with an ECDSA or an RSA certificate; AEAD suites first, the CBC ones for old encoders.
CIPHERS = b":".join([
    b"ECDHE-ECDSA-AES128-GCM-SHA256", b"ECDHE-RSA-AES128-GCM-SHA256",
    b"ECDHE-ECDSA-AES256-GCM-SHA384", b"ECDHE-RSA-AES256-GCM-SHA384",
    b"ECDHE-ECDSA-CHACHA20-POLY1305", b"ECDHE-RSA-CHACHA20-POLY1305",
    b"ECDHE-ECDSA-AES128-SHA", b"ECDHE-RSA-AES128-SHA", b"ECDHE-ECDSA-AES256-SHA", b"ECDHE-RSA-AES256-SHA",
])
# Key exchange and the curves of the peers' certificates; the first ones are preferred.
GROUPS = ("X25519", "P-256", "P-384", "P-521", "P-224")
OPENSSL_CONFIG = f"""# written by the server for its media worker (stream/dtls.py): the DTLS groups
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Groups = {":".join(GROUPS)}
"""
CONFIG_NAME = "openssl-dtls.cnf"

# TLS alert descriptions (RFC 8446 §6, with the TLS 1.2 ones DTLS 1.2 still sends)
ALERTS = {
    0: "close notify", 10: "unexpected message", 20: "bad record mac", 22: "record overflow",
    40: "handshake failure", 42: "bad certificate", 43: "unsupported certificate", 44: "certificate revoked",
    45: "certificate expired", 46: "certificate unknown", 47: "illegal parameter", 48: "unknown CA",
    49: "access denied", 50: "decode error", 51: "decrypt error", 70: "protocol version",
    71: "insufficient security", 80: "internal error", 86: "inappropriate fallback", 90: "user canceled",
    109: "missing extension", 110: "unsupported extension", 112: "unrecognized name",
    116: "certificate required", 120: "no application protocol",
}

_original = rtcdtlstransport.RTCCertificate._create_ssl_context


def worker_environment(directory: Path) -> dict[str, str]:
    """The environment for the media worker: the current one, with OpenSSL reading our groups."""
    path = directory / CONFIG_NAME
    if not path.exists() or path.read_text() != OPENSSL_CONFIG:
        path.write_text(OPENSSL_CONFIG)
    return {**os.environ, "OPENSSL_CONF": str(path.resolve())}


class Alerts:
    """What one connection's handshake said before it failed: the last alert sent or received,
    with OpenSSL's reason when we sent it."""

    def __init__(self) -> None:
        self.sent: str | None = None
        self.received: str | None = None

    def describe(self) -> str | None:
        if self.received:
            return f"DTLS alert from the peer: {self.received}"
        if self.sent:
            return f"DTLS alert sent: {self.sent}"
        return None


# per SSL connection (aiortc makes one per transport); gone with the connection
_alerts: weakref.WeakKeyDictionary[SSL.Connection, Alerts] = weakref.WeakKeyDictionary()


def alerts(connection: SSL.Connection | None) -> Alerts | None:
    return _alerts.get(connection) if connection is not None else None


def _info(connection: SSL.Connection, where: int, ret: int) -> None:
    """OpenSSL's info callback: keep the alerts (the only trace of why a handshake failed)."""
    if not where & lib.SSL_CB_ALERT:
        return
    record = _alerts.setdefault(connection, Alerts())
    description = ALERTS.get(ret & 0xFF, f"alert {ret & 0xFF}")
    if where & lib.SSL_CB_READ:
        record.received = description
        return
    # the reason OpenSSL queued before it sent the alert ("wrong curve", "no shared cipher")
    code = lib.ERR_peek_error()
    reason = lib.ERR_reason_error_string(code) if code else None
    record.sent = f"{description} ({ffi.string(reason).decode()})" if reason else description


def _create_ssl_context(self: rtcdtlstransport.RTCCertificate, *args: Any, **kwargs: Any) -> SSL.Context:
    ctx = _original(self, *args, **kwargs)  # aiortc's own: certificate, SRTP profiles, verification
    ctx.set_cipher_list(CIPHERS)
    ctx.set_info_callback(_info)
    return ctx


def install() -> None:
    """Configure every DTLS context aiortc makes from now on in this process (idempotent)."""
    rtcdtlstransport.RTCCertificate._create_ssl_context = _create_ssl_context  # type: ignore[method-assign]


def installed() -> bool:
    return rtcdtlstransport.RTCCertificate._create_ssl_context is _create_ssl_context


def handshake(server: SSL.Context | SSL.Connection, client: SSL.Context | SSL.Connection) -> tuple[SSL.Connection, SSL.Connection]:
    """Two endpoints in memory, datagrams passed by hand until both are done (or one fails:
    SSL.Error). For the start-up check and the tests."""
    ends = tuple(end if isinstance(end, SSL.Connection) else SSL.Connection(end, None) for end in (server, client))
    ends[0].set_accept_state()
    ends[1].set_connect_state()
    done = [False, False]
    for _ in range(20):  # a DTLS 1.2 handshake is 4 flights
        for i in (1, 0):
            if not done[i]:
                try:
                    ends[i].do_handshake()
                    done[i] = True
                except SSL.WantReadError:
                    pass
                except SSL.Error:
                    _deliver(ends[i], ends[1 - i])  # the alert it sent, so the other end reads it
                    try:
                        ends[1 - i].do_handshake()
                    except SSL.Error:
                        pass
                    raise
            _deliver(ends[i], ends[1 - i])
        if all(done):
            return ends[0], ends[1]
    raise SSL.Error("the handshake did not finish")


def _deliver(source: SSL.Connection, to: SSL.Connection) -> None:
    while True:
        try:
            to.bio_write(source.bio_read(65536))
        except SSL.WantReadError:
            return


def certificate(key: Any) -> rtcdtlstransport.RTCCertificate:
    """A self-signed certificate on `key`, as aiortc makes its own (any key type)."""
    return rtcdtlstransport.RTCCertificate(key, rtcdtlstransport.generate_certificate(key))


def p224_works() -> bool:
    """Whether a peer whose certificate is on P-224 (FFmpeg's WHIP muxer) gets through: it needs the
    groups of OPENSSL_CONF and an OpenSSL that still has the curve."""
    profiles = rtcdtlstransport.SRTP_PROFILES
    ours = rtcdtlstransport.RTCCertificate.generateCertificate()._create_ssl_context(profiles)
    peer = certificate(ec.generate_private_key(ec.SECP224R1()))._create_ssl_context(profiles)
    try:
        handshake(ours, peer)
    except SSL.Error:
        return False
    return True
