"""S3 least privilege against the real MinIO of the local stack (issue 16, item 7).

The root credentials are generated and used only by the bootstrap; the application (presigned
URLs included) signs with its own key, limited to the bucket; abandoned multipart uploads expire
after a day; a presigned part URL accepts only a body of the part's exact size.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError

from benchmarks.upload import MiB, file_form
from chat4all_app.bootstrap.bucket import (
    STALE_CLEANUP_INTERVAL,
    STALE_UPLOADS_EXPIRY,
    admin_client,
    app_policy_name,
    stale_upload_config,
)
from chat4all_app.files.s3 import s3_client
from chat4all_app.settings import KNOWN_DEFAULTS, MIN_SECRET_BYTES
from tests.integration.helpers import Api

# Credentials published in this project's history and in MinIO's documentation.
WELL_KNOWN = [("chat4all", "chat4all-secret"), ("minioadmin", "minioadmin"), ("minio", "minio123")]


def signing_key(url: str) -> str:
    """The access key a presigned URL was signed with (X-Amz-Credential = key/date/region/...)."""
    credential = parse_qs(urlsplit(url).query)["X-Amz-Credential"][0]
    return credential.split("/")[0]


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


async def denied(call) -> str:
    """Await an S3 call that must be refused; return S3's error code."""
    with pytest.raises(ClientError) as caught:
        await call
    return error_code(caught.value)


async def members(api: Api):
    alice, bob = await api.user("alice"), await api.user("bob")
    return alice, bob, await api.conversation(alice, bob)


async def test_presigned_urls_carry_the_app_key_never_the_root_key(api, settings):
    alice, bob, conv = await members(api)
    status, meta = await api.call("POST", "/v1/files", alice, data=file_form(conv, b"hello s3", "h.txt"))
    assert status == 201, meta
    status, info = await api.call("GET", f"/v1/files/{meta['file_id']}", bob)
    assert status == 200, info
    status, up = await api.call("POST", "/v1/files/uploads", alice, json={
        "conversation_id": conv, "filename": "big.bin", "size_bytes": 9 * MiB})
    assert status == 201, up
    status, progress = await api.call("GET", f"/v1/files/uploads/{up['upload_id']}", alice)
    assert status == 200, progress
    await api.call("DELETE", f"/v1/files/uploads/{up['upload_id']}", alice)

    urls = [info["download_url"]] + [p["url"] for p in up["parts"] + progress["parts"]]
    keys = {signing_key(url) for url in urls}
    assert keys == {settings.s3_access_key}, keys
    assert settings.s3_root_user not in keys and not keys & KNOWN_DEFAULTS
    # ... and that key is one MinIO knows: the download works.
    async with api.http.get(info["download_url"]) as resp:
        assert resp.status == 200 and await resp.read() == b"hello s3"


async def test_root_credentials_are_generated_and_the_well_known_ones_are_refused(settings):
    user, password = settings.s3_root_user, settings.s3_root_password
    assert user.lower() not in KNOWN_DEFAULTS and password.lower() not in KNOWN_DEFAULTS
    assert len(password.encode()) >= MIN_SECRET_BYTES
    assert user != settings.s3_access_key
    async with s3_client(settings, root=True) as s3:  # these are the server's real root credentials
        names = {b["Name"] for b in (await s3.list_buckets())["Buckets"]}
        assert settings.s3_bucket in names
    for access, secret in WELL_KNOWN:
        forged = dataclasses.replace(settings, s3_access_key=access, s3_secret_key=secret)
        async with s3_client(forged) as s3:
            assert await denied(s3.list_buckets()) == "InvalidAccessKeyId", access
            assert await denied(s3.list_objects_v2(Bucket=settings.s3_bucket)) == "InvalidAccessKeyId"


