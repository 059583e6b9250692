"""Password hashing with argon2id; clear-text passwords never leave this module."""

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Lighter than argon2-cffi's defaults (64 MiB, t=3) so the API stays responsive on 2 cores,
# still well above OWASP's minimum for argon2id (19 MiB, t=2).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


# Verified against when the username does not exist, so an unknown name costs what a known one
# does (no enumeration by timing). A hash of a random password nobody knows, made by _HASHER
# itself: same algorithm and parameters as every stored hash, hence the same work to verify.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(32))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; None (no such user) does the same work and is always False."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
