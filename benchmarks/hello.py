"""The reference ceiling: a bare aiohttp server answering like POST /v1/messages, doing no work.

    python -m benchmarks.hello --port 18099

Same Python, same aiohttp, same JSON response shape and status as the API: the ratio
api/hello tells what our own work (auth, validation, Kafka ack, logging, metrics) costs.
"""

from __future__ import annotations

import argparse
import uuid

from aiohttp import web


async def accept(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"message_id": str(uuid.uuid4()), "status": "ACCEPTED"}, status=202)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18099)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_post("/v1/messages", accept)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
