"""The HTTP API and the built-in live board (`ioc api`, started by `ioc up`).

- :mod:`ioc.api.app`: the FastAPI application (``create_app``), security headers, the board;
- :mod:`ioc.api.routers`: the ``/api/v1`` endpoints and ``/metrics``, one module per resource;
- :mod:`ioc.api.queries`: the SQL layer, one module per resource, shared by the routers and
  the live stream (routers write no SQL);
- :mod:`ioc.api.context` and :mod:`ioc.api.deps`: the process's typed state and the
  dependencies (``Ctx``, ``Reader``, ``Evaluator``, ``LiveHub``…) routers ask for;
- :mod:`ioc.api.security` and :mod:`ioc.api.keys`: keys, roles, area scope, limits, audit;
- :mod:`ioc.api.live`: the server-sent events hub;
- :mod:`ioc.api.dead_letters`: the DLQ index and replay;
- :mod:`ioc.api.metrics`: what ``/metrics`` reports;
- ``board/``: the board's sources (npm) and the built files it serves (``board/dist``).
"""

from ioc.api.app import create_app

__all__ = ["create_app"]
