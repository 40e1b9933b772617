"""Where a webhook may go: http(s) addresses of public hosts only, unless the settings allow
private ones (`WEBHOOKS_ALLOW_PRIVATE_TARGETS`, for tests and development; never in
production). Otherwise an organizer could make the server call its own network (SSRF).

The name is resolved just before each send and every address it resolves to must be public.
A host that answers differently to the HTTP client's own look-up a moment later (DNS
rebinding) is not caught here; the redirect refusal and the short timeout limit what it buys.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class TargetRefused(Exception):
    """The address is not one we send to; the message says why, for its owner."""


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool, resolve: bool = True) -> None:
    """Refuse anything but an http(s) URL with a host and no credentials; with `resolve`, a
    host that resolves to a private, loopback or link-local address too (unless allowed).
    Without it (the form, which may run where DNS is not reachable), only a literal one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("Enter a valid web address.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("Enter an address starting with https:// (or http://).")
    if parts.username or parts.password:
        raise TargetRefused("Leave the user name and password out of the address.")
    if allow_private:
        return
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if (
        host == "localhost"
        or host.endswith(".localhost")
        or (literal is not None and not _is_public(host))
    ):
        raise TargetRefused("The address must be on the public internet.")
    if not resolve or literal is not None:
        return
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        raise TargetRefused(f"The host {host} could not be found.") from None
    if not all(_is_public(str(info[4][0])) for info in infos):
        raise TargetRefused("The address resolves to a private network.")
