"""Egress guard: tools may only reach public http(s) addresses unless the operator allows more.

Every request is checked in the transport, so each redirect hop is checked again. The check
resolves the host once, refuses if ANY resolved address is non-public, and the connection is then
made to that checked address (the URL's host is swapped for the IP while ``Host`` and TLS SNI keep
the name): a second, different DNS answer (rebinding) can never be used. Numeric host spellings
(``2130706433``, ``0x7f000001``, ``0177.0.0.1``) are decoded the way the C resolver would, so they
cannot slip past. A refusal raises :class:`EgressRefused` before any byte is sent and is reported to
the guard's ``on_refused`` hook (the tool wrapper audits it).

``AGENTRY_EGRESS_ALLOW`` (``settings.egress_allow``) is a comma list of host names (``api.local``,
``*.corp.example``) or IPs/CIDRs (``127.0.0.1``, ``10.0.0.0/8``) that are exempt.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from backend.logging import log

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA = {
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
}
_V4_BLOCKED: list[tuple[str, str]] = [
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
]
_V6_BLOCKED: list[tuple[str, str]] = [
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", "ipv4-mapped"),
    ("::/96", "ipv4-compatible"),
    ("::ffff:0:0:0/96", "ipv4-translated"),
    ("64:ff9b::/96", "nat64"),
    ("64:ff9b:1::/48", "nat64"),
    ("100::/64", "reserved"),
    ("2001::/32", "teredo"),
    ("2001:db8::/32", "reserved"),
    ("2001:10::/28", "reserved"),
    ("2001:20::/28", "reserved"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
]
_BLOCKED: list[tuple[Network, str]] = [(ipaddress.ip_network(n), r) for n, r in _V4_BLOCKED + _V6_BLOCKED]
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_NUMERIC_V4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


class EgressRefused(Exception):
    """Raised before any byte is sent. The message names the host and reason, never credentials."""

    def __init__(self, url: str, reason: str, address: str | None = None) -> None:
        self.url = url
        self.reason = reason
        self.address = address
        where = f" ({address})" if address and address not in url else ""
        super().__init__(f"egress refused: {url}{where} is {reason}")


def refusal_reason(ip: IPAddress) -> str | None:
    """Why an address is not a public destination, or ``None`` when it is."""
    if ip in METADATA:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _SIX_TO_FOUR and ip.sixtofour is not None:
        inner = refusal_reason(ip.sixtofour)
        return f"6to4-wrapped {inner}" if inner else None
    for network, reason in _BLOCKED:
        if ip.version == network.version and ip in network:
            return reason
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return "not a public address"
    return None


def parse_ip_literal(host: str) -> IPAddress | None:
    """An IP in any spelling the resolver accepts (dotted, integer, hex, octal), else ``None``."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_V4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class EgressPolicy:
    """The operator's exceptions: host names (exact or ``*.suffix``) and networks."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, value: str | Iterable[str]) -> EgressPolicy:
        items = value.split(",") if isinstance(value, str) else list(value)
        hosts: set[str] = set()
        networks: list[Network] = []
        for raw in (item.strip() for item in items):
            if not raw:
                continue
            try:
                networks.append(ipaddress.ip_network(raw.strip("[]"), strict=False))
            except ValueError:
                hosts.add(raw.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == h or (h.startswith("*.") and host.endswith(h[1:])) for h in self.hosts)

    def address_allowed(self, ip: IPAddress) -> bool:
        return any(ip.version == n.version and ip in n for n in self.networks)


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to ``ip``, present ``host`` (Host header, SNI)."""

    scheme: str
    host: str
    port: int
    ip: str


