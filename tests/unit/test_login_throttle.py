"""Which address a login is counted under, and the dummy hash for unknown users."""

import pytest

from chat4all_app.auth.passwords import hash_password, verify_password
from chat4all_app.auth.throttle import TrustedProxies, client_address, trusted_networks
from chat4all_app.settings import Settings, SettingsError

TRUSTED = trusted_networks(["127.0.0.1", "10.0.0.0/8"])


@pytest.mark.parametrize("peer, headers, expected", [
    # An untrusted peer is the client, whatever it claims.
    ("203.0.113.9", {"X-Real-IP": "198.51.100.1"}, "203.0.113.9"),
    ("203.0.113.9", {"X-Forwarded-For": "198.51.100.1"}, "203.0.113.9"),
    ("127.0.0.2", {"X-Real-IP": "198.51.100.1"}, "127.0.0.2"),
    # A trusted proxy names the client: X-Real-IP, else the last X-Forwarded-For entry.
    ("127.0.0.1", {"X-Real-IP": "198.51.100.1"}, "198.51.100.1"),
    ("10.1.2.3", {"X-Real-IP": "198.51.100.1", "X-Forwarded-For": "192.0.2.7"}, "198.51.100.1"),
    ("127.0.0.1", {"X-Forwarded-For": "192.0.2.66, 198.51.100.1"}, "198.51.100.1"),
    ("127.0.0.1", {}, "127.0.0.1"),
    # Garbage from a trusted proxy: the peer counts (never an error).
    ("127.0.0.1", {"X-Real-IP": "not-an-ip"}, "127.0.0.1"),
    ("127.0.0.1", {"X-Forwarded-For": "1.2.3.4, nonsense"}, "127.0.0.1"),
    ("127.0.0.1", {"X-Real-IP": "x" * 5000}, "127.0.0.1"),
    # IPv4 on an IPv6 socket; IPv6 clients count by /64.
    ("::ffff:127.0.0.1", {"X-Real-IP": "::ffff:198.51.100.1"}, "198.51.100.1"),
    ("2001:db8:1:2:3:4:5:6", {}, "2001:db8:1:2::/64"),
    ("127.0.0.1", {"X-Real-IP": "2001:db8::1"}, "2001:db8::/64"),
    (None, {"X-Real-IP": "198.51.100.1"}, "unknown"),
])
def test_client_address(peer, headers, expected):
    assert client_address(peer, headers, TRUSTED) == expected


def test_no_trusted_proxies_means_headers_are_ignored():
    assert client_address("127.0.0.1", {"X-Real-IP": "198.51.100.1"}, ()) == "127.0.0.1"


def test_trusted_proxies_setting_is_validated():
    assert Settings.from_env({"TRUSTED_PROXIES": ""}).trusted_proxies == ()
    assert Settings.from_env({"TRUSTED_PROXIES": "10.0.0.0/8, ::1"}).trusted_proxies == ("10.0.0.0/8", "::1")
    assert Settings.from_env({"TRUSTED_PROXIES": "nginx"}).trusted_proxies == ("nginx",)
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings.from_env({"TRUSTED_PROXIES": "not a proxy!"})
    with pytest.raises(SettingsError, match="LOGIN_WINDOW_S"):
        Settings.from_env({"LOGIN_WINDOW_S": "0"})


def test_an_unknown_user_is_verified_against_a_dummy_hash_and_fails():
    stored = hash_password("right-password")
    assert verify_password(stored, "right-password")
    assert not verify_password(stored, "wrong")
    assert not verify_password(None, "right-password")
    assert not verify_password(None, "")


async def test_trusted_proxies_resolve_host_names():
    proxies = TrustedProxies(["10.0.0.0/8", "localhost", "no-such-host.invalid"])
    networks = await proxies.networks()
    assert client_address("127.0.0.1", {"X-Real-IP": "198.51.100.1"}, networks) == "198.51.100.1"
    assert client_address("10.9.9.9", {"X-Real-IP": "198.51.100.1"}, networks) == "198.51.100.1"
    assert client_address("192.0.2.1", {"X-Real-IP": "198.51.100.1"}, networks) == "192.0.2.1"
