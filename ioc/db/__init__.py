"""Database access: connections that honour `IOC_DATABASE__SSLMODE`, and versioned migrations."""

from ioc.db._connect import connect, connect_kwargs, create_pool, database_health
from ioc.db._migrate import MigrationError, applied_migrations, migrate, sync_areas

__all__ = [
    "MigrationError",
    "applied_migrations",
    "connect",
    "connect_kwargs",
    "create_pool",
    "database_health",
    "migrate",
    "sync_areas",
]
