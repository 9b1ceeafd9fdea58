"""CURVE on a desk's sockets: its own key pair and the hub's public key.

The desk's side only. The hub's side (key files, the allow-list, ZAP) is in
`messaging.security`, which imports zmq.auth: a desk loads it only to read a key file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import zmq


@dataclass(frozen=True)
class ClientKeys:
    """A desk's key pair."""

    public: str
    secret: str = field(repr=False)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ClientKeys:
        from messaging.security import load_key_pair

        return cls(*load_key_pair(path))


@dataclass(frozen=True)
class CurveClient:
    """What a desk socket needs to talk to a CURVE hub: its own keys and the hub's public key."""

    keys: ClientKeys
    server_public_key: str

    def apply(self, sock: zmq.Socket) -> None:
        sock.setsockopt(zmq.CURVE_SERVERKEY, self.server_public_key.encode("ascii"))
        sock.setsockopt(zmq.CURVE_PUBLICKEY, self.keys.public.encode("ascii"))
        sock.setsockopt(zmq.CURVE_SECRETKEY, self.keys.secret.encode("ascii"))


def client_curve(
    client_keys: ClientKeys | None, server_public_key: str | None
) -> CurveClient | None:
    """Both or neither: a desk key without the hub's key (or the reverse) is a mistake."""
    if client_keys is None and server_public_key is None:
        return None
    if client_keys is None or not server_public_key:
        raise ValueError("CURVE needs both client_keys and server_public_key")
    return CurveClient(client_keys, server_public_key)
