"""A fast SMTP sink for benchmarks: `python -m bench.smtp_sink PORT FILE`.

aiosmtpd on 127.0.0.1:PORT accepts every message and appends its Message-ID to FILE, one a
line, as it is accepted (nothing else is kept or parsed, so the sink is not what limits the
sender). Stops on SIGTERM or SIGINT. `SinkProcess` runs it from a benchmark.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class Recorder:
    """aiosmtpd handler: accept the message, write its Message-ID ("-" when it has none)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        found = MESSAGE_ID.search(envelope.content)
        self.out.write((found.group(1).decode() if found else "-") + "\n")
        return "250 Message accepted"


def main() -> None:
    from aiosmtpd.controller import Controller

    port, path = int(sys.argv[1]), sys.argv[2]
    stops = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stops)  # the server's thread inherits the mask
    with open(path, "w", buffering=1) as out:  # line-buffered: the benchmark reads as it goes
        controller = Controller(Recorder(out), hostname="127.0.0.1", port=port)
        controller.start()
        signal.sigwait(stops)
        controller.stop()


class SinkProcess:
    """The sink in a process of its own. `count()` is how many messages it has accepted so far
    (read from its file as it grows); `message_ids()` all of them, once it has stopped."""

    def __init__(self, folder: Path, port: int) -> None:
        self.port = port
        self.path = folder / "received.txt"
        self.process: subprocess.Popen | None = None
        self._seen = 0
        self._offset = 0

    def __enter__(self) -> SinkProcess:
        self.path.write_text("")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink", str(self.port), str(self.path)],
            cwd=Path(__file__).resolve().parents[1],
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the SMTP sink did not start") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)

    def count(self) -> int:
        with open(self.path, "rb") as received:
            received.seek(self._offset)
            chunk = received.read()
        complete = chunk.rfind(b"\n") + 1  # a line still being written counts next time
        self._seen += chunk.count(b"\n", 0, complete)
        self._offset += complete
        return self._seen

    def message_ids(self) -> list[str]:
        return self.path.read_text().split()


if __name__ == "__main__":
    main()
