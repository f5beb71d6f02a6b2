"""Stream processing: workers counting events into event-time windows (`ioc.streams`).

See `worker.py` for the design, `agents/` for the per-feed rules, `sink.py` for the database.
"""
