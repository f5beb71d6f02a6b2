"""Stream processing: workers counting events into event-time windows (`ioc.streams`).

See `worker.py` for the design, `rules/` for the per-feed validation rules, `sink.py` for the
database.
"""

# The folder is importable from the repository root under its bare name too, and that would
# load a second copy of every module (a second, distinct class for every rule type).
if __name__ != "ioc.streams":
    raise ImportError(
        f"import ioc.streams, not {__name__}: the folder streams/ is the package "
        'ioc.streams (README, "Folders and import names")'
    )
