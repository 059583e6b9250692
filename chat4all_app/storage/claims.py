"""Message-id claims: a message_id is an idempotency key bound to one message, for good.

POST /v1/messages claims the id before publishing, with a Cassandra lightweight transaction
(`INSERT ... IF NOT EXISTS`, Paxos). Paxos makes the claim linearizable: of any number of
concurrent posts of one id exactly one inserts its claim and every other one reads that winner's
row. So no race lets two different messages through with one id: the loser gets its 409 before
anything is published, and there is never a second, conflicting 202 that the pipeline would have
to turn into FAILED later.

A replay of the claimed message (same fingerprint: sender, conversation, content, recipient, file)
is published again, with an acceptance id minted just before publishing (as every post is: an id
minted before the claim's round trip could order two concurrent posts of one conversation
differently in Kafka and in Cassandra). The router deduplicates by conversation:message_id and
keeps the first copy it routes, so a replay after a 503 (or of a 202 that got lost) ends as one
message, and a publish lost after the claim is recovered by that retry. A claim outlives a failed
publish: the id stays bound to what was first sent with it. The claim's own accepted_id and
accepted_at record when the id was first claimed.

Messages stored before claims existed get theirs from `backfill`, run once by the migration that
creates the table (0003): stop API processes of an older version before migrating, or a message
they accept meanwhile has no claim.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args

from chat4all_app.ids import accepted_epoch
from chat4all_app.recipients import Recipient
from chat4all_app.storage.cassandra import CassandraStore

_CLAIM = ("INSERT INTO message_claims (message_id, conversation_id, sender_id, fingerprint, "
          "accepted_id, accepted_at) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS")
_READ = ("SELECT conversation_id, sender_id, fingerprint, accepted_id, accepted_at "
         "FROM message_claims WHERE message_id = ?")


def fingerprint(sender_id: uuid.UUID | str, conversation_id: uuid.UUID | str, content: str,
                recipient_id: str | None, file_id: uuid.UUID | str | None) -> str:
    """sha256 over what makes a message that message (ids in canonical form)."""
    fields = [str(sender_id), str(conversation_id), content, recipient_id,
              str(file_id) if file_id else None]
    return hashlib.sha256(orjson.dumps(fields)).hexdigest()


@dataclass(frozen=True)
class Claim:
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    sender_id: uuid.UUID
    fingerprint: str
    accepted_id: uuid.UUID
    accepted_at: float


async def claim(store: CassandraStore, mine: Claim) -> Claim:
    """The id's claim: `mine` if this call made it, else the one made first (compare the
    fingerprints)."""
    (row,) = await store.execute(_CLAIM, (
        mine.message_id, mine.conversation_id, mine.sender_id, mine.fingerprint, mine.accepted_id,
        mine.accepted_at))
    if row[0]:  # [applied]
        return mine
    return Claim(mine.message_id, row.conversation_id, row.sender_id, row.fingerprint,
                 row.accepted_id, row.accepted_at)


async def claim_of(store: CassandraStore, message_id: uuid.UUID) -> Claim | None:
    rows = await store.execute(_READ, (message_id,))
    if not rows:
        return None
    r = rows[0]
    return Claim(message_id, r.conversation_id, r.sender_id, r.fingerprint, r.accepted_id,
                 r.accepted_at)


def backfill(session: Session, only: Iterable[uuid.UUID] | None = None, chunk: int = 500) -> int:
    """Claim stored messages' ids for them (`only`: these ids; default: every stored message);
    IF NOT EXISTS, so a claim made meanwhile wins. The number of claims written. Synchronous:
    a migration step, `chunk` rows at a time, each chunk's statements concurrently."""
    find = session.prepare("SELECT sender_id, content, recipient_id, file_id FROM messages "
                           "WHERE conversation_id = ? AND accepted_id = ?")
    insert = session.prepare(_CLAIM)
    if only is None:
        index = session.execute("SELECT message_id, conversation_id, accepted_id FROM messages_by_id")
    else:
        lookup = session.prepare("SELECT message_id, conversation_id, accepted_id FROM messages_by_id "
                                 "WHERE message_id = ?")
        index = [r for mid in only for r in session.execute(lookup, (mid,))]
    # A generator, not iter(ResultSet): islice would call ResultSet.__iter__ again, which restarts
    # the current page (an endless loop on a table of more than one page).
    written, rows = 0, (r for r in index)
    while batch := list(itertools.islice(rows, chunk)):
        found = execute_concurrent_with_args(
            session, find, [(r.conversation_id, r.accepted_id) for r in batch], concurrency=32)
        claims = []
        for r, (ok, result) in zip(batch, found, strict=True):
            if not ok:
                raise result
            msg = result.one()
            if msg is None or msg.sender_id is None:
                continue
            recipient = msg.recipient_id and str(Recipient.read(msg.recipient_id))  # canonical
            claims.append((r.message_id, r.conversation_id, msg.sender_id,
                           fingerprint(msg.sender_id, r.conversation_id, msg.content, recipient,
                                       msg.file_id),
                           r.accepted_id, accepted_epoch(str(r.accepted_id))))
        for ok, result in execute_concurrent_with_args(session, insert, claims, concurrency=32):
            if not ok:
                raise result
            written += bool(result.one()[0])
    return written
