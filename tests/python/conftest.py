"""Starts the real platform-auth binary for the compatibility tests.

The binary is the one `cargo build` reports, or PLATFORM_AUTH_BIN when it
is set. It runs on a port the kernel picks, over a SQLite file in a
temporary folder, with a known signing secret, and is stopped after the
last test.
"""

import json
import os
import queue
import re
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "python-compat-secret-0123456789abcdef-0123"
TOKEN_TTL_SECONDS = 3600
START_TIMEOUT_SECONDS = 60
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def build_binary() -> str:
    """Build the server with cargo and return the executable's path."""
    explicit = os.environ.get("PLATFORM_AUTH_BIN")
    if explicit:
        return explicit

    cargo = os.environ.get("CARGO", "cargo")
    output = subprocess.run(
        [cargo, "build", "--quiet", "--message-format=json",
         "-p", "platform-auth-api", "--bin", "platform-auth"],
        cwd=REPO_ROOT, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    for line in output.splitlines():
        message = json.loads(line)
        executable = message.get("executable")
        if executable and Path(executable).name == "platform-auth":
            return executable
    raise RuntimeError("cargo build did not report the platform-auth executable")


def read_address(stream, addresses: queue.Queue) -> None:
    """Put the URL of the server's "listening on" log line on `addresses`,
    then keep draining `stream` so the server never blocks on a full pipe."""
    for line in stream:
        match = re.search(r"listening on (\S+)", ANSI_ESCAPE.sub("", line))
        if match:
            addresses.put(match.group(1))


@pytest.fixture(scope="session")
def base_url():
    binary = build_binary()
    with tempfile.TemporaryDirectory() as workdir:
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "PLATFORM_PORT": "0",
            "PLATFORM_JWT_SECRET": SECRET,
            "PLATFORM_JWT_TTL": str(TOKEN_TTL_SECONDS),
            "DATABASE_URL": str(Path(workdir) / "auth.db"),
            "RUST_LOG": "info",
        }
        server = subprocess.Popen(
            [binary], cwd=workdir, env=environment,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        addresses: queue.Queue = queue.Queue()
        threading.Thread(
            target=read_address, args=(server.stderr, addresses), daemon=True
        ).start()
        try:
            yield addresses.get(timeout=START_TIMEOUT_SECONDS)
        finally:
            server.terminate()
            server.wait(timeout=10)
