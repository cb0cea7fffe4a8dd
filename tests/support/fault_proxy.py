"""A small HTTP/1.1-aware TCP proxy on 127.0.0.1 that injects network faults between a client and central.

There is no toxiproxy on this machine; this proxy knows just enough HTTP (head + Content-Length body) to
act on whole requests and answers. Each request is forwarded on its own upstream connection; the
client's connection is kept alive as the client asks. Per request, one fault is drawn from the weights
the test sets (`set_faults`; `None` = pass everything):

  drop       the request is read, then the client connection closed (or reset) before forwarding
  delay      forwarded after 20-150 ms, in both directions
  duplicate  the very same bytes are sent to central twice (one after the other, or both at once); the
             client gets one of the two answers
  cut        central answers, the client connection is closed (or reset) instead: central has
             committed, the terminal never learns
  partial    central answers, the client gets the head and half the body, then the connection closes
  late       held about as long as the client's timeout or longer (`late_hold_s`), then forwarded
             anyway: the client gave up, and its retry reaches central before or with the stale copy

A test can also hold ONE answer (`hold_next_answer`): the request reaches central, central's answer
is kept until the test says so, then the client connection is reset (e.g. once central has been killed).

Everything injected is counted in `injected[(fault, method, path)]`, with central's answer status.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass

FAULTS = ("pass", "drop", "delay", "duplicate", "cut", "partial", "late")


@dataclass(frozen=True)
class Exchange:
    fault: str
    method: str
    path: str
    upstream_status: int | None  # central's answer to (the first copy of) the request, if it got one
    second_status: int | None = None  # central's answer to the second copy of a duplicated request


class FaultProxy:
    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        seed: int = 0,
        late_hold_s: tuple[float, float] = (1.0, 1.6),
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.rng = random.Random(seed)
        self.late_hold_s = late_hold_s
        self._weights: dict[str, float] | None = None
        self._hold: tuple[str, threading.Event, threading.Event] | None = None
        self._cover: str | None = None
        self._uncovered: list[str] = []
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    # --- control (test thread) ----------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_faults(self, weights: dict[str, float] | None, *, cover: str | None = None) -> None:
        """Draw a fault per request from `weights` (None: pass everything). With `cover` (a path prefix),
        the first requests under it get each fault of `weights` once, in turn, before the random draws
        start: every fault is then injected at least once whatever the seed."""
        unknown = set(weights or ()) - set(FAULTS)
        assert not unknown, f"unknown faults {unknown}"
        with self._lock:
            self._weights = dict(weights) if weights else None
            self._uncovered = [f for f in (weights or ()) if weights and weights[f] > 0] if cover else []
            self._cover = cover
            self.rng.shuffle(self._uncovered)

    def hold_next_answer(self, path_prefix: str) -> tuple[threading.Event, threading.Event]:
        """Arm: the next request under `path_prefix` goes to central, its answer is held. Returns
        (held, release): `held` is set once central has answered; set `release` to drop the answer."""
        held, release = threading.Event(), threading.Event()
        with self._lock:
            self._hold = (path_prefix, held, release)
        return held, release

    def injected(self, path_prefix: str = "", method: str | None = None) -> Counter[str]:
        """How many times each fault hit requests whose path starts with `path_prefix`."""
        with self._lock:
            return Counter(
                e.fault
                for e in self.exchanges
                if e.path.startswith(path_prefix) and (method is None or e.method == method)
            )

    def lost_answers(self, path_prefix: str, status: int) -> int:
        """Requests central answered with `status` whose answer never reached the client."""
        with self._lock:
            return sum(
                1
                for e in self.exchanges
                if e.fault in ("cut", "partial", "late", "held")
                and e.path.startswith(path_prefix)
                and e.upstream_status == status
            )

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()

    # --- the proxy (its own thread and loop) ---------------------------------------------------------

    def _pick(self, head: bytes) -> tuple[str, threading.Event | None, threading.Event | None]:
        with self._lock:
            if self._hold is not None and _request_line(head)[1].startswith(self._hold[0]):
                _, held, release = self._hold
                self._hold = None
                return "held", held, release
            if not self._weights:
                return "pass", None, None
            if self._cover is not None and self._uncovered and _request_line(head)[1].startswith(self._cover):
                return self._uncovered.pop(0), None, None
            names = list(self._weights)
            return self.rng.choices(names, [self._weights[n] for n in names])[0], None, None

    def _record(self, fault: str, head: bytes, status: int | None, second: int | None = None) -> None:
        method, path = _request_line(head)
        with self._lock:
            self.exchanges.append(Exchange(fault, method, path, status, second))

    def duplicate_answers(self, path_prefix: str) -> Counter[tuple[int | None, int | None]]:
        """Central's (first, second) answers to the duplicated requests under `path_prefix`."""
        with self._lock:
            return Counter(
                (e.upstream_status, e.second_status)
                for e in self.exchanges
                if e.fault == "duplicate" and e.path.startswith(path_prefix)
            )

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._spawn, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _spawn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            await self._client(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            _close(writer)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return  # the client closed its keep-alive connection
            body = await reader.readexactly(_content_length(head, what="request"))
            request = head + body
            fault, held, release = self._pick(head)
            if held is not None and release is not None:
                answer = await _exchange(self.upstream, request)
                self._record(fault, head, _status(answer))
                held.set()
                while not release.is_set():
                    await asyncio.sleep(0.005)
                _close(writer, reset=True)
                return
            if fault == "drop":
                self._record(fault, head, None)
                _close(writer, reset=self.rng.random() < 0.5)
                return
            if fault == "delay":
                await asyncio.sleep(self.rng.uniform(0.02, 0.15))
            if fault == "late":
                # the client times out meanwhile; its retry may reach central before, or while, this copy does
                await asyncio.sleep(self.rng.uniform(*self.late_hold_s))
            if fault == "duplicate":
                if self.rng.random() < 0.5:
                    first = await _exchange(self.upstream, request)
                    second = await _exchange(self.upstream, request)
                else:  # both copies at central at the same time
                    first, second = await asyncio.gather(
                        _exchange(self.upstream, request), _exchange(self.upstream, request)
                    )
                answer = first if self.rng.random() < 0.5 else second
                self._record(fault, head, _status(first), _status(second))
            else:
                answer = await _exchange(self.upstream, request)
                self._record(fault, head, _status(answer))
            if fault in ("cut", "late"):
                _close(writer, reset=self.rng.random() < 0.5)
                return
            if fault == "partial":
                answer_head, _, answer_body = answer.partition(b"\r\n\r\n")
                writer.write(answer_head + b"\r\n\r\n" + answer_body[: len(answer_body) // 2])
                await writer.drain()
                _close(writer)
                return
            if fault == "delay":
                await asyncio.sleep(self.rng.uniform(0.02, 0.15))
            writer.write(answer)
            await writer.drain()
            if b"\r\nconnection: close" in answer.split(b"\r\n\r\n", 1)[0].lower():
                return


async def _exchange(upstream: tuple[str, int], request: bytes) -> bytes:
    """Send one request on a new upstream connection and read the whole answer."""
    reader, writer = await asyncio.open_connection(*upstream)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        body = await reader.readexactly(_content_length(head, what="answer"))
        return head + body
    finally:
        _close(writer)


def _request_line(head: bytes) -> tuple[str, str]:
    method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
    return method, target


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _content_length(head: bytes, *, what: str) -> int:
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            raise NotImplementedError(f"this proxy does not handle a chunked {what}")
        if name == b"content-length":
            length = int(value.strip())
    return length


def _close(writer: asyncio.StreamWriter, *, reset: bool = False) -> None:
    if reset:  # RST instead of FIN: the peer sees "connection reset by peer"
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return
    writer.close()
