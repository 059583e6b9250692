"""S3 bootstrap: the private bucket, the application's least-privilege key, stale-upload cleanup.

Only this step (`chat4all migrate`, devstack's bootstrap) and devstack's readiness probe use the
S3 root credentials. Every
process — the API's presigned URLs included — signs with the application's own key
(S3_ACCESS_KEY / S3_SECRET_KEY), a MinIO user whose only policy is `app_policy`: objects and
multipart uploads of this one bucket, nothing else (no ListAllMyBuckets, no other bucket, no
bucket creation or configuration, no admin API).

MinIO's users, policies and configuration are managed through its admin API with the `minio`
package's MinioAdmin (plain HTTP with SigV4, payloads encrypted with the root secret).
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from chat4all_app.files.s3 import s3_client
from chat4all_app.settings import Settings

# S3 has no lifecycle action MinIO accepts for abandoned multipart uploads: MinIO ignores
# <AbortIncompleteMultipartUpload> when it parses a rule (internal/bucket/lifecycle/rule.go), and
# refuses a rule with no other action as MalformedXML. Its own equivalent is the `api` config:
# every STALE_CLEANUP_INTERVAL it deletes the multipart uploads older than STALE_UPLOADS_EXPIRY.
STALE_UPLOADS_EXPIRY = "24h"
STALE_CLEANUP_INTERVAL = "1h"


class S3SetupError(RuntimeError):
    """The S3 server cannot be given the least-privilege setup (e.g. it has no MinIO admin API)."""


def app_policy_name(settings: Settings) -> str:
    return f"{settings.s3_bucket}-app"


def app_policy(bucket: str) -> dict:
    """What the API does with S3, on this bucket only: head/list it (health check, tests), list
    its multipart uploads; get/put/delete objects, upload/list/complete/abort multipart parts."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow",
             "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
             "Resource": [f"arn:aws:s3:::{bucket}"]},
            {"Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                        "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
             "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        ],
    }


def admin_client(settings: Settings):
    """MinIO's admin API, signed with the root credentials."""
    from minio.credentials import StaticProvider
    from minio.minioadmin import MinioAdmin

    url = urlsplit(settings.s3_endpoint_url)
    return MinioAdmin(endpoint=url.netloc, secure=url.scheme == "https", region=settings.s3_region,
                      credentials=StaticProvider(settings.s3_root_user, settings.s3_root_password))


def stale_upload_config(admin) -> dict[str, str]:
    """The `api` keys that govern abandoned multipart uploads, as the server reports them."""
    text = admin.config_get("api")  # e.g. "api requests_max=0 ... stale_uploads_expiry=24h ..."
    pairs = dict(word.split("=", 1) for word in text.split() if "=" in word)
    return {k: pairs.get(k, "") for k in ("stale_uploads_expiry", "stale_uploads_cleanup_interval")}


def _ensure_stale_uploads(admin) -> str:
    wanted = {"stale_uploads_expiry": STALE_UPLOADS_EXPIRY,
              "stale_uploads_cleanup_interval": STALE_CLEANUP_INTERVAL}
    if stale_upload_config(admin) == wanted:
        return f"expire after {STALE_UPLOADS_EXPIRY} (checked every {STALE_CLEANUP_INTERVAL}): up to date"
    admin.config_set("api", wanted)  # `api` is a dynamic subsystem: applied without a restart
    got = stale_upload_config(admin)
    if got != wanted:
        raise S3SetupError(f"MinIO kept api {got} after setting {wanted}")
    return f"expire after {STALE_UPLOADS_EXPIRY} (checked every {STALE_CLEANUP_INTERVAL}): set"


async def _app_key_works(settings: Settings) -> bool:
    """The file's app key signs requests MinIO accepts (False: unknown key or another secret)."""
    async with s3_client(settings) as s3:
        try:
            await s3.list_objects_v2(Bucket=settings.s3_bucket, MaxKeys=1)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {
                    "SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"}:
                return False
            raise


def _is_missing_user(exc: Exception) -> bool:
    return getattr(exc, "_code", "") == "404" or "XMinioAdminNoSuchUser" in str(exc)


async def _ensure_app_user(settings: Settings, admin) -> str:
    """Create or update the app's MinIO user and policy (idempotent); return what happened."""
    from minio.error import MinioAdminException

    key, policy = settings.s3_access_key, app_policy_name(settings)
    await asyncio.to_thread(admin.policy_add, policy, policy=app_policy(settings.s3_bucket))
    try:
        await asyncio.to_thread(admin.user_info, key)
        exists = True
    except MinioAdminException as exc:
        if not _is_missing_user(exc):
            raise
        exists = False
    if not exists:
        await asyncio.to_thread(admin.user_add, key, settings.s3_secret_key)
        state = "created"
    # Exactly this one policy (replaces any other mapping of this user).
    await asyncio.to_thread(admin.policy_set, policy, user=key)
    if exists:
        if await _app_key_works(settings):
            state = "up to date"
        else:  # S3_SECRET_KEY changed (rotation): give the user the file's secret
            await asyncio.to_thread(admin.user_add, key, settings.s3_secret_key)
            state = "secret rotated"
    # An older app key (S3_ACCESS_KEY itself rotated) keeps no access.
    entities = json.loads(await asyncio.to_thread(admin.get_policy_entities, [], [], [policy]))
    stale = sorted({user for mapping in entities.get("policyMappings") or []
                    for user in mapping.get("users") or [] if user != key})
    for user in stale:
        await asyncio.to_thread(admin.user_remove, user)
    if stale:
        state += f"; removed previous key(s) {', '.join(stale)}"
    if not await _app_key_works(settings):
        raise S3SetupError(f"the application key {key} still cannot list bucket {settings.s3_bucket}")
    return f"{key} ({policy}): {state}"


async def ensure_bucket(settings: Settings) -> str:
    """Create the bucket (with the root credentials) if missing; new buckets are private."""
    async with s3_client(settings, root=True) as s3:
        try:
            await s3.head_bucket(Bucket=settings.s3_bucket)
            return "exists"
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket", "NotFound"}:
                raise
        await s3.create_bucket(Bucket=settings.s3_bucket)
        return "created"


async def ensure_s3(settings: Settings) -> dict[str, str]:
    """The whole S3 bootstrap, idempotent: {what: state} for the caller to print."""
    from minio.error import MinioAdminException

    settings.require("s3_root_user", "s3_root_password", "s3_access_key", "s3_secret_key")
    if settings.s3_access_key == settings.s3_root_user:
        raise S3SetupError("S3_ACCESS_KEY must not be the root user S3_ROOT_USER")
    done = {f"bucket {settings.s3_bucket}": await ensure_bucket(settings)}
    admin = admin_client(settings)
    try:
        await asyncio.to_thread(admin.info)
    except MinioAdminException as exc:
        raise S3SetupError(
            f"{settings.s3_endpoint_url} has no MinIO admin API ({exc}). Chat4All needs one to give "
            f"the application its own key limited to the bucket: run MinIO (the versitygw fallback "
            f"is not supported; rebuild MinIO with `make install`).") from None
    try:
        done["stale multipart uploads"] = await asyncio.to_thread(_ensure_stale_uploads, admin)
        done["application key"] = await _ensure_app_user(settings, admin)
    except MinioAdminException as exc:
        raise S3SetupError(f"MinIO's admin API refused the setup: {exc}") from None
    return done
