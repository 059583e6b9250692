"""Create the private S3 bucket that holds file binaries."""

from __future__ import annotations

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError

from chat4all_app.settings import Settings


def s3_client(settings: Settings, endpoint_url: str | None = None):
    """An aiobotocore S3 client context manager configured from the settings."""
    return get_session().create_client(
        "s3",
        endpoint_url=endpoint_url or settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        # SigV4 everywhere (presigned URLs too: botocore would otherwise presign with SigV2) and
        # path-style addressing, which MinIO on 127.0.0.1 needs.
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


async def ensure_bucket(settings: Settings) -> str:
    """Create the bucket if missing; return "created" or "exists". New buckets are private."""
    async with s3_client(settings) as s3:
        try:
            await s3.head_bucket(Bucket=settings.s3_bucket)
            return "exists"
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
                raise
        await s3.create_bucket(Bucket=settings.s3_bucket)
        return "created"
