"""A TCP proxy that misbehaves on purpose: cuts connections after N bytes, delays chunks,
resets at random, or (once its byte budget is spent) refuses to carry anything at all.

It forwards bytes, nothing else, so the replicator sees real network faults (EOF in the
middle of a response, RST, slow reads), not mocked exceptions.
"""

from __future__ import annotations

import random
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass


@dataclass
class Faults:
    cut_after: tuple[int, int] | None = None  # close a connection after N bytes, N in range
    reset_probability: float = 0.0  # per forwarded chunk: RST both sides
    delay: float = 0.0  # seconds before forwarding each chunk
    budget: int | None = None  # total bytes to carry (both ways); afterwards reset everything


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class FaultProxy:
    def __init__(self, upstream: tuple[str, int], seed: int = 0) -> None:
        self.upstream = upstream
        self.faults = Faults()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.carried = 0
        self.cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                exhausted = self.faults.budget is not None and self.carried >= self.faults.budget
            if exhausted:
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                cut = self._rng.randint(*self.faults.cut_after) if self.faults.cut_after else None
            threading.Thread(target=self._carry, args=(client, server, cut), daemon=True).start()

    def _carry(self, client: socket.socket, server: socket.socket, left: int | None) -> None:
        """Forward both ways from one thread (so a cut can send a real RST at once)."""
        other = {client: server, server: client}
        try:
            while True:
                readable, _, _ = select.select([client, server], [], [], 30)
                if not readable:
                    break
                for src in readable:
                    data = src.recv(65536)
                    if not data:
                        return
                    if self.faults.delay:
                        time.sleep(self.faults.delay)
                    with self._lock:
                        self.carried += len(data)
                        over = self.faults.budget is not None and self.carried > self.faults.budget
                        reset = self._rng.random() < self.faults.reset_probability
                    if left is not None and left <= len(data) and not (over or reset):
                        other[src].sendall(data[:left])  # deliver exactly N bytes, then cut
                    if over or reset or (left is not None and left <= len(data)):
                        self.cuts += 1
                        return
                    if left is not None:
                        left -= len(data)
                    other[src].sendall(data)
        except OSError:
            pass
        finally:
            _reset(client)
            _reset(server)
