"""The uploads service's FileStore port over Cassandra (chat4all_app.storage.files)."""

from __future__ import annotations

import uuid

from chat4all_app.storage import files
from chat4all_app.storage.cassandra import CassandraStore
from chat4all_app.storage.files import FileRecord, Upload


class CassandraFiles:
    def __init__(self, store: CassandraStore):
        self.store = store

    async def save_file(self, file: FileRecord) -> None:
        await files.save_file(self.store, file)

    async def get_file(self, file_id: uuid.UUID) -> FileRecord | None:
        return await files.get_file(self.store, file_id)

    async def save_upload(self, upload: Upload) -> None:
        await files.save_upload(self.store, upload)

    async def get_upload(self, upload_id: str) -> Upload | None:
        return await files.get_upload(self.store, upload_id)

    async def delete_upload(self, upload_id: str) -> None:
        await files.delete_upload(self.store, upload_id)
