"""Start a real `govlink serve` on a free loopback port, for tests that need a server in another process."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def govlink_server(*global_args: str, env: dict[str, str] | None = None, worker: bool = False) -> Iterator[str]:
    """Run `python -m govlink [global args] serve` until the block ends; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "govlink", *global_args, "serve", "--port", str(port)]
    if not worker:
        command.append("--no-worker")
    # The server's log goes to a file: an unread pipe fills up and would stall the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield _wait_until_up(process, log, f"http://127.0.0.1:{port}")
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_up(process: subprocess.Popen[bytes], log: IO[bytes], base: str) -> str:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return base
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(log.read().decode(errors="replace"))
        time.sleep(0.1)
    raise RuntimeError("the server did not answer within 30 s")
