from chat4all_app.connectors.webhook_signature import sign, verify

KEY = b"k" * 32


def test_a_signature_verifies_only_for_its_key_and_exact_body():
    body = b'{"message_id": "x"}'
    header = sign(KEY, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify(KEY, body, header)
    assert not verify(b"other" * 8, body, header)
    assert not verify(KEY, body + b" ", header)
    assert not verify(KEY, body, header.upper())


def test_missing_malformed_or_keyless_signatures_never_verify():
    body = b"{}"
    non_ascii = "sha256=\udcff" + "0" * 63  # how aiohttp passes a header byte 0xff on
    for header in (None, "", "sha256=", "sha1=" + "0" * 40, sign(KEY, body)[7:], non_ascii,
                   "sha256=" + "é" * 64):
        assert not verify(KEY, body, header)
    assert not verify(b"", body, sign(b"", body))
