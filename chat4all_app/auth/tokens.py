"""Access tokens: JWT (HS256) carrying the user id in `sub`."""

from __future__ import annotations

import time
import uuid

import jwt


class InvalidToken(Exception):
    """Missing, malformed, forged or expired token; the message says which."""


class TokenIssuer:
    ALGORITHM = "HS256"

    def __init__(self, secret: str, ttl_s: int):
        self._secret = secret
        self.ttl_s = ttl_s

    def issue(self, user_id: uuid.UUID, username: str) -> str:
        now = int(time.time())
        claims = {"sub": str(user_id), "name": username, "iat": now, "exp": now + self.ttl_s}
        return jwt.encode(claims, self._secret, algorithm=self.ALGORITHM)

    def verify(self, token: str) -> uuid.UUID:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[self.ALGORITHM],
                                options={"require": ["sub", "exp"]})
            return uuid.UUID(claims["sub"])
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except (jwt.InvalidTokenError, ValueError):
            raise InvalidToken("invalid token") from None
