import stat

from chat4all_app.bootstrap.secrets import ensure_secrets
from chat4all_app.settings import Settings, read_secrets_file

CHANNELS = ("whatsapp", "instagram")
NAMES = ["GRAFANA_ADMIN_PASSWORD", "JWT_SECRET", "S3_ACCESS_KEY", "S3_ROOT_PASSWORD", "S3_ROOT_USER",
         "S3_SECRET_KEY", "WEBHOOK_SECRET_INSTAGRAM", "WEBHOOK_SECRET_WHATSAPP"]


def test_first_run_generates_every_secret_privately_and_they_pass_validation(tmp_path):
    path = tmp_path / "state" / "secrets.env"
    assert ensure_secrets(path, CHANNELS) == NAMES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    settings = Settings.from_env({"CHAT4ALL_SECRETS_FILE": str(path)})
    settings.require(*(n.lower() for n in NAMES if n != "GRAFANA_ADMIN_PASSWORD"))
    assert settings.jwt_secret != settings.webhook_secret_whatsapp


def test_later_runs_keep_existing_secrets_and_fill_in_missing_ones(tmp_path):
    path = tmp_path / "secrets.env"
    ensure_secrets(path, CHANNELS)
    first = read_secrets_file(str(path))
    assert ensure_secrets(path, CHANNELS) == []
    assert read_secrets_file(str(path)) == first
    path.write_text("".join(f"{k}={v}\n" for k, v in first.items() if k != "JWT_SECRET"))
    path.chmod(0o644)
    assert ensure_secrets(path, CHANNELS) == ["JWT_SECRET"]
    again = read_secrets_file(str(path))
    assert again["JWT_SECRET"] and again["JWT_SECRET"] != first["JWT_SECRET"]
    assert {k: v for k, v in again.items() if k != "JWT_SECRET"} == {
        k: v for k, v in first.items() if k != "JWT_SECRET"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_two_machines_never_share_secrets(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    ensure_secrets(a, CHANNELS)
    ensure_secrets(b, CHANNELS)
    assert set(read_secrets_file(str(a)).values()).isdisjoint(read_secrets_file(str(b)).values())


def test_values_from_the_environment_replace_the_files_for_rotation(tmp_path):
    path = tmp_path / "secrets.env"
    ensure_secrets(path, CHANNELS)
    first = read_secrets_file(str(path))
    rotated = "r" * 40
    assert ensure_secrets(path, CHANNELS, {"JWT_SECRET": rotated, "WEBHOOK_SECRET_WHATSAPP": "",
                                           "UNRELATED": "x"}) == []
    after = read_secrets_file(str(path))
    assert after["JWT_SECRET"] == rotated and "UNRELATED" not in after
    assert after["WEBHOOK_SECRET_WHATSAPP"] == first["WEBHOOK_SECRET_WHATSAPP"]


def test_init_secrets_refuses_a_short_or_default_value_from_the_environment_and_writes_nothing(
        tmp_path, monkeypatch):
    from click.testing import CliRunner

    from chat4all_app.cli import main

    path = tmp_path / "secrets.env"
    for var, value, why in (("JWT_SECRET", "tooshort", "8 bytes long"),
                            ("S3_ROOT_USER", "minioadmin", "well-known default")):
        monkeypatch.delenv("CHAT4ALL_SECRETS_FILE", raising=False)
        result = CliRunner().invoke(main, ["init-secrets", str(path)], env={var: value})
        assert result.exit_code == 1, result.output
        assert f"refusing to write {path}: {var} is" in result.output and why in result.output
        assert not path.exists()
    result = CliRunner().invoke(main, ["init-secrets", str(path)], env={"JWT_SECRET": "x" * 40})
    assert result.exit_code == 0, result.output
    assert read_secrets_file(str(path))["JWT_SECRET"] == "x" * 40
