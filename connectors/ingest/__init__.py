"""Real feeds without Python: JSON records mapped to envelopes by YAML mapping files.

- `ioc.connectors.ingest.mapping`: the mapping file format, its load-time checks and
  `Mapping.apply` (re-exported here).
- `ioc.connectors.ingest.jsonl`: `JsonLinesConnector` follows JSON Lines files.
- `ioc.connectors.ingest.http`: `HttpIngestConnector` accepts records over HTTP POST.

The connectors are not imported here, so that reading files does not load the web server.
"""

from ioc.connectors.ingest.mapping import Mapping, MappingError, load_mapping

__all__ = ["Mapping", "MappingError", "load_mapping"]
