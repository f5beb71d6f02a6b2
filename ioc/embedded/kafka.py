"""Apache Kafka for the embedded stack: the same broker as production, one KRaft node.

The broker's jars are resolved from Maven Central with `mvn` (the pom next to this module)
into a cache shared by every checkout; storage is formatted once under the state directory,
so a restart keeps every event.
"""

from __future__ import annotations

import base64
import fcntl
import re
import shutil
import socket
import subprocess
import uuid
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from ioc.embedded.process import EmbeddedError, ProcessSpec

__all__ = ["KafkaNode", "free_port", "port_open"]

HOST = "127.0.0.1"
MIN_JAVA = 17

_SERVER_PROPERTIES = """\
# Written by ioc-monitor on every start; edit IOC_EMBEDDED__* settings instead.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@{host}:{controller_port}
listeners={protocol}://{host}:{port},CONTROLLER://{host}:{controller_port}
advertised.listeners={protocol}://{host}:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name={protocol}
listener.security.protocol.map={protocol}:{protocol},CONTROLLER:PLAINTEXT
log.dirs={data_dir}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=300000
"""

# Kafka 4 logs through Log4j 2 (the Log4j 1 `log4j.properties` of 3.x is ignored there).
# `status = error` keeps Log4j's own notes out of the log: on every stop it warned that its
# shutdown hook could not be registered while the JVM was already shutting down.
_LOG4J2 = """\
status = error
appender.stdout.type = Console
appender.stdout.name = stdout
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = stdout
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = INFO
"""

