"""A TCP forwarder whose open connections can be made to go silent: what a NAT or firewall that
forgot a flow does to a long-idle connection. Once `silence()` is called, the connections open
then keep their sockets but carry nothing either way (bytes are read and dropped, nothing is
closed, no reset is sent); connections made afterwards are forwarded as usual."""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Self


class SilentProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._lock = threading.Lock()
        self._silenced: set[int] = set()  # ids of the connections gone silent
        self._opened: list[tuple[int, socket.socket, socket.socket]] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def silence(self) -> int:
        """Silence every connection open now; how many."""
        with self._lock:
            self._silenced.update(key for key, _, _ in self._opened)
            return len(self._opened)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            with self._lock:
                key = len(self._opened)
                self._opened.append((key, client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(key, source, sink), daemon=True).start()

    def _pump(self, key: int, source: socket.socket, sink: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                silent = key in self._silenced
            if not silent:
                try:
                    sink.sendall(data)
                except OSError:
                    return

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        with self._lock:
            for _, client, upstream in self._opened:
                client.close()
                upstream.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()
