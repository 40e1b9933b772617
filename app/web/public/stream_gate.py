"""How many live streams a process keeps open, in all and for one client network.

An open stream holds a connection (a parked greenlet under gevent, a whole thread under
gthread) for up to SSE_STREAM_SECONDS. Without a cap one client could open streams until the
worker has no connections left for anyone's pages. So a process serves at most
LIVE_STREAMS_PER_PROCESS streams (beyond: 503) and one client network at most
LIVE_STREAMS_PER_CLIENT (beyond: 429), both with `Retry-After`; browsers retry on their own.

A client network is an IPv4 address, or an IPv6 /64 (one subscriber's block: a client can
take any address in it). Behind reverse proxies the client's address is only known when
TRUSTED_PROXIES says how many there are; otherwise every client counts as the proxy.
"""

from __future__ import annotations

import threading

from flask import Flask

from app.domain.accounts.rate_limit import network_of
from app.domain.base import DomainError
from app.observability.metrics import LIVE_STREAMS

_create_lock = threading.Lock()


class TooManyStreams(DomainError):
    """This process (`PROCESS_FULL`), or this client's network (`NETWORK_FULL`), has as many
    open streams as it may."""

    PROCESS_FULL = "live_streams_busy"
    NETWORK_FULL = "too_many_live_streams"


def client_network(address: str | None) -> str:
    """The network `address` is counted in (`rate_limit.network_of`); a peer that is not an
    IP address (a Unix socket's) is one group of its own."""
    return network_of(address) or address or ""


class StreamGate:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}  # client network -> open streams
        self._total = 0

    def enter(self, address: str | None, *, per_client: int, per_process: int) -> str:
        """Count one more stream for `address`'s network and return the network (to `leave`
        with), or raise TooManyStreams (the process's or the network's code)."""
        network = client_network(address)
        # Checked and counted under one lock: two streams arriving together must not both
        # take the last place.
        with self._lock:
            if self._total >= per_process:
                raise TooManyStreams(
                    "Live updates are busy. They will reconnect shortly.",
                    code=TooManyStreams.PROCESS_FULL,
                )
            if self._open.get(network, 0) >= per_client:
                raise TooManyStreams(
                    "Too many live views are open from your network.",
                    code=TooManyStreams.NETWORK_FULL,
                )
            self._open[network] = self._open.get(network, 0) + 1
            self._total += 1
        LIVE_STREAMS.inc()
        return network

    def leave(self, network: str) -> None:
        LIVE_STREAMS.dec()
        with self._lock:
            self._total -= 1
            left = self._open[network] - 1
            if left:
                self._open[network] = left
            else:
                del self._open[network]

    def open_streams(self, address: str | None = None) -> int:
        """Streams open now, in all or for `address`'s network."""
        with self._lock:
            if address is None:
                return self._total
            return self._open.get(client_network(address), 0)


def gate_for(app: Flask) -> StreamGate:
    """The app's gate (one per process)."""
    gate = app.extensions.get("live_stream_gate")
    if gate is None:
        with _create_lock:
            gate = app.extensions.setdefault("live_stream_gate", StreamGate())
    return gate
