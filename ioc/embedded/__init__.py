"""The embedded stack: Apache Kafka and PostgreSQL run by the project itself."""
