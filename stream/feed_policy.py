"""Where a pull feed may connect to (docs/video.md, "The feed URL").

An editor types the URL of the TV station's encoder; the media worker then opens it from the
server. Left open, that URL could read this machine's files (file://), reach services that listen
only on this machine or its network (a database, an admin page), or a cloud's metadata service
(169.254.169.254) that hands out credentials. So a feed is one of the network schemes a studio uses,
and its host must resolve to public addresses only, unless the operator lists the encoder's host or
network in `feed_allowed_networks`.

The name is resolved when the feed is chosen, so the editor learns at once, and again by the
worker right before every connection (stream/sources.py), so a name that resolved to a public
address when it was checked cannot point inside afterwards (DNS rebinding)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# What a studio's encoder serves: RTSP(S), RTMP(S), SRT, HLS or DASH over HTTP(S), MPEG-TS over UDP or RTP.
PULL_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "srt", "http", "https", "udp", "rtp")
# FFmpeg protocols a pull may use, also for what the source itself points to (an HLS playlist's
# segments, an RTSP session's RTP): never file, pipe, concat, subfile, data and the like.
FFMPEG_PROTOCOLS = "rtsp,rtsps,rtmp,rtmps,rtmpt,rtmpts,srt,http,https,httpproxy,tls,tcp,udp,rtp,crypto"
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FeedRefused(Exception):
    """The URL may not be pulled: `reason` is an i18n key (server/i18n.py), `params` fill it."""

    def __init__(self, reason: str, **params: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), which is what it reaches."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


class FeedPolicy:
    """`allowed`: host names and networks (CIDRs or single addresses) a feed may reach besides
    public addresses (the `feed_allowed_networks` setting)."""

    def __init__(self, allowed: Sequence[str] = ()) -> None:
        self.networks: list[IPNetwork] = []
        self.hosts: set[str] = set()
        for entry in allowed:
            entry = entry.strip()
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if not entry or "/" in entry or ":" in entry:
                    raise ValueError(f"feed_allowed_networks: {entry!r} is neither a network nor a host name") from None
                self.hosts.add(entry.lower().rstrip("."))

    def host(self, url: str) -> str:
        """The URL's host, after its scheme is checked."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018 -- raises ValueError for a port out of range
        except ValueError:
            raise FeedRefused("feed_url_host") from None
        if parts.scheme.lower() not in PULL_SCHEMES:
            raise FeedRefused("bad_feed_url", schemes=", ".join(PULL_SCHEMES))
        if not host:
            raise FeedRefused("feed_url_host")
        return host.lower().rstrip(".")

    def allowed(self, address: str) -> bool:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
        if any(ip in net for net in self.networks):
            return True
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return embedded.is_global or any(embedded in net for net in self.networks)
        return ip.is_global

    def check_addresses(self, host: str, addresses: Iterable[str]) -> None:
        """Every address the host resolves to must be allowed: a connection may use any of them."""
        found = False
        for address in addresses:
            found = True
            if not self.allowed(address):
                raise FeedRefused("feed_url_private", host=host, address=address)
        if not found:
            raise FeedRefused("feed_url_unresolved", host=host)

    async def check(self, url: str) -> None:
        """When staff choose the feed: resolved without blocking the event loop."""
        host = self.host(url)
        if host in self.hosts:
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            raise FeedRefused("feed_url_unresolved", host=host) from None
        self.check_addresses(host, [str(info[4][0]) for info in infos])

    def check_now(self, url: str) -> None:
        """In the worker's pull thread, right before it connects (blocking is fine there)."""
        host = self.host(url)
        if host in self.hosts:
            return
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            raise FeedRefused("feed_url_unresolved", host=host) from None
        self.check_addresses(host, [str(info[4][0]) for info in infos])
