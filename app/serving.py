"""Where the web server may listen, and who may use development conveniences.

Development mode loads demo accounts with published passwords, writes mail to a folder anyone
can read at /dev/outbox and keeps its secret key in a file: fine on a laptop, dangerous on a
network. So development serves only loopback addresses unless ALLOW_DEV_ON_NETWORK says
otherwise (gunicorn.conf.py checks the addresses gunicorn really binds), and its conveniences
answer only loopback clients (`is_loopback` on the client's address).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping


class UnsafeBind(RuntimeError):
    """Development mode asked to listen beyond this machine."""


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and their IPv4-mapped form; False for anything else."""
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _host_is_loopback(host: str) -> bool:
    # "", "0.0.0.0" and "::" mean every interface; a name counts only when everything it
    # resolves to is loopback ("localhost").
    if not host:
        return False
    try:
        infos = socket.getaddrinfo(host.strip("[]"), None)
    except OSError:
        return False
    return bool(infos) and all(is_loopback(str(info[4][0])) for info in infos)


def check_bind(addresses: Iterable[object], config: Mapping[str, object]) -> None:
    """Refuse (UnsafeBind) to serve development mode on a non-loopback address.

    `config` is `load_config()`'s; `addresses` are gunicorn's parsed binds: (host, port)
    tuples, Unix socket paths (local by nature) or inherited file descriptors (where those
    listen was the parent's choice)."""
    if config["APP_ENV"] != "development" or config["ALLOW_DEV_ON_NETWORK"]:
        return
    exposed = [
        f"{address[0] or '*'}:{address[1]}"
        for address in addresses
        if isinstance(address, tuple) and not _host_is_loopback(str(address[0]))
    ]
    if exposed:
        raise UnsafeBind(
            f"development mode would listen on {', '.join(exposed)}, beyond this machine: its "
            "demo accounts, /dev/outbox and development secret key would be reachable. Bind "
            "127.0.0.1 (HOST=127.0.0.1), run with APP_ENV=production, or set "
            "ALLOW_DEV_ON_NETWORK=1 if you really mean it."
        )