Resolver = Callable[[str, int], Awaitable[list[str]]]
RefusedHook = Callable[[EgressRefused], Awaitable[None]]


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass
class EgressGuard:
    policy: EgressPolicy = field(default_factory=EgressPolicy)
    resolver: Resolver = system_resolver
    on_refused: RefusedHook | None = None
    resolve_timeout: float = 5.0

    async def refuse(self, url: str, reason: str, address: str | None = None) -> EgressRefused:
        error = EgressRefused(url, reason, address)
        log.warning("egress.refused", url=url, reason=reason, address=address)
        if self.on_refused is not None:
            try:
                await self.on_refused(error)
            except Exception as exc:  # the refusal stands even when reporting it fails
                log.error("egress.refused_hook_failed", error=type(exc).__name__)
        return error

    async def check(self, url: str) -> Target:
        parts = urlsplit(url)
        scheme = (parts.scheme or "").lower()
        host = (parts.hostname or "").rstrip(".")
        shown = f"{scheme}://" + (f"[{host}]" if ":" in host else host)
        try:
            explicit_port = parts.port
        except ValueError:
            raise await self.refuse(shown, "using an invalid port") from None
        shown += f":{explicit_port}" if explicit_port else ""
        if scheme not in ("http", "https"):
            raise await self.refuse(shown, f"using scheme {scheme or 'none'!r} (only http and https)")
        if not host:
            raise await self.refuse(shown, "missing a host")
        port = explicit_port or (443 if scheme == "https" else 80)
        literal = parse_ip_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                async with asyncio.timeout(self.resolve_timeout):
                    found = await self.resolver(host, port)
                addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
            except (OSError, TimeoutError, ValueError):
                raise await self.refuse(shown, "not resolvable") from None
            if not addresses:
                raise await self.refuse(shown, "not resolvable")
        if not self.policy.host_allowed(host):
            for ip in addresses:
                reason = None if self.policy.address_allowed(ip) else refusal_reason(ip)
                if reason:
                    raise await self.refuse(shown, reason, str(ip))
        return Target(scheme, host, port, str(addresses[0]))


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for all tool traffic: building one costs tens of milliseconds."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _make_transport(mod: Any) -> type:
    """The pinned, checking transport for ``httpx`` or its fork ``httpx2`` (used by the MCP client)."""

    class GuardedTransport(mod.AsyncBaseTransport):  # type: ignore[misc, name-defined]
        def __init__(self, guard: EgressGuard, **inner: Any) -> None:
            self._guard = guard
            # No env proxies (they would unpin the connection); a shared TLS context (cheap to build).
            self._inner_kwargs = {"trust_env": False, "verify": tls_context(), **inner}
            self._pools: dict[tuple[str, str, int], Any] = {}

        async def handle_async_request(self, request: Any) -> Any:
            target = await self._guard.check(str(request.url))
            key = (target.host, target.ip, target.port)
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = mod.AsyncHTTPTransport(**self._inner_kwargs)
            extensions = dict(request.extensions)
            if target.scheme == "https":
                extensions["sni_hostname"] = target.host
            pinned = mod.Request(
                request.method,
                request.url.copy_with(host=target.ip),
                headers=request.headers,
                stream=request.stream,
                extensions=extensions,
            )
            return await pool.handle_async_request(pinned)

        async def aclose(self) -> None:
            pools, self._pools = list(self._pools.values()), {}
            for pool in pools:
                await pool.aclose()

    return GuardedTransport


GuardedTransport = _make_transport(httpx)


class BorrowedTransport(httpx.AsyncBaseTransport):
    """Lends a long-lived transport (warm connections) to short-lived clients; closing is a no-op."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        return None


def guarded_client(
    guard: EgressGuard, *, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` that can only reach what ``guard`` allows.

    ``transport`` (a :class:`GuardedTransport` of the same guard) is borrowed, not closed.
    """
    kwargs.setdefault("follow_redirects", False)
    lent = BorrowedTransport(transport) if transport is not None else GuardedTransport(guard)
    return httpx.AsyncClient(transport=lent, trust_env=False, **kwargs)


def guarded_client_httpx2(guard: EgressGuard, **kwargs: Any) -> Any:
    """The same for ``httpx2`` (the MCP SDK's HTTP client)."""
    import httpx2

    transport = _make_transport(httpx2)(guard)
    return httpx2.AsyncClient(transport=transport, trust_env=False, **kwargs)


REDIRECTS = {301, 302, 303, 307, 308}
