"""Access tokens: verification, and that remembering verified tokens changes no verdict."""

import time
import uuid

import pytest

from chat4all_app.auth import tokens
from chat4all_app.auth.tokens import InvalidToken, TokenIssuer


def test_a_token_verifies_to_its_user_again_and_again():
    issuer, user = TokenIssuer("s" * 32, 60), uuid.uuid4()
    token = issuer.issue(user, "ana")
    assert [issuer.verify(token) for _ in range(3)] == [user] * 3


def test_a_remembered_token_still_expires(monkeypatch):
    issuer, now = TokenIssuer("s" * 32, 60), [time.time()]
    monkeypatch.setattr(tokens.time, "time", lambda: now[0])
    token = issuer.issue(uuid.uuid4(), "ana")
    issuer.verify(token)  # now remembered
    now[0] += 61
    with pytest.raises(InvalidToken, match="expired"):
        issuer.verify(token)


def test_forged_and_other_secret_tokens_are_refused_every_time():
    issuer, other = TokenIssuer("s" * 32, 60), TokenIssuer("t" * 32, 60)
    good = issuer.issue(uuid.uuid4(), "ana")
    issuer.verify(good)
    head, body, sig = good.split(".")
    forged = f"{head}.{body}.{sig[:-2]}{'AA' if not sig.endswith('AA') else 'BB'}"
    for token in (forged, other.issue(uuid.uuid4(), "eve"), "not-a-token"):
        for _ in range(2):
            with pytest.raises(InvalidToken):
                issuer.verify(token)
