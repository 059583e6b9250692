"""Password hashing with argon2id; clear-text passwords never leave this module."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Lighter than argon2-cffi's defaults (64 MiB, t=3) so the API stays responsive on 2 cores,
# still well above OWASP's minimum for argon2id (19 MiB, t=2).
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
