"""Every vendored front-end file is the one its README row names: same bytes, same SHA-256."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"
# A table row: | `file` | `package@version` | ... | `sha256` |
ROW = re.compile(r"^\| `([^`]+)` \| `[^`]+@[^`]+` \|.*\| `([0-9a-f]{64})` \|$", re.MULTILINE)


def test_every_vendored_file_matches_its_recorded_checksum() -> None:
    recorded = dict(ROW.findall((VENDOR / "README.md").read_text()))
    served = {path.name for path in VENDOR.iterdir() if path.suffix == ".js"}
    assert served == set(recorded), "every vendored file has a README row, and no row is stale"
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