_INSTALL_HINT = (
    "Install Java 17+ and Maven (Debian: `apt install openjdk-17-jre-headless maven`), "
    "or point at an existing broker with IOC_KAFKA_BOOTSTRAP=host:9092, "
    "or run the production stack with `docker compose up`."
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = HOST) -> bool:
    """True when something accepts connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _cluster_id() -> str:
    """A random KRaft cluster id, as `kafka-storage random-uuid` makes them.

    Like Kafka's own Uuid.randomUuid, never one starting with '-': command-line parsers
    would take it for an option (seen here: 1 format in 64 failed before this).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def _java_major(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8" means Java 8


class KafkaNode:
    """One KRaft broker+controller on 127.0.0.1 with its data under `state_dir`.

    Args:
        state_dir: the stack's state directory; data goes to `state_dir/kafka`.
        cache_dir: where resolved jars are kept (shared between checkouts).
        version: Apache Kafka 4.x version on Maven Central (`kafka_2.13`).
        port: client port; 0 picks a free one.
        controller_port: KRaft controller port; 0 picks a free one.
        sasl_users: when given, clients must log in with SASL/PLAIN as one of these
            (user → password), as on a secured production cluster.
        properties: extra server.properties lines; later lines win (tests shorten
            `log.retention.check.interval.ms` to watch retention act).
    """

    def __init__(
        self,
        state_dir: Path,
        cache_dir: Path,
        *,
        version: str = "4.1.1",
        port: int = 9092,
        controller_port: int = 0,
        sasl_users: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        self.home = state_dir.resolve() / "kafka"
        self.data_dir = self.home / "data"
        self.libs_dir = cache_dir.expanduser().resolve() / f"kafka-{version}" / "libs"
        self.version = version
        self.port = port or free_port()
        self.controller_port = controller_port or free_port()
        self.sasl_users = dict(sasl_users or {})
        self.properties = dict(properties or {})

    def _security_config(self) -> tuple[str, str]:
        """The client listener's protocol and any extra broker lines for it."""
        if not self.sasl_users:
            return "PLAINTEXT", ""
        broker_user, broker_password = next(iter(self.sasl_users.items()))
        users = " ".join(f'user_{name}="{password}"' for name, password in self.sasl_users.items())
        return "SASL_PLAINTEXT", (
            "sasl.enabled.mechanisms=PLAIN\n"
            "sasl.mechanism.inter.broker.protocol=PLAIN\n"
            "listener.name.sasl_plaintext.plain.sasl.jaas.config="
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="{broker_user}" password="{broker_password}" {users};\n'
        )

    @property
    def bootstrap(self) -> str:
        """The address clients connect to."""
        return f"{HOST}:{self.port}"

    def check_prerequisites(self) -> str:
        """Find Java 17+ (and mvn, when the jars are not cached yet); returns the java path.

        Raises:
            EmbeddedError: something is missing; the message says what to install.
        """
        java = shutil.which("java")
        if java is None:
            raise EmbeddedError(
                f"The embedded Kafka needs Java {MIN_JAVA}+ and `java` is not on PATH. "
                + _INSTALL_HINT
            )
        major = _java_major(java)
        if major < MIN_JAVA:
            raise EmbeddedError(
                f"The embedded Kafka needs Java {MIN_JAVA}+, found Java {major} at {java}. "
                + _INSTALL_HINT
            )
        if not self.provisioned() and shutil.which("mvn") is None:
            raise EmbeddedError(
                f"The embedded Kafka {self.version} is not cached yet and `mvn` is not on PATH "
                f"to fetch it from Maven Central. {_INSTALL_HINT}"
            )
        return java

    def provisioned(self) -> bool:
        """True when the jars are in the cache."""
        return (self.libs_dir / f"kafka_2.13-{self.version}.jar").is_file()

    def provision(self) -> None:
        """Resolve the broker's jars from Maven Central into the cache (once; ~43 MB).

        Raises:
            EmbeddedError: Maven failed; the message carries its output.
        """
        if self.provisioned():
            return
        self.libs_dir.parent.mkdir(parents=True, exist_ok=True)
        # Two first runs at once (tests, a user) must not write the same folder.
        with (self.libs_dir.parent / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.provisioned():
                return
            pom = self.libs_dir.parent / "pom.xml"
            template = resources.files("ioc.embedded").joinpath("kafka-pom.xml").read_text("utf-8")
            pom.write_text(template.replace("@KAFKA_VERSION@", self.version), encoding="utf-8")
            staging = self.libs_dir.with_name("libs.partial")
            shutil.rmtree(staging, ignore_errors=True)
            result = subprocess.run(
                [
                    "mvn",
                    "-q",
                    "-B",
                    "-f",
                    str(pom),
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={staging}",
                    "-DincludeScope=runtime",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise EmbeddedError(
                    f"Maven could not resolve Apache Kafka {self.version} from Maven Central "
                    f"(exit {result.returncode}):\n{(result.stdout + result.stderr)[-2000:]}\n"
                    f"Check network access to repo.maven.apache.org, or set IOC_KAFKA_BOOTSTRAP."
                )
            staging.rename(self.libs_dir)

    def _java_cmd(self, java: str, main: str, heap: str = "256m") -> list[str]:
        return [
            java,
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.home / 'logs'}",
            "-cp",
            f"{self.libs_dir}/*",
            main,
        ]

    def prepare(self, heap: str = "512m") -> ProcessSpec:
        """Write the config, format storage on first use, and describe the broker process.

        Raises:
            EmbeddedError: a port is taken, Java is missing, or formatting failed.
        """
        java = self.check_prerequisites()
        self.provision()
        for port, variable in (
            (self.port, "IOC_EMBEDDED__KAFKA_PORT"),
            (self.controller_port, "IOC_EMBEDDED__KAFKA_CONTROLLER_PORT"),
        ):
            if port_open(port):
                raise EmbeddedError(
                    f"Port {port} on {HOST} is already in use, so the embedded Kafka cannot listen "
                    f"there. Stop what uses it, or set {variable} to a free port (0 picks one)."
                )
        self.home.mkdir(parents=True, exist_ok=True)
        config = self.home / "server.properties"
        protocol, security = self._security_config()
        config.write_text(
            _SERVER_PROPERTIES.format(
                host=HOST,
                port=self.port,
                controller_port=self.controller_port,
                data_dir=self.data_dir,
                protocol=protocol,
            )
            + security
            + "".join(f"{key}={value}\n" for key, value in self.properties.items()),
            encoding="utf-8",
        )
        (self.home / "log4j2.properties").write_text(_LOG4J2, encoding="utf-8")
        if not (self.data_dir / "meta.properties").exists():
            cluster_id = _cluster_id()
            result = subprocess.run(
                [
                    *self._java_cmd(java, "kafka.tools.StorageTool"),
                    "format",
                    f"--cluster-id={cluster_id}",
                    "-c",
                    str(config),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise EmbeddedError(
                    f"Formatting Kafka storage in {self.data_dir} failed:\n"
                    + result.stdout
                    + result.stderr
                )
        return ProcessSpec(
            name="kafka",
            argv=[*self._java_cmd(java, "kafka.Kafka", heap), str(config)],
            ready=lambda: port_open(self.port),
            address=self.bootstrap,
        )
