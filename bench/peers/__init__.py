"""The same windowed aggregation as the stream worker, written idiomatically in each peer.

Each module runs as a subprocess: `python -m bench.peers.<name> CONFIG.json`, and reports its
progress to the file named in the config (`bench.peers._common.Report`).
"""
