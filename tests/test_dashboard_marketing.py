"""The dashboard as marketing uses it: served locally without developer chrome, one period on every
page, readable mention details, KPIs with their change, honest progress (issue 20)."""

from __future__ import annotations

import socket
import subprocess
import urllib.request
from pathlib import Path

import psutil
import pytest

from brandpulse.cli import dashboard_command
from brandpulse.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_the_dashboard_command_hides_developer_chrome_and_binds_where_configured():
    command = dashboard_command(Settings(), 8600)
    assert _flag(command, "--client.toolbarMode") == "minimal"  # no Deploy button, no developer menu
    assert _flag(command, "--server.address") == "127.0.0.1" and _flag(command, "--server.port") == "8600"
    assert _flag(command, "--browser.gatherUsageStats") == "false"
    opened = dashboard_command(Settings(dashboard={"address": "0.0.0.0", "port": 9000}))
    assert _flag(opened, "--server.address") == "0.0.0.0" and _flag(opened, "--server.port") == "9000"
    config = (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")  # `streamlit run` from the root
    assert 'toolbarMode = "minimal"' in config and 'address = "127.0.0.1"' in config


def test_the_real_server_listens_on_the_loopback_only(tmp_path):
    port = _free_port()
    server = subprocess.Popen(dashboard_command(Settings(), port), cwd=tmp_path,  # no config.toml there
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in server.stdout:  # streamlit prints its URL once it listens
            if "URL:" in line:
                break
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=10).read() == b"ok"
        listening = {c.laddr.ip for c in psutil.Process(server.pid).net_connections("inet")
                     if c.status == psutil.CONN_LISTEN}
        assert listening == {"127.0.0.1"}
    finally:
        server.terminate()
        server.wait(timeout=20)
