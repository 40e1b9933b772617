"""Who a request comes from, by network, and the per-network limit of the booking endpoints.

A network is an IPv4 address (a NAT: everyone behind it shares one) or an IPv6 /64 (one
subscriber's, who could otherwise take a new address per request): `rate_limit.network_of`,
as the login and access-code limits count them. `TRUSTED_PROXIES` makes
`request.remote_addr` the client's (app/__init__.py).

The limit is a token bucket per network in each web process, not a counter in PostgreSQL like
the login limits: a counter row per network would be written by every booking request, and a
crowd behind one NAT (or a rush from one mobile carrier) would queue on that row's lock, a
write and a hot row on the path the ticket rush measures. A check here costs a few
microseconds of CPU and no statement. The price: each process counts alone (a network's
requests spread over the workers, so what it can send is up to the number of workers times
the setting), and counts start over when a worker restarts. That suits a coarse guard against
one network flooding the booking endpoints, generous enough for a crowd behind one address;
the rules that must be exact (the per-user limit, hoarding) are counted in PostgreSQL under a
lock.
"""

from __future__ import annotations

import math
import threading
import time

from flask import current_app, request

from app.domain.accounts.rate_limit import network_of

clock = time.monotonic  # the buckets' time (tests stop it)
# Networks remembered per process; past it, the one seen longest ago is forgotten (its bucket
# has been refilling the longest, so it is probably full: the same as never seen).
MAX_NETWORKS = 50_000


def client_ip() -> str | None:
    """The client's address (`TRUSTED_PROXIES` decides whose, app/__init__.py)."""
    return request.remote_addr


def client_network() -> str | None:
    """The client's network (`rate_limit.network_of`); None when its address is unknown."""
    return network_of(client_ip())


class NetworkBuckets:
    """Token buckets: each network may send `burst` requests at once, refilled at
    `per_minute`."""

    def __init__(self, *, per_minute: int, burst: int, max_networks: int = MAX_NETWORKS) -> None:
        self.rate = max(1, per_minute) / 60
        self.burst = float(max(1, burst))
        self.max_networks = max_networks
        self._buckets: dict[str, tuple[float, float]] = {}  # network -> (tokens, when)
        self._lock = threading.Lock()  # cheap under gevent; gthread workers need it

    def take(self, network: str, now: float) -> float:
        """Spend one request of `network`: 0.0 when it may go on, else the seconds to wait."""
        with self._lock:
            tokens, then = self._buckets.pop(network, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens >= 1:
                tokens, wait = tokens - 1, 0.0
            else:
                wait = (1 - tokens) / self.rate
            self._buckets[network] = (tokens, now)
            if len(self._buckets) > self.max_networks:
                del self._buckets[next(iter(self._buckets))]  # dicts keep insertion order
        return wait


def bucket_wait(name: str, key: str, *, per_minute: int, burst: int) -> int:
    """Spend one request of `key` in the process's buckets called `name`: 0 when it may go
    on, else whole seconds to wait."""
    buckets = current_app.extensions.get(name)
    if buckets is None:
        buckets = current_app.extensions[name] = NetworkBuckets(per_minute=per_minute, burst=burst)
    return math.ceil(buckets.take(key, clock()))


def booking_wait() -> int:
    """Count this booking request against its network: 0 when it may go on, else whole
    seconds to wait (`NETWORK_BOOKING_PER_MINUTE`, `NETWORK_BOOKING_BURST`, per process)."""
    network = client_network()
    if network is None:
        return 0
    return bucket_wait(
        "network_buckets",
        network,
        per_minute=int(current_app.config["NETWORK_BOOKING_PER_MINUTE"]),
        burst=int(current_app.config["NETWORK_BOOKING_BURST"]),
    )


def busy_network_message(wait: int) -> str:
    return (
        "Very many booking requests are coming from your network right now. "
        f"Please try again in {wait} second{'s' if wait != 1 else ''}."
    )
