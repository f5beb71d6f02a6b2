"""The HTTP API and the built-in live board (`ioc api`, started by `ioc up`).

- :mod:`ioc.api.app`: the FastAPI application (``create_app``), security headers, the board;
- :mod:`ioc.api.routes`: the ``/api/v1`` endpoints and ``/metrics``;
- :mod:`ioc.api.security` and :mod:`ioc.api.keys`: keys, roles, area scope, limits, audit;
- :mod:`ioc.api.queries`: the reads, shared by the endpoints and the live stream;
- :mod:`ioc.api.live`: the server-sent events hub;
- :mod:`ioc.api.dead_letters`: the DLQ index and replay;
- ``board/``: the board's sources (npm) and the built files it serves (``board/dist``).
"""

from ioc.api.app import create_app

__all__ = ["create_app"]
