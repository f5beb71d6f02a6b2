"""Feeds: connector processes that publish events to Kafka (imported as `ioc.connectors`)."""
