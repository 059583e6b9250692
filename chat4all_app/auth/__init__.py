"""Passwords (argon2id) and access tokens (JWT HS256)."""
