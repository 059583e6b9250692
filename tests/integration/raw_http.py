"""HTTP/1.1 over a bare socket: the request's bytes go out exactly as a test cuts them.

aiohttp's client (and curl) hand the kernel a small body in one write; a real network splits it
into TCP segments that arrive apart. These helpers write a body in pieces with pauses between
them (TCP_NODELAY, so each piece leaves as its own segment), as Content-Length or chunked, and
read the whole answer back.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

import orjson

MSS = 1448  # a typical TCP payload per segment on Ethernet (1500 MTU, IPv4 + TCP timestamps)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        assert self.headers.get("content-type", "").startswith("application/json"), self
        return orjson.loads(self.body)


def pieces(data: bytes, size: int = MSS) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


async def exchange(port: int, head: bytes, body_pieces: list[bytes] = (), *, pause: float = 0.02,
                   host: str = "127.0.0.1", timeout: float = 30) -> Answer:
    """Send `head` (request line + headers, ending in a blank line), then each piece after
    `pause` seconds, then read the answer until the server closes (send `Connection: close`)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            writer.write(head)
            await writer.drain()
            for piece in body_pieces:
                await asyncio.sleep(pause)
                writer.write(piece)
                await writer.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (e.g. 413) and closed: read what it said
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    return parse_answer(raw)


def parse_answer(raw: bytes) -> Answer:
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, f"no complete HTTP answer: {raw[:300]!r}"
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    elif "content-length" in headers:
        body = body[:int(headers["content-length"])]
    return Answer(status, headers, body)


def dechunk(data: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += data[:size]
        data = data[size + 2:]


def request_head(method: str, path: str, headers: dict[str, str], *, host: str = "127.0.0.1") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def post_in_pieces(port: int, path: str, body: bytes, headers: dict[str, str], *,
                         chunked: bool = False, size: int = MSS, pause: float = 0.02) -> Answer:
    """POST `body` in `size`-byte pieces: with Content-Length, or one chunk per piece."""
    if chunked:
        framed = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces(body, size)] + [b"0\r\n\r\n"]
        head = request_head("POST", path, headers | {"Transfer-Encoding": "chunked"})
        return await exchange(port, head, framed, pause=pause)
    head = request_head("POST", path, headers | {"Content-Length": str(len(body))})
    return await exchange(port, head, pieces(body, size), pause=pause)
