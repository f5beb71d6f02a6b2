"""The production-on-one-machine path: Dockerfile, docker-compose.yml, Grafana provisioning.

No Docker engine runs where these tests run, so the files are validated, not started:
the compose file by Debian's ``docker-compose config -q`` (which checks it against the
Compose schema and interpolates variables; `.ci/run` installs it), plus the project's own invariants
(commands are real ``ioc`` subcommands, healthchecks, documented variables, datasource uid).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml

from ioc.config import EmbeddedSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
DATASOURCE_FILE = PROVISIONING / "datasources" / "ioc.yaml"
DASHBOARD_PROVIDER_FILE = PROVISIONING / "dashboards" / "ioc.yaml"

OUR_IMAGE_PREFIX = "ioc-monitor:"
SERVICES_WITH_HEALTHCHECK = (
    "kafka",
    "timescaledb",
    "grafana",
    "api",
    "streams",
    "alerts",
    "http-ingest",
)
SETUP = ("topics", "migrate", "grafana-role")
PROCESSES = ("api", "streams", "alerts", "http-ingest")
SIMULATED_FEEDS = ("camera-sim", "dvc-sim", "payment-sim", "network-sim", "feedback-sim")
HEALTH_PORT = "9464"

# `${VAR:?message}` and `${VAR?message}`: compose refuses to start without VAR.
_REQUIRED_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?[^}]*\}")


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


def _services() -> dict[str, dict[str, Any]]:
    services = _compose().get("services")
    assert isinstance(services, dict) and services, "docker-compose.yml has no services"
    return services


def _required_vars() -> set[str]:
    return set(_REQUIRED_VAR.findall(COMPOSE_FILE.read_text(encoding="utf-8")))


def _builds_our_image(service: dict[str, Any]) -> bool:
    build = service.get("build")
    if build is not None:
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        if (ROOT / context).resolve() == ROOT and dockerfile == "Dockerfile":
            return True
    return str(service.get("image", "")).startswith(OUR_IMAGE_PREFIX)


def _command_words(command: Any) -> list[str]:
    if isinstance(command, str):
        return shlex.split(command)
    assert isinstance(command, list), f"command must be a string or a list, not {command!r}"
    return [str(word) for word in command]


def _ioc_cli() -> Any:
    """The `ioc` command tree as click sees it (typer app -> click command group).

    Recent typer releases ship their own copy of click (``typer._click``) whose group class
    does not derive from ``click.Group``, so groups are recognised by their click interface
    (``get_command`` and ``list_commands``) rather than by class.
    """
    typer_main = pytest.importorskip("typer.main")
    cli = importlib.import_module("ioc.cli")
    root = typer_main.get_command(cli.app)
    # The sub-commands `ioc` adds from the ioc.commands entry points at start (ioc.cli.main).
    for point in entry_points(group=cli.COMMAND_GROUP):
        root.add_command(typer_main.get_command(point.load()), point.name)
    return root


def _is_group(command: Any) -> bool:
    return callable(getattr(command, "get_command", None)) and callable(
        getattr(command, "list_commands", None)
    )


def _resolve(root: Any, words: list[str]) -> list[str]:
    """Walk `words` down the command tree with ``Group.get_command``; return the path found.

    Fails when a word before the first option names no subcommand, or when the path stops on
    a group (which would only print its help and exit).
    """
    ctx = root.context_class(root, info_name="ioc")
    command = root
    path: list[str] = []
    for word in words:
        if word.startswith("-") or not _is_group(command):
            break
        sub = command.get_command(ctx, word)
        here = " ".join(["ioc", *path])
        known = sorted(command.list_commands(ctx))
        assert sub is not None, f"`{here} {word}` is not a command; `{here}` has {known}"
        path.append(word)
        command = sub
        ctx = sub.context_class(sub, parent=ctx, info_name=word)
    runs_alone = getattr(command, "invoke_without_command", False)
    assert not _is_group(command) or runs_alone, (
        f"`ioc {' '.join(path)}` is a group, not a command: name one of its subcommands"
    )
    return path


# --- compose: schema and CLI -------------------------------------------------------------


CLI = ["docker-compose"]


def _require_cli() -> None:
    """Skip where Debian's docker-compose is missing, except in CI, which must validate."""
    if _usable(CLI):
        return
    message = "`docker-compose` is not installed (apt install docker-compose)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _usable(cli: list[str]) -> bool:
    if shutil.which(cli[0]) is None:
        return False
    try:
        probe = subprocess.run(
            [*cli, "version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _compose_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    for name in _required_vars():
        env[name] = f"dummy-{name.lower().replace('_', '-')}"
    env.update(overrides)
    return env


def test_compose_config_is_accepted_by_the_compose_cli(tmp_path: Path) -> None:
    """With .env.example as the .env every service reads (env_file), the file is valid."""
    _require_cli()
    cli = CLI
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    result = subprocess.run(
        [*cli, "-f", str(COMPOSE_FILE), "--project-directory", str(tmp_path), "config", "-q"],
        cwd=ROOT,
        env=_compose_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(cli)} config -q failed:\n{result.stderr}"


def test_compose_cli_refuses_to_run_without_the_required_secrets(tmp_path: Path) -> None:
    _require_cli()
    cli = CLI
    env = _compose_env()
    for name in _required_vars():
        env.pop(name)
    # An empty directory as project dir, so a developer's own .env cannot fill the gaps.
    result = subprocess.run(
        [*cli, "-f", str(COMPOSE_FILE), "--project-directory", str(tmp_path), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "in .env" in result.stdout + result.stderr


# --- compose: the project's invariants ---------------------------------------------------


def test_compose_uses_required_variable_form_for_secrets() -> None:
    assert {"IOC_DB_PASSWORD", "IOC_GRAFANA_DB_PASSWORD", "GRAFANA_ADMIN_PASSWORD"} <= (
        _required_vars()
    )


def _ours() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in _services().items() if _builds_our_image(svc)}


def test_our_services_run_real_ioc_subcommands() -> None:
    ours = _ours()
    assert {*SETUP, *PROCESSES, *SIMULATED_FEEDS} <= set(ours), f"our image: {sorted(ours)}"
    root = _ioc_cli()
    for name, service in ours.items():
        assert "command" in service, f"service {name!r} relies on the image's CMD (--help)"
        words = _command_words(service["command"])
        assert words, f"service {name!r} has an empty command"
        assert words[0] != "ioc", f"service {name!r}: the entrypoint is already `ioc`"
        # One process per service, logging to stdout: never the embedded supervisor.
        assert words != ["up"], f"service {name!r} runs `ioc up`; run each process instead"
        _resolve(root, words)
        test = (service.get("healthcheck") or {}).get("test")
        if isinstance(test, list) and test[:2] in (["CMD", "ioc"], ["CMD-SHELL", "ioc"]):
            probe = test[2:] if test[0] == "CMD" else shlex.split(test[1])[1:]
            _resolve(root, probe)


def test_expected_commands_for_setup_and_processes() -> None:
    services = _services()
    assert _command_words(services["topics"]["command"]) == ["kafka", "topics"]
    assert _command_words(services["migrate"]["command"]) == ["db", "migrate"]
    assert _command_words(services["grafana-role"]["command"]) == ["dashboards", "db-role"]
    for name in SETUP:
        assert services[name].get("restart") == "no", name
    for name in (*PROCESSES, *SIMULATED_FEEDS):
        depends = services[name]["depends_on"]
        for setup in ("topics", "migrate"):
            assert depends[setup]["condition"] == "service_completed_successfully", name
        assert services[name]["restart"] == "unless-stopped", name
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_services_cover_every_component_ioc_up_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What `ioc up` runs (the `ioc.components` entry points, default settings) has a service
    each; the simulated feeds only under the `demo` profile."""
    from ioc.config import load_settings
    from ioc.stack import component_specs

    for name in list(os.environ):
        if name.startswith("IOC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer's .env
    settings = load_settings()
    assert set(settings.connectors.run) == set(SIMULATED_FEEDS)

    def path(words: list[str]) -> list[str]:
        return [w for w in words[: next((i for i, w in enumerate(words) if w[:1] == "-"), None)]]

    deployed = {name: path(_command_words(svc["command"])) for name, svc in _ours().items()}
    for spec in component_specs(settings, {}):
        words = spec.argv[spec.argv.index("ioc") + 1 :]
        found = [name for name, p in deployed.items() if p == path(words)]
        assert found, f"`ioc up` runs {spec.name} (ioc {' '.join(words)}); no service does"
    for name, service in _ours().items():
        demo = name in SIMULATED_FEEDS
        assert (service.get("profiles") == ["demo"]) is demo, f"{name}: profiles"


def test_images_are_the_versions_the_tests_run() -> None:
    services = _services()
    # The TimescaleDB test tier is 2.23 on PostgreSQL 17 (README, "Tests").
    assert re.fullmatch(r"timescale/timescaledb:2\.23\.\d+-pg17", services["timescaledb"]["image"])
    # grafana/grafana-oss is no longer updated from 12.4; grafana/grafana is the same image.
    grafana, _, version = services["grafana"]["image"].partition(":")
    assert grafana == "grafana/grafana" and int(version.split(".")[0]) >= 12
    # The broker the integration tests and `ioc up` start (ioc.embedded.kafka), to the patch.
    kafka, _, version = services["kafka"]["image"].partition(":")
    assert kafka == "apache/kafka" and version == EmbeddedSettings().kafka_version


@pytest.mark.parametrize("name", SERVICES_WITH_HEALTHCHECK)
def test_service_has_a_healthcheck(name: str) -> None:
    healthcheck = _services()[name].get("healthcheck")
    assert isinstance(healthcheck, dict), f"service {name!r} has no healthcheck"
    assert not healthcheck.get("disable", False)
    test = healthcheck.get("test")
    assert test, f"service {name!r}: healthcheck has no test"
    if isinstance(test, list):
        assert test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1


def test_processes_are_checked_on_their_own_port_without_starting_python() -> None:
    services = _services()
    for name in (*PROCESSES, *SIMULATED_FEEDS):
        test = services[name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "bash", "-c"], f"{name}: {test}"
        port = "8000" if name == "api" else HEALTH_PORT
        assert f"/dev/tcp/127.0.0.1/{port}" in test[3] and "GET /healthz" in test[3], name
        assert services[name]["environment"]["IOC_HEALTH_PORT"] == HEALTH_PORT, name


def test_depends_on_healthy_only_on_services_with_healthchecks() -> None:
    services = _services()
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            continue
        for dep, spec in depends.items():
            assert dep in services, f"{name} depends on unknown service {dep!r}"
            if spec.get("condition") == "service_healthy":
                assert "healthcheck" in services[dep], (
                    f"{name} waits for {dep} to be healthy, but {dep} has no healthcheck"
                )


def test_ioc_services_share_the_production_environment() -> None:
    services = _services()
    for name, service in _ours().items():
        assert service.get("env_file") == ".env", f"{name}: .env must reach the container"
        env = service["environment"]
        assert isinstance(env, dict)
        assert env["IOC_ENVIRONMENT"] == "production"
        assert env["IOC_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["IOC_DATABASE_URL"].startswith("postgresql://ioc:${IOC_DB_PASSWORD:?")
        assert env["IOC_DATABASE_URL"].endswith("@timescaledb:5432/ioc")
        assert env["IOC_LOG_FORMAT"] == "json"
        assert env["IOC_STATE_DIR"] == "/var/lib/ioc"
        assert any(str(v).endswith(":/etc/ioc/province:ro") for v in service["volumes"]), name
    # ioc.config's api_host defaults to 127.0.0.1, unreachable through a published port.
    assert services["api"]["environment"]["IOC_API_HOST"] == "0.0.0.0"
    assert "8000:8000" in services["api"]["ports"]
    # A 202 from http-ingest means fsynced in the spool: it must be on a volume.
    assert "ingest-state:/var/lib/ioc" in services["http-ingest"]["volumes"]
    assert services["timescaledb"]["environment"]["POSTGRES_USER"] == "ioc"
    assert services["timescaledb"]["environment"]["POSTGRES_DB"] == "ioc"


def test_named_volumes_are_declared() -> None:
    declared = set((_compose().get("volumes") or {}).keys())
    for name, service in _services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            # A path, or a ${VARIABLE:-./default} path chosen in .env.
            if not source.startswith((".", "/", "~", "${")):
                assert source in declared, f"{name} uses undeclared volume {source!r}"


def test_every_required_variable_is_documented_in_env_example() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\s*#?\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", text, re.M))
    missing = sorted(_required_vars() - documented)
    assert not missing, f".env.example does not document {missing}"


# --- Dockerfile ---------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    # Docker drops comment lines first, even inside a continued instruction.
    joined = re.sub(r"\\\n", " ", "\n".join(ln for ln in lines if not ln.lstrip().startswith("#")))
    instructions = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        keyword, _, rest = stripped.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"expected the exec (JSON array) form, got {args!r}"
    return [str(v) for v in value]


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "Dockerfile has no FROM"
    return instructions[starts[-1] :]


def test_dockerfile_entrypoint_is_ioc() -> None:
    final = _final_stage(_dockerfile_instructions())
    entrypoints = [args for keyword, args in final if keyword == "ENTRYPOINT"]
    assert entrypoints, "the final stage has no ENTRYPOINT"
    assert _exec_form(entrypoints[-1]) == ["ioc"]
    cmds = [args for keyword, args in final if keyword == "CMD"]
    assert cmds and _exec_form(cmds[-1]) == ["--help"]


def test_dockerfile_runs_as_non_root_on_python_311_slim() -> None:
    instructions = _dockerfile_instructions()
    final = _final_stage(instructions)
    users = [args for keyword, args in final if keyword == "USER"]
    assert users, "the final stage has no USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    args = dict(
        arg.split("=", 1) for keyword, arg in instructions if keyword == "ARG" and "=" in arg
    )
    for keyword, rest in instructions:
        if keyword == "FROM":
            image = rest.split()[0]
            image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), image)
            assert image.startswith("python:3.11-slim"), f"unexpected base image {image!r}"


def test_dockerfile_installs_the_project_without_the_embedded_extra() -> None:
    runs = " ".join(args for keyword, args in _dockerfile_instructions() if keyword == "RUN")
    assert re.search(r"pip install\b[^&;]*\s\.(\s|$)", runs), (
        "the project is not `pip install .`-ed"
    )
    assert "[embedded]" not in runs and ".[" not in runs


def test_dockerignore_keeps_the_context_clean() -> None:
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".venv", ".ioc", "build", ".git", "test-artifacts", ".env"):
        assert needed in patterns, f".dockerignore does not exclude {needed}"
    assert any("egg-info" in p for p in patterns)
    assert any("__pycache__" in p for p in patterns)
    for kept in ("connectors", "streams", "dashboards", "ioc"):
        assert kept not in patterns, f".dockerignore drops {kept}/, which the build needs"


# --- Grafana provisioning -----------------------------------------------------------------


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} must be a mapping"
    return data


def test_provisioning_files_parse() -> None:
    files = sorted(PROVISIONING.rglob("*.y*ml"))
    assert DATASOURCE_FILE in files and DASHBOARD_PROVIDER_FILE in files
    for path in files:
        assert _yaml(path).get("apiVersion") == 1, f"{path}: apiVersion must be 1"


def test_datasource_is_the_read_only_timescaledb_role() -> None:
    (datasource,) = _yaml(DATASOURCE_FILE)["datasources"]
    assert datasource["uid"] == "ioc-timescaledb"
    assert datasource["type"] == "grafana-postgresql-datasource"
    assert datasource["url"] == "timescaledb:5432"
    assert datasource["user"] == "ioc_grafana"
    json_data = datasource["jsonData"]
    assert json_data["database"] == "ioc"
    assert json_data["sslmode"] == "disable"
    assert json_data["timescaledb"] is True
    assert json_data["postgresVersion"] == 1700  # timescale/timescaledb:2.23.x-pg17
    password = datasource["secureJsonData"]["password"]
    match = re.fullmatch(r"\$\{?(\w+)\}?", password)
    assert match, "the datasource password must come from the environment"
    grafana_env = _services()["grafana"]["environment"]
    assert match.group(1) in grafana_env, f"grafana's environment lacks {match.group(1)}"
    assert match.group(1) in _required_vars()


def test_dashboard_provider_reads_the_mounted_dashboards() -> None:
    (provider,) = _yaml(DASHBOARD_PROVIDER_FILE)["providers"]
    assert provider["name"] == "IOC"
    assert provider["folder"] == "IOC"
    assert provider["type"] == "file"
    assert provider["allowUiUpdates"] is False
    assert provider["options"]["foldersFromFilesStructure"] is False
    grafana = _services()["grafana"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in grafana["volumes"]}
    assert mounts[provider["options"]["path"]] == "./dashboards/json"
    assert mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    assert grafana["environment"]["GF_DATE_FORMATS_DEFAULT_TIMEZONE"] == "Asia/Ho_Chi_Minh"
