"""Access tokens: JWT (HS256) carrying the user id in `sub`."""

from __future__ import annotations

import time
import uuid

import jwt

from chat4all_app.lru import LruCache

# Verifying a signature was the largest item of our own code in the API's profile (make profile);
# a token that verified once is the same bytes next time, so only its expiry needs checking again.
_VERIFIED_CACHE_SIZE = 10_000


class InvalidToken(Exception):
    """Missing, malformed, forged or expired token; the message says which."""


class TokenIssuer:
    ALGORITHM = "HS256"

    def __init__(self, secret: str, ttl_s: int):
        self._secret = secret
        self.ttl_s = ttl_s
        self._verified: LruCache[tuple[uuid.UUID, float]] = LruCache(_VERIFIED_CACHE_SIZE)

    def issue(self, user_id: uuid.UUID, username: str) -> str:
        now = int(time.time())
        claims = {"sub": str(user_id), "name": username, "iat": now, "exp": now + self.ttl_s}
        return jwt.encode(claims, self._secret, algorithm=self.ALGORITHM)

    def verify(self, token: str) -> uuid.UUID:
        return self.verify_until(token)[0]

    def verify_until(self, token: str) -> tuple[uuid.UUID, float]:
        """The token's user id and its expiry (epoch seconds): a live connection ends then."""
        known = self._verified.get(token)
        if known is not None:
            user_id, expires = known
            if time.time() < expires:
                return user_id, expires
            raise InvalidToken("token expired")
        try:
            claims = jwt.decode(token, self._secret, algorithms=[self.ALGORITHM],
                                options={"require": ["sub", "exp"]})
            user_id = uuid.UUID(claims["sub"])
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired") from None
        except (jwt.InvalidTokenError, ValueError):
            raise InvalidToken("invalid token") from None
        self._verified.put(token, (user_id, float(claims["exp"])))
        return user_id, float(claims["exp"])
