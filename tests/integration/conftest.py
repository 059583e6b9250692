import aiohttp
import pytest

from tests.integration.api_client import Api


@pytest.fixture
async def api():
    async with aiohttp.ClientSession() as http:
        yield Api(http)
