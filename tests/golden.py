"""Golden files: a test compares output with a file in tests/golden/.

Run with ``GOVLINK_UPDATE_GOLDEN=1`` to rewrite the files after an intended change, then review
the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("GOVLINK_UPDATE_GOLDEN") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if os.environ.get("GOVLINK_UPDATE_GOLDEN") != "1":
            raise AssertionError(f"{path} did not exist and was written; review and commit it")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} changed; if intended, run with GOVLINK_UPDATE_GOLDEN=1 and review"
