"""Finding a free base port: CHP uses four in a row (P .. P+3)."""

from __future__ import annotations

import random
import socket


def ports_free(host: str, base: int, count: int = 4) -> bool:
    for port in range(base, base + count):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def find_free_base_port(host: str = "127.0.0.1", *, low: int = 20000, high: int = 60000) -> int:
    """A base port P with P..P+3 all free right now (best effort: another program may take
    one before we bind)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(low, high, 4)
        if ports_free(host, base):
            return base
    raise RuntimeError("No four free ports in a row on this machine")