async def test_app_key_is_limited_to_its_bucket(settings):
    other = f"chat4all-it-other-{uuid.uuid4().hex[:12]}"
    key = f"it/{uuid.uuid4().hex}"
    bucket = settings.s3_bucket
    async with s3_client(settings, root=True) as root, s3_client(settings) as app:
        await root.create_bucket(Bucket=other)
        await root.put_object(Bucket=other, Key="secret.txt", Body=b"not yours")
        try:
            # MinIO answers ListBuckets without s3:ListAllMyBuckets with the buckets the key may
            # list: its own only, never the others.
            listed = {b["Name"] for b in (await app.list_buckets())["Buckets"]}
            assert listed == {settings.s3_bucket}, listed
            assert await denied(app.create_bucket(Bucket=f"chat4all-it-new-{uuid.uuid4().hex[:8]}")) \
                == "AccessDenied"
            assert await denied(app.get_object(Bucket=other, Key="secret.txt")) == "AccessDenied"
            assert await denied(app.list_objects_v2(Bucket=other)) == "AccessDenied"
            assert await denied(app.put_object(Bucket=other, Key="x", Body=b"x")) == "AccessDenied"
            assert await denied(app.delete_object(Bucket=other, Key="secret.txt")) == "AccessDenied"
            # Its own bucket's configuration is not its business either.
            public = json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{settings.s3_bucket}/*"}]})
            assert await denied(app.put_bucket_policy(Bucket=settings.s3_bucket, Policy=public)) \
                == "AccessDenied"
            assert await denied(app.delete_bucket(Bucket=settings.s3_bucket)) == "AccessDenied"
            assert await denied(app.get_bucket_lifecycle_configuration(Bucket=settings.s3_bucket)) \
                == "AccessDenied"

            # What the API does, it can: objects and multipart uploads of its bucket.
            await app.head_bucket(Bucket=settings.s3_bucket)
            await app.put_object(Bucket=settings.s3_bucket, Key=key, Body=b"mine")
            got = await app.get_object(Bucket=settings.s3_bucket, Key=key)
            async with got["Body"] as body:
                assert await body.read() == b"mine"
            listed = await app.list_objects_v2(Bucket=settings.s3_bucket, Prefix=key)
            assert [o["Key"] for o in listed["Contents"]] == [key]
            upload = (await app.create_multipart_upload(Bucket=bucket, Key=key + ".mp"))["UploadId"]
            part = await app.upload_part(Bucket=settings.s3_bucket, Key=key + ".mp", UploadId=upload,
                                         PartNumber=1, Body=b"p" * 10)
            parts = await app.list_parts(Bucket=settings.s3_bucket, Key=key + ".mp", UploadId=upload)
            assert [p["ETag"] for p in parts["Parts"]] == [part["ETag"]]
            uploads = await app.list_multipart_uploads(Bucket=settings.s3_bucket)
            assert upload in {u["UploadId"] for u in uploads.get("Uploads", [])}
            await app.complete_multipart_upload(
                Bucket=settings.s3_bucket, Key=key + ".mp", UploadId=upload,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
            aborted = (await app.create_multipart_upload(Bucket=bucket, Key=key + ".ab"))["UploadId"]
            await app.abort_multipart_upload(Bucket=settings.s3_bucket, Key=key + ".ab", UploadId=aborted)
            for k in (key, key + ".mp"):
                await app.delete_object(Bucket=settings.s3_bucket, Key=k)
        finally:
            await root.delete_object(Bucket=other, Key="secret.txt")
            await root.delete_bucket(Bucket=other)


def test_app_key_has_no_admin_api_and_exactly_the_bucket_policy(settings):
    from minio.error import MinioAdminException

    app_admin = admin_client(dataclasses.replace(
        settings, s3_root_user=settings.s3_access_key, s3_root_password=settings.s3_secret_key))
    with pytest.raises(MinioAdminException) as caught:
        app_admin.user_list()
    assert caught.value._code == "403"
    root = admin_client(settings)
    users = json.loads(root.user_list())
    assert users[settings.s3_access_key]["policyName"] == app_policy_name(settings)
    assert users[settings.s3_access_key]["status"] == "enabled"
    policy = json.loads(root.policy_info(app_policy_name(settings)))
    actions = {a for st in policy["Statement"] for a in st["Action"]}
    resources = {r for st in policy["Statement"] for r in st["Resource"]}
    assert resources == {f"arn:aws:s3:::{settings.s3_bucket}", f"arn:aws:s3:::{settings.s3_bucket}/*"}
    assert not {a for a in actions if a in {"s3:*", "admin:*", "s3:ListAllMyBuckets",
                                            "s3:CreateBucket", "s3:DeleteBucket"}}
    assert all(st["Effect"] == "Allow" for st in policy["Statement"])


async def test_abandoned_multipart_uploads_expire_after_a_day(settings):
    # MinIO has no S3 lifecycle action for them: a rule with only AbortIncompleteMultipartUpload is
    # refused, and one with another action is stored without it (read it back). Should a MinIO
    # ever accept it, this test says so and the bootstrap should set the S3 rule instead.
    scratch = f"chat4all-it-lc-{uuid.uuid4().hex[:12]}"
    async with s3_client(settings, root=True) as root:
        await root.create_bucket(Bucket=scratch)
        try:
            abort = {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
            rule = {"ID": "abort", "Status": "Enabled", "Filter": {"Prefix": ""}}
            try:
                await root.put_bucket_lifecycle_configuration(
                    Bucket=scratch, LifecycleConfiguration={"Rules": [rule | abort]})
                refused = False
            except ClientError as exc:
                refused = error_code(exc) in {"InvalidArgument", "MalformedXML", "InvalidRequest"}
            assert refused
            await root.put_bucket_lifecycle_configuration(Bucket=scratch, LifecycleConfiguration={
                "Rules": [rule | abort | {"Expiration": {"Days": 3650}}]})
            stored = (await root.get_bucket_lifecycle_configuration(Bucket=scratch))["Rules"]
            assert stored and all("AbortIncompleteMultipartUpload" not in r for r in stored), stored
        finally:
            await root.delete_bucket(Bucket=scratch)
    # MinIO's own equivalent, as the running server reports it: uploads older than a day are
    # deleted by a sweep that runs every hour.
    assert stale_upload_config(admin_client(settings)) == {
        "stale_uploads_expiry": STALE_UPLOADS_EXPIRY,
        "stale_uploads_cleanup_interval": STALE_CLEANUP_INTERVAL}
    assert (STALE_UPLOADS_EXPIRY, STALE_CLEANUP_INTERVAL) == ("24h", "1h")


async def test_presigned_part_urls_refuse_a_body_of_another_size(api):
    alice, _, conv = await members(api)
    size = 8 * MiB + 1000  # parts of 8 MiB and 1000 bytes
    status, up = await api.call("POST", "/v1/files/uploads", alice, json={
        "conversation_id": conv, "filename": "sized.bin", "size_bytes": size})
    assert status == 201, up
    part_size = up["part_size"]
    assert [p["part_number"] for p in up["parts"]] == [1, 2]
    last = up["parts"][1]["url"]
    for wrong in (b"x" * 999, b"x" * 1001, b"x" * (6 * MiB)):  # shorter, longer, a whole extra part
        async with api.http.put(last, data=wrong) as resp:
            assert 400 <= resp.status < 500, f"S3 accepted {len(wrong)} bytes for a 1000-byte part"
            assert resp.status == 403 and "SignatureDoesNotMatch" in await resp.text()

    async def chunked():  # no Content-Length at all
        yield b"x" * 500
        yield b"x" * 500

    async with api.http.put(last, data=chunked()) as resp:
        assert 400 <= resp.status < 500, resp.status
    status, progress = await api.call("GET", f"/v1/files/uploads/{up['upload_id']}", alice)
    assert status == 200 and progress["stored_parts"] == [], progress  # S3 stored none of them
    # The API says how long each part must be, and signs exactly that (on every listing).
    for listing in (up["parts"], progress["parts"]):
        assert [(p["part_number"], p["size_bytes"]) for p in listing] == [(1, part_size), (2, 1000)]
        for part in listing:
            signed = parse_qs(urlsplit(part["url"]).query)["X-Amz-SignedHeaders"][0].split(";")
            assert "content-length" in signed

    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    etags = {}
    for part in up["parts"]:
        n = part["part_number"]
        async with api.http.put(part["url"], data=data[(n - 1) * part_size: n * part_size]) as resp:
            assert resp.status == 200, await resp.text()
            etags[n] = resp.headers["ETag"]
    status, meta = await api.call("POST", f"/v1/files/uploads/{up['upload_id']}/complete", alice, json={
        "parts": [{"part_number": n, "etag": e} for n, e in sorted(etags.items())]})
    assert status == 201 and meta["size_bytes"] == size, meta


async def test_bootstrap_is_idempotent_and_applies_a_rotated_key(settings):
    """`chat4all migrate`'s S3 step on a scratch bucket and key (the running app's stay untouched):
    a second run changes nothing, a new S3_SECRET_KEY replaces the old one, a new S3_ACCESS_KEY
    removes the previous user."""
    import secrets

    from chat4all_app.bootstrap.bucket import ensure_s3

    tag = uuid.uuid4().hex[:10]
    scratch = dataclasses.replace(settings, s3_bucket=f"chat4all-it-rot-{tag}",
                                  s3_access_key=f"app-it-{tag}", s3_secret_key=secrets.token_hex(20))
    admin = admin_client(settings)
    users = [scratch.s3_access_key]
    try:
        first = await ensure_s3(scratch)
        assert first["application key"].endswith(": created"), first
        assert first[f"bucket {scratch.s3_bucket}"] == "created"
        again = await ensure_s3(scratch)
        assert again["application key"].endswith(": up to date") and again[f"bucket {scratch.s3_bucket}"] \
            == "exists", again

        rotated = dataclasses.replace(scratch, s3_secret_key=secrets.token_hex(20))
        assert (await ensure_s3(rotated))["application key"].endswith(": secret rotated")
        async with s3_client(scratch) as old, s3_client(rotated) as new:
            assert await denied(old.list_objects_v2(Bucket=scratch.s3_bucket)) == "SignatureDoesNotMatch"
            await new.list_objects_v2(Bucket=scratch.s3_bucket)

        renamed = dataclasses.replace(rotated, s3_access_key=f"app-it2-{tag}")
        users.append(renamed.s3_access_key)
        state = (await ensure_s3(renamed))["application key"]
        assert state.endswith(f"created; removed previous key(s) {scratch.s3_access_key}"), state
        async with s3_client(rotated) as old:
            assert await denied(old.list_objects_v2(Bucket=scratch.s3_bucket)) == "InvalidAccessKeyId"
        # The running application's key was not touched.
        async with s3_client(settings) as app:
            await app.head_bucket(Bucket=settings.s3_bucket)
    finally:
        for user in users:
            with contextlib.suppress(Exception):
                admin.user_remove(user)
        with contextlib.suppress(Exception):
            admin.policy_remove(app_policy_name(scratch))
        async with s3_client(settings, root=True) as root:
            await root.delete_bucket(Bucket=scratch.s3_bucket)
