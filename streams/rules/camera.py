"""Camera rules: heartbeats and AI detections.

The schema already bounds counts, confidence and intervals; a camera event has no rule that
spans fields or needs the event time, so only the shared checks apply.
"""

from __future__ import annotations

from ioc.streams.rules import FeedRules

RULES = FeedRules(feed="camera")
