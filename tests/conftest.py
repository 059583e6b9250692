import pytest

from chat4all_app.settings import Settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()
