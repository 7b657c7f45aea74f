"""`fuel tokens` and `fuel serve` as a user runs them: a real server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_tokens_and_serve_end_to_end(tmp_path):
    env = {**os.environ, "FUEL_DATABASE_URL": f"sqlite:///{tmp_path / 'fuel.db'}", "FUEL_USER": "tester"}

    def fuel(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", *args], env=env, cwd=tmp_path,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result

    fuel("init")
    fuel("fund", "load", str(os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "funds", "example_fund.toml")))
    created = json.loads(fuel("tokens", "create", "--role", "auditor", "--name", "e2e", "--json").stdout)
    token = created["token"]
    listed = fuel("tokens", "list", "--json").stdout
    assert token not in listed  # only the hash is kept
    assert json.loads(listed)[0]["role"] == "auditor"

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "ledger.shell.cli", "serve", "--port", str(port)],
                              env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "fuel serve did not start"
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token}"}
        verify = httpx.get(f"{base}/ledger/verify", headers=headers, timeout=10)
        assert verify.status_code == 200
        assert httpx.get(f"{base}/ledger/verify", timeout=10).status_code == 401

        fuel("tokens", "revoke", str(created["id"]))
        refused = httpx.get(f"{base}/ledger/verify", headers=headers, timeout=10)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
    finally:
        server.terminate()
        server.wait(timeout=10)
