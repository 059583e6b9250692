"""The one way to open an S3 client: the application's own key, or MinIO's root credentials."""

from __future__ import annotations

from aiobotocore.session import ClientCreatorContext, get_session
from botocore.config import Config

from chat4all_app.settings import Settings


def s3_client(settings: Settings, endpoint_url: str | None = None, *,
              root: bool = False) -> ClientCreatorContext:
    """An aiobotocore S3 client context manager (`async with s3_client(...) as s3:`), signing with
    the application's key, or the root credentials (`root=True`: bootstrap and readiness probes
    only, never a service)."""
    access, secret = ((settings.s3_root_user, settings.s3_root_password) if root
                      else (settings.s3_access_key, settings.s3_secret_key))
    return get_session().create_client(
        "s3",
        endpoint_url=endpoint_url or settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        # SigV4 everywhere (presigned URLs too: botocore would otherwise presign with SigV2) and
        # path-style addressing, which MinIO on 127.0.0.1 needs.
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )

