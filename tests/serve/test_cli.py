"""``imggan serve``: listed in ``imggan --help``, binds where told, prints its URL, stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from click.testing import CliRunner

from imggan.cli import cli


def test_serve_is_a_command_with_help() -> None:
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"])
    assert "serve" in top.output
    result = runner.invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--device", "--open", "--max-upload-mb", "--queue"):
        assert option in result.output
    assert "127.0.0.1" in result.output


def test_a_port_in_use_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port), "--device", "cpu"])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_serve_prints_its_url_answers_and_stops_on_ctrl_c() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "imggan", "serve", "--port", str(port), "--device", "cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while not any(url in line for line in lines):
            assert proc.poll() is None and time.monotonic() < deadline, f"no URL printed: {lines}"
            time.sleep(0.05)
        with urllib.request.urlopen(f"{url}api/v1/health", timeout=30) as response:
            assert json.load(response)["status"] == "ok"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(lines)
    assert proc.returncode == 0, output
    assert output.rstrip().endswith("imggan serve: stopped"), output
    assert "Traceback" not in output
    with socket.socket() as again:  # nothing listens there any more (TIME_WAIT leftovers allowed)
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
