"""A tiny synchronous JSON client for the API (standard library only) plus the token file."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


class Client:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30):
        self.base_url, self.token, self.timeout = base_url.rstrip("/"), token, timeout

    def call(self, method: str, path: str, body: Any = None, params: dict | None = None,
             headers: dict[str, str] | None = None) -> Any:
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        return self._send(request)

    def send_body(self, method: str, path: str, chunks: Iterable[bytes], length: int,
                  content_type: str) -> Any:
        """Send a body produced chunk by chunk (a file is never read whole)."""
        request = urllib.request.Request(self.base_url + path, data=chunks, method=method)
        request.add_header("Content-Type", content_type)
        request.add_header("Content-Length", str(length))
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> Any:
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", exc.reason)
            except (ValueError, AttributeError):
                message = str(exc.reason)
            raise ApiError(exc.code, message) from None
        except urllib.error.URLError as exc:
            raise ApiError(0, f"cannot reach {self.base_url}: {exc.reason}") from None


class TokenStore:
    """`login` writes {"access_token", "user_id", "username", "api_url"}; other commands read it."""

    def __init__(self, directory: str):
        self.path = Path(directory).expanduser() / "token.json"

    def save(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # a secret: 0600
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)

    def load(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
