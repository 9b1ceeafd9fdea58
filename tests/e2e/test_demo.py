"""`hubdesk demo` in a real pseudo-terminal: the board comes up, q leaves, the hub goes."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

from hub.ports import find_free_base_port, ports_free


def _read_until(fd: int, needles: list[bytes], seconds: float) -> bytes:
    """Read the terminal until every needle has appeared (each may be one of several
    alternatives separated by |)."""
    seen = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen += chunk
            if all(any(alt in seen for alt in n.split(b"|")) for n in needles):
                return seen
    raise AssertionError(f"{needles!r} never all appeared; last output: {seen[-800:]!r}")


def test_demo_shows_a_live_board_and_quitting_stops_its_hub() -> None:
    port = find_free_base_port()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "demo", "--port", str(port), "--every", "1"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
        start_new_session=True,  # so cleanup can stop the demo and its hub together
    )
    os.close(slave)
    try:
        _read_until(master, [b"hub connected", b"BREACHED|on track"], 90)
        assert not ports_free("127.0.0.1", port + 3, count=1)  # the demo's hub is serving
        os.write(master, b"q")
        demo.wait(timeout=30)
        assert demo.returncode == 0
        deadline = time.monotonic() + 15
        while not ports_free("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ports_free("127.0.0.1", port), "leaving the desk did not stop the demo hub"
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
        os.close(master)


def test_a_demo_killed_outright_does_not_leave_its_hub_running() -> None:
    port = find_free_base_port()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    demo = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "demo", "--port", str(port)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color"},
        close_fds=True,
    )
    os.close(slave)
    try:
        _read_until(master, [b"hub connected"], 90)
        demo.kill()  # no clean exit: the desk process just vanishes
        demo.wait(timeout=10)
        deadline = time.monotonic() + 20
        while not ports_free("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ports_free("127.0.0.1", port), "the demo's hub outlived its desk"
    finally:
        os.close(master)
