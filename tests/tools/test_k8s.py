"""The Kubernetes manifests in deploy/k8s (`kubectl apply -k deploy/k8s`).

No cluster runs where these tests run, so the manifests are checked, not applied: they parse,
name themselves and their namespace, the kustomization lists them, their settings are real
``ioc.config`` settings that load, every container runs a real ``ioc`` subcommand of the image
(whose entrypoint is ``ioc``) as a non-root user with probes and resources, and the stream
workers stay within the partition count. Where `kubernetes-validate` (PyPI; it bundles the
Kubernetes JSON schemas, so it works offline) is installed, every object is also checked
against the Kubernetes API schema; where `kubectl` is, `kubectl kustomize` must build the lot.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from ioc.config import ConfigError, Environment, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ROOT / "deploy" / "k8s-overlays"
DEMO = OVERLAYS / "demo"
STRIMZI = OVERLAYS / "strimzi"
MONITORING = OVERLAYS / "monitoring"
KUSTOMIZATION = K8S / "kustomization.yaml"
SECRET_EXAMPLE = K8S / "secret.example.yaml"
README = K8S / "README.md"

NAMESPACE = "ioc"
CONFIGMAP = "ioc-config"
SECRET = "ioc-secrets"
STATE_DIR = "/var/lib/ioc"
STREAMS = "ioc-streams"
API = "ioc-api"
HTTP_INGEST = "ioc-http-ingest"
ALERTS = "ioc-alerts"
SIMULATED_FEEDS = ("camera-sim", "dvc-sim", "payment-sim", "network-sim", "feedback-sim")
PROVINCE = "ioc-province"
PROVINCE_DIR = "/etc/ioc/province"
# The oldest Kubernetes minor the manifests are checked against (kubernetes-validate).
KUBERNETES_VERSION = "1.29.0"

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


# --- loading ------------------------------------------------------------------------------


def _load(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """(file name, object) for every object of the manifests in `folder` (no kustomization)."""
    found = []
    for path in sorted(folder.glob("*.y*ml")):
        if path.name == KUSTOMIZATION.name:
            continue
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as err:
            pytest.fail(f"{path.name} is not valid YAML: {err}")
        for doc in docs:
            if doc is None:  # a comment-only document
                continue
            assert isinstance(doc, dict), f"{path.name}: a document is not a mapping: {doc!r}"
            name = path.name if folder == K8S else f"{folder.name}/{path.name}"
            found.append((name, doc))
    assert found, f"no manifests in {folder}"
    return found


@functools.cache
def _manifests() -> tuple[tuple[str, dict[str, Any]], ...]:
    """(file name, object) for every object of every manifest, the secret example included.

    The demo overlay's simulators (plain Kubernetes objects, "demo/…") are checked with the
    base; the Strimzi and Prometheus Operator resources have tests of their own.
    """
    return (*_load(K8S), *_load(DEMO))


def _base(file: str) -> bool:
    return not file.startswith(f"{DEMO.name}/")


def _where(file: str, obj: dict[str, Any]) -> str:
    return f"{file}: {obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def _applied() -> list[tuple[str, dict[str, Any]]]:
    """The objects `kubectl apply -k` creates (everything but the secret example)."""
    return [(f, o) for f, o in _manifests() if f != SECRET_EXAMPLE.name]


def _one(kind: str, name: str) -> tuple[str, dict[str, Any]]:
    matches = [(f, o) for f, o in _manifests() if o["kind"] == kind and _name(o) == name]
    assert len(matches) == 1, f"expected one {kind}/{name} in {K8S}, found {len(matches)}"
    return matches[0]


def _name(obj: dict[str, Any]) -> str:
    return str(obj["metadata"]["name"])


def _config() -> dict[str, Any]:
    return dict(_one("ConfigMap", CONFIGMAP)[1].get("data") or {})


def _secret_example() -> dict[str, Any]:
    secret = _one("Secret", SECRET)[1]
    return {**(secret.get("data") or {}), **(secret.get("stringData") or {})}


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def _workloads() -> list[tuple[str, dict[str, Any]]]:
    """(where, object) for every object that runs pods."""
    return [(_where(f, o), o) for f, o in _applied() if o["kind"] in WORKLOAD_KINDS]


def _containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(where, container, workload) for every container, init containers included."""
    for where, obj in _workloads():
        pod = _pod_spec(obj)
        for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
            yield f"{where} container {container.get('name')!r}", container, obj


def _probes(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    kinds = ("startupProbe", "livenessProbe", "readinessProbe")
    return {kind: container[kind] for kind in kinds if kind in container}


def _options(args: list[str]) -> dict[str, str]:
    """The connector options (`-o KEY=VALUE` / `--option KEY=VALUE`) in `args`."""
    found = {}
    for flag, value in itertools.pairwise(args):
        if flag in ("-o", "--option"):
            key, _, val = value.partition("=")
            found[key] = val
    return found


def _project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def _documented() -> set[str]:
    """Variable names .env.example mentions, set or commented out (as test_compose reads it)."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    return set(re.findall(r"^\s*#?\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", text, re.M))


def _setting_names(model: type[BaseModel] = Settings, prefix: str = "IOC_") -> set[str]:
    """Every environment variable `ioc.config.Settings` reads, nested groups included."""
    names = set()
    for field, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names |= _setting_names(kind, f"{prefix}{field.upper()}__")
        else:
            names.add(f"{prefix}{field.upper()}")
    return names


# --- the `ioc` command tree ---------------------------------------------------------------


def _is_group(command: Any) -> bool:
    """Typer ships its own click, whose groups are recognised by interface, not by class."""
    return callable(getattr(command, "get_command", None)) and callable(
        getattr(command, "list_commands", None)
    )


@functools.cache
def _ioc_cli() -> Any:
    """`ioc` as `main()` builds it: the core app plus the `ioc.commands` entry points.

    Built as a fresh click group, so `ioc.cli.app` itself is left as it was.
    """
    typer_main = pytest.importorskip("typer.main")
    cli = importlib.import_module("ioc.cli")
    root = typer_main.get_command(cli.app)
    ctx = root.context_class(root, info_name="ioc")
    for point in entry_points(group=cli.COMMAND_GROUP):
        if root.get_command(ctx, point.name) is None:
            root.add_command(typer_main.get_command(point.load()), point.name)
    return root


def _lookup(words: tuple[str, ...]) -> Any | None:
    """The command at `words` below `ioc`, or None when there is none."""
    command = _ioc_cli()
    ctx = command.context_class(command, info_name="ioc")
    for word in words:
        if not _is_group(command):
            return None
        command = command.get_command(ctx, word)
        if command is None:
            return None
        ctx = command.context_class(command, parent=ctx, info_name=word)
    return command


def _command_problem(words: list[str]) -> str | None:
    """Why `ioc <words>` would not run, or None: words are resolved down the command tree and
    the rest parsed by the command's own parser (options, arguments), without running it."""
    root = _ioc_cli()
    ctx = root.context_class(root, info_name="ioc")
    command, path = root, ["ioc"]
    rest = list(words)
    while rest and _is_group(command) and not rest[0].startswith("-"):
        word = rest.pop(0)
        sub = command.get_command(ctx, word)
        if sub is None:
            known = sorted(command.list_commands(ctx))
            return f"`{' '.join(path)} {word}` is not a command; `{' '.join(path)}` has {known}"
        path.append(word)
        command = sub
        ctx = sub.context_class(sub, parent=ctx, info_name=word)
    if _is_group(command) and not getattr(command, "invoke_without_command", False):
        return f"`{' '.join(path)}` is a group, not a command: name one of its subcommands"
    try:
        parsed = command.make_context(path[-1], rest, parent=ctx.parent)
    except Exception as err:  # click's UsageError, from typer's own copy of click
        message = err.format_message() if hasattr(err, "format_message") else str(err)
        return f"`{' '.join(['ioc', *words])}`: {message}"
    connector = parsed.params.get("name")
    if path[1] == "connectors" and connector is not None:
        from ioc.connectors.registry import registered

        if connector not in registered():
            return f"`{' '.join(['ioc', *words])}`: no connector {connector!r} is registered"
    return None


def _commands() -> Iterator[tuple[str, list[str]]]:
    """(where, words after `ioc`) for every container's args and every exec probe."""
    for where, container, _ in _containers():
        yield f"{where} args", [str(w) for w in container.get("args", [])]
        for kind, probe in _probes(container).items():
            if "exec" in probe:
                command = [str(w) for w in probe["exec"]["command"]]
                assert command[:1] == ["ioc"], f"{where} {kind}: runs {command}, not `ioc ...`"
                yield f"{where} {kind}", command[1:]


# --- files, names, kustomization ----------------------------------------------------------


def test_every_object_names_its_kind_and_namespace() -> None:
    for file, obj in _manifests():
        where = _where(file, obj)
        for key in ("apiVersion", "kind", "metadata"):
            assert obj.get(key), f"{where}: no {key}"
        assert obj["metadata"].get("name"), f"{where}: no metadata.name"
        if obj["kind"] == "Namespace":
            assert _name(obj) == NAMESPACE, f"{where}: the namespace must be {NAMESPACE!r}"
        else:
            assert obj["metadata"].get("namespace") == NAMESPACE, (
                f"{where}: metadata.namespace must be {NAMESPACE!r}"
            )
    names = [(o["kind"], _name(o)) for _, o in _manifests()]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"objects defined twice in {K8S}: {duplicates}"


def test_kustomization_lists_exactly_the_manifests() -> None:
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))
    assert kustomization["kind"] == "Kustomization", f"{KUSTOMIZATION.name}: kind"
    listed = kustomization.get("resources") or []
    assert len(listed) == len(set(listed)), f"{KUSTOMIZATION.name} lists a file twice: {listed}"
    present = {p.name for p in K8S.glob("*.y*ml")} - {KUSTOMIZATION.name, SECRET_EXAMPLE.name}
    demo = yaml.safe_load((DEMO / KUSTOMIZATION.name).read_text(encoding="utf-8"))
    assert set(demo["resources"]) == {"../../k8s", "simulators.yaml"}, "demo overlay resources"
    assert set(listed) == present, (
        f"{KUSTOMIZATION.name} resources {sorted(listed)} != manifests present {sorted(present)}"
    )
    assert SECRET_EXAMPLE.name not in listed, "the secret example must never be applied"
    secrets = [_where(f, o) for f, o in _applied() if o["kind"] == "Secret"]
    assert not secrets, f"Secrets belong in {SECRET_EXAMPLE.name} (a template) only: {secrets}"


def test_readme_says_how_to_apply_and_what_must_exist() -> None:
    text = README.read_text(encoding="utf-8")
    for needed in (
        "kubectl apply -k deploy/k8s",
        "kubectl create secret generic",
        "Partitions bound parallelism",
        "IOC_KAFKA__PARTITIONS",
    ):
        assert needed in text, f"{README.name} does not mention {needed!r}"


# --- settings -----------------------------------------------------------------------------


def test_config_and_secret_keys_are_documented_settings() -> None:
    documented, settings = _documented(), _setting_names()
    keys = {f"{CONFIGMAP} key {k}": k for k in _config()}
    keys |= {f"{SECRET} key {k}": k for k in _secret_example()}
    for where, container, _ in _containers():
        for env in container.get("env", []):
            if env["name"].startswith("IOC_"):
                keys[f"{where} env {env['name']}"] = env["name"]
    for where, key in keys.items():
        assert key in settings, f"{where}: not a setting of ioc.config.Settings"
        assert key in documented, f"{where}: not documented in .env.example"
    for key, value in _config().items():
        assert isinstance(value, str), (
            f"{CONFIGMAP} key {key}: {value!r} must be quoted (ConfigMap data is text)"
        )


def test_config_and_secret_load_through_ioc_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in list(os.environ):
        if name.startswith("IOC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer's .env
    config, secret = _config(), _secret_example()
    for key, value in {**config, **secret}.items():
        monkeypatch.setenv(key, str(value))
    try:
        settings = load_settings()
    except ConfigError as err:
        pytest.fail(f"configmap.yaml + {SECRET_EXAMPLE.name} do not load: {err}")
    assert settings.environment is Environment.PRODUCTION, f"{CONFIGMAP}: IOC_ENVIRONMENT"
    assert str(settings.state_dir) == STATE_DIR, f"{CONFIGMAP}: IOC_STATE_DIR"
    assert settings.log_format == "json", f"{CONFIGMAP}: IOC_LOG_FORMAT"
    # ioc.config's api_host defaults to 127.0.0.1, which a Service cannot reach.
    assert settings.api_host == "0.0.0.0", f"{CONFIGMAP}: IOC_API_HOST"
    assert settings.kafka.replication_factor >= 3, f"{CONFIGMAP}: IOC_KAFKA__REPLICATION_FACTOR"


def test_secret_example_holds_only_placeholders() -> None:
    for key, value in _secret_example().items():
        assert "change-me" in str(value), (
            f"{SECRET_EXAMPLE.name} {key}: use an obvious placeholder (change-me), not a value"
        )


# --- containers ---------------------------------------------------------------------------


def test_every_container_runs_our_image_with_config_resources_and_probes() -> None:
    image = f"ioc-monitor:{_project_version()}"
    for where, container, workload in _containers():
        assert container.get("image") == image, f"{where}: image must be {image!r}"
        assert "command" not in container, f"{where}: set args; the entrypoint is already `ioc`"
        assert container.get("args"), f"{where}: no args (the image's CMD is --help)"
        sources = [
            (kind, ref[kind].get("name"))
            for ref in container.get("envFrom", [])
            for kind in ("configMapRef", "secretRef")
            if kind in ref
        ]
        for source in (("configMapRef", CONFIGMAP), ("secretRef", SECRET)):
            assert source in sources, f"{where}: envFrom lacks {source[0]} {source[1]!r}"
        resources = container.get("resources") or {}
        for part in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                assert resource in (resources.get(part) or {}), (
                    f"{where}: resources.{part}.{resource} is not set"
                )
        if workload["kind"] != "Job":
            for kind in ("livenessProbe", "readinessProbe"):
                assert kind in container, f"{where}: no {kind}"


def test_no_container_runs_as_root_or_writes_its_image() -> None:
    for where, container, workload in _containers():
        pod = _pod_spec(workload)
        pod_ctx, ctx = pod.get("securityContext") or {}, container.get("securityContext") or {}
        non_root = ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot"))
        assert non_root is True, f"{where}: securityContext.runAsNonRoot must be true"
        assert ctx.get("runAsUser", pod_ctx.get("runAsUser")) != 0, f"{where}: runAsUser 0"
        assert ctx.get("allowPrivilegeEscalation") is False, (
            f"{where}: securityContext.allowPrivilegeEscalation must be false"
        )
        assert ctx.get("readOnlyRootFilesystem") is True, (
            f"{where}: securityContext.readOnlyRootFilesystem must be true"
        )
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        for path in (STATE_DIR, "/tmp"):
            assert path in mounts, f"{where}: nothing writable is mounted at {path}"
            volume = volumes.get(mounts[path], {})
            assert "emptyDir" in volume or "persistentVolumeClaim" in volume, (
                f"{where}: {path} must be an emptyDir (or a PersistentVolumeClaim)"
            )


# --- commands -----------------------------------------------------------------------------


def test_every_args_and_exec_probe_is_a_real_ioc_command() -> None:
    problems = []
    for where, words in _commands():
        assert words and words[0] != "ioc", f"{where}: {words} (the entrypoint is `ioc`)"
        if (problem := _command_problem(words)) is not None:
            problems.append(f"{where}: {problem}")
    assert not problems, "\n".join(problems)


# --- the workloads, one by one ------------------------------------------------------------


def test_selectors_match_their_pods() -> None:
    for where, obj in _workloads():
        if obj["kind"] == "Job":
            continue
        selector = obj["spec"]["selector"]["matchLabels"]
        labels = obj["spec"]["template"]["metadata"]["labels"]
        assert selector and selector.items() <= labels.items(), (
            f"{where}: selector {selector} does not match the pod labels {labels}"
        )


def test_services_reach_a_named_port_of_their_pods() -> None:
    for file, service in _applied():
        if service["kind"] != "Service":
            continue
        where = _where(file, service)
        selector = service["spec"]["selector"]
        targets = [
            o
            for _, o in _workloads()
            if selector.items() <= o["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(targets) == 1, f"{where}: selector {selector} matches {len(targets)} workloads"
        ports = {
            key
            for c in _pod_spec(targets[0])["containers"]
            for p in c.get("ports", [])
            for key in (p.get("name"), p["containerPort"])
        }
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            assert target in ports, f"{where}: targetPort {target!r} is no port of its pods"


def test_streams_workers_stay_within_the_partitions() -> None:
    file, streams = _one("Deployment", STREAMS)
    where = _where(file, streams)
    partitions = int(_config()["IOC_KAFKA__PARTITIONS"])
    replicas = streams["spec"].get("replicas", 1)
    assert isinstance(replicas, int), f"{where}: replicas {replicas!r} is not a number"
    assert 1 <= replicas <= partitions, (
        f"{where}: replicas {replicas} > IOC_KAFKA__PARTITIONS {partitions}: the extra sit idle"
    )
    for hpa_file, hpa in _applied():
        if hpa["kind"] == "HorizontalPodAutoscaler":
            target = hpa["spec"]["scaleTargetRef"]
            assert (target["kind"], target["name"]) in {
                (o["kind"], _name(o)) for _, o in _workloads()
            }, f"{_where(hpa_file, hpa)}: scales {target}, which is not here"
            if target["name"] == STREAMS:
                assert hpa["spec"]["maxReplicas"] <= partitions, (
                    f"{_where(hpa_file, hpa)}: maxReplicas {hpa['spec']['maxReplicas']} > "
                    f"IOC_KAFKA__PARTITIONS {partitions}"
                )


def _health_port() -> int:
    return int(_config()["IOC_HEALTH_PORT"])


def _http_probe(container: dict[str, Any], kind: str) -> tuple[str | None, Any]:
    get = container.get(kind, {}).get("httpGet", {})
    return get.get("path"), get.get("port")


def test_streams_run_the_worker_with_its_health_probes() -> None:
    file, streams = _one("Deployment", STREAMS)
    where = _where(file, streams)
    pod = _pod_spec(streams)
    (container,) = pod["containers"]
    assert container["args"] == ["streams", "run"], f"{where}: args"
    # Readiness reports a partition left unread; liveness does not restart the pod for it
    # (ioc.health_server.stream_probes).
    for kind, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        assert _http_probe(container, kind) == (path, "health"), f"{where}: {kind} GET {path}"
    grace = pod.get("terminationGracePeriodSeconds", 30)
    assert grace <= 60, f"{where}: terminationGracePeriodSeconds {grace}: correctness needs none"


def test_every_process_is_probed_on_its_own_port_never_by_a_new_process() -> None:
    """Exec probes start a Python process every few seconds; each process answers instead."""
    port = _health_port()
    for where, container, workload in _containers():
        for kind, probe in _probes(container).items():
            assert "exec" not in probe, f"{where}: {kind} runs a command; probe a port instead"
        if workload["kind"] == "Job" or _name(workload) == API:
            continue  # the API answers /healthz and /readyz on its own port
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        assert ports.get("health") == port, (
            f"{where}: no port `health` = IOC_HEALTH_PORT {port} (ioc.health_server)"
        )
        for kind, path in (("livenessProbe", "/healthz"), ("startupProbe", "/healthz")):
            assert _http_probe(container, kind) == (path, "health"), f"{where}: {kind}"


def test_alerts_run_the_evaluator_and_notifier() -> None:
    file, deployment = _one("Deployment", ALERTS)
    where = _where(file, deployment)
    (container,) = _pod_spec(deployment)["containers"]
    assert container["args"] == ["alerts", "run"], f"{where}: args"
    assert _http_probe(container, "readinessProbe") == ("/readyz", "health"), where


def test_jobs_set_up_the_database_topics_and_grafana_role() -> None:
    for name, args in (
        ("ioc-kafka-topics", ["kafka", "topics"]),
        ("ioc-grafana-role", ["dashboards", "db-role"]),
    ):
        file, job = _one("Job", name)
        (container,) = _pod_spec(job)["containers"]
        assert container["args"] == args, f"{_where(file, job)}: args"
        assert _pod_spec(job)["restartPolicy"] in {"OnFailure", "Never"}, _where(file, job)
    _, role = _one("Job", "ioc-grafana-role")
    (container,) = _pod_spec(role)["containers"]
    password = {e["name"]: e for e in container.get("env", [])}["IOC_DATABASE__GRAFANA_PASSWORD"]
    ref = password["valueFrom"]["secretKeyRef"]
    secret = _one("Secret", ref["name"])[1]
    assert ref["key"] in secret["stringData"], f"{SECRET_EXAMPLE.name}: {ref}"


def test_migrate_job_runs_db_migrate() -> None:
    file, job = _one("Job", "ioc-db-migrate")
    (container,) = _pod_spec(job)["containers"]
    assert container["args"] == ["db", "migrate"], f"{_where(file, job)}: args"
    assert _pod_spec(job)["restartPolicy"] in {"OnFailure", "Never"}, f"{_where(file, job)}"


@pytest.mark.parametrize("feed", SIMULATED_FEEDS)
def test_simulated_connector_runs_alone_with_its_health_probe(feed: str) -> None:
    file, deployment = _one("Deployment", f"ioc-{feed}")
    where = _where(file, deployment)
    assert deployment["spec"].get("replicas") == 1, f"{where}: a connector is one process"
    assert deployment["spec"].get("strategy", {}).get("type") == "Recreate", (
        f"{where}: strategy Recreate, so two copies of a feed never run at once"
    )
    assert file.startswith(f"{DEMO.name}/"), f"{where}: simulators only in the demo overlay"
    (container,) = _pod_spec(deployment)["containers"]
    assert container["args"] == ["connectors", "run", feed], f"{where}: args"
    assert _http_probe(container, "livenessProbe") == ("/healthz", "health"), where


def test_http_ingest_listens_where_its_service_and_probes_look() -> None:
    file, deployment = _one("Deployment", HTTP_INGEST)
    where = _where(file, deployment)
    pod = _pod_spec(deployment)
    (container,) = pod["containers"]
    assert container["args"][:3] == ["connectors", "run", "http-ingest"], f"{where}: args"
    options = _options(container["args"])
    assert options.get("host") == "0.0.0.0", f"{where}: -o host=0.0.0.0, or no pod can reach it"
    (port,) = [p for p in container["ports"] if p["name"] != "health"]
    assert options.get("port") == str(port["containerPort"]), (
        f"{where}: -o port={options.get('port')} != containerPort {port['containerPort']}"
    )
    readiness = container["readinessProbe"].get("httpGet", {})
    assert readiness.get("path") == "/healthz", f"{where}: readiness is GET /healthz"
    assert readiness.get("port") in (port.get("name"), port["containerPort"]), (
        f"{where}: readiness probes port {readiness.get('port')!r}"
    )
    mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
    assert options.get("mappings") in mounts, f"{where}: -o mappings= is not a mounted path"
    # A 202 means broker-acked or fsynced in the spool: the spool must outlive the pod, and
    # the old pod must let go of it (it is locked per connector name) before the new one runs.
    assert options.get("ack") == "committed", f"{where}: -o ack=committed"
    assert deployment["spec"].get("strategy", {}).get("type") == "Recreate", where
    volumes = {v["name"]: v for v in pod["volumes"]}
    state = next(m["name"] for m in container["volumeMounts"] if m["mountPath"] == STATE_DIR)
    claim = volumes[state].get("persistentVolumeClaim", {}).get("claimName")
    assert claim, f"{where}: the spool ({STATE_DIR}) must be a PersistentVolumeClaim"
    _one("PersistentVolumeClaim", claim)
    if "token_env" in options:
        env = {e["name"] for e in container.get("env", [])}
        assert options["token_env"] in env, f"{where}: token_env={options['token_env']} unset"
    _one("Service", HTTP_INGEST)


def test_api_serves_on_the_configured_port_with_health_endpoints() -> None:
    file, deployment = _one("Deployment", API)
    where = _where(file, deployment)
    (container,) = _pod_spec(deployment)["containers"]
    assert container["args"] == ["api", "run"], f"{where}: args"
    (port,) = container["ports"]
    assert str(port["containerPort"]) == _config()["IOC_API_PORT"], (
        f"{where}: containerPort {port['containerPort']} != IOC_API_PORT in {CONFIGMAP}"
    )
    for kind, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        assert container[kind].get("httpGet", {}).get("path") == path, (
            f"{where}: {kind} must be GET {path}"
        )
    _one("Service", API)


# --- optional: the Kubernetes schemas and kustomize ---------------------------------------


def test_objects_match_the_kubernetes_api_schema() -> None:
    validator = pytest.importorskip(
        "kubernetes_validate",
        reason="kubernetes-validate is not installed (pip install kubernetes-validate), "
        "so the manifests are not checked against the Kubernetes API schema",
    )
    problems = []
    for file, obj in _manifests():
        try:
            validator.validate(obj, KUBERNETES_VERSION, strict=True)
        except validator.ValidationError as err:
            at = ".".join(str(p) for p in err.absolute_path) or "(top)"
            problems.append(f"{_where(file, obj)}: {at}: {err.message}")
        except validator.SchemaNotFoundError as err:
            problems.append(f"{_where(file, obj)}: {err.message}")
    assert not problems, f"against Kubernetes {KUBERNETES_VERSION}:\n" + "\n".join(problems)


def _kustomize(folder: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip(f"kubectl is not installed, so `kubectl kustomize {folder}` is not run")
    result = subprocess.run(
        [kubectl, "kustomize", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize {folder} failed:\n{result.stderr}"
    return [o for o in yaml.safe_load_all(result.stdout) if o]


def test_kustomize_builds_every_listed_object() -> None:
    built = {(o["kind"], _name(o)) for o in _kustomize(K8S)}
    expected = {(o["kind"], _name(o)) for f, o in _applied() if _base(f)}
    assert built == expected, f"kustomize built {sorted(built)}, expected {sorted(expected)}"


def test_kustomize_builds_the_overlays() -> None:
    base = {(o["kind"], _name(o)) for f, o in _applied() if _base(f)}
    demo = _kustomize(DEMO)
    sims = {("Deployment", f"ioc-{feed}") for feed in SIMULATED_FEEDS}
    assert {(o["kind"], _name(o)) for o in demo} == base | sims
    strimzi = _kustomize(STRIMZI)
    kinds = {o["kind"] for o in strimzi}
    assert {"KafkaTopic", "KafkaUser"} <= kinds
    (config,) = [o for o in strimzi if o["kind"] == "ConfigMap" and _name(o) == CONFIGMAP]
    assert config["data"]["IOC_KAFKA_BOOTSTRAP"].startswith("ioc-kafka-kafka-bootstrap.")
    monitors = _kustomize(MONITORING)
    assert {o["kind"] for o in monitors} == {"PodMonitor"}


# --- every component, its files and its topics ----------------------------------------------


def _settings_from(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(os.environ):
        if name.startswith("IOC_"):
            monkeypatch.delenv(name)
    for key, value in {**config, **_secret_example()}.items():
        monkeypatch.setenv(key, str(value))
    return load_settings()


def _command_path(words: list[str]) -> list[str]:
    """The subcommand words of a command line, up to its first option."""
    path = []
    for word in words:
        if word.startswith("-"):
            break
        path.append(word)
    return path


def _demo_config() -> dict[str, Any]:
    kustomization = yaml.safe_load((DEMO / KUSTOMIZATION.name).read_text(encoding="utf-8"))
    config = _config()
    for patch in kustomization["patches"]:
        for op in yaml.safe_load(patch["patch"]):
            assert op["op"] == "replace" and op["path"].startswith("/data/"), op
            config[op["path"].removeprefix("/data/")] = op["value"]
    return config


@pytest.mark.parametrize("overlay", ["base", "demo"])
def test_workloads_cover_every_component_ioc_up_starts(
    overlay: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What `ioc up` would run with this ConfigMap (the `ioc.components` entry points), each
    has its workload: the same `ioc` subcommand (options aside) in some container."""
    from ioc.stack import component_specs

    monkeypatch.chdir(tmp_path)  # no developer's .env
    config = _config() if overlay == "base" else _demo_config()
    settings = _settings_from(config, monkeypatch)
    objects = _load(K8S) + (_load(DEMO) if overlay == "demo" else [])
    deployed = [
        _command_path([str(w) for w in container.get("args", [])])
        for _, obj in objects
        if obj["kind"] in WORKLOAD_KINDS - {"Job"}
        for container in _pod_spec(obj)["containers"]
    ]
    specs = component_specs(settings, {})
    assert specs, "no component is installed (pip install -e .)"
    missing = []
    for spec in specs:
        words = spec.argv[spec.argv.index("ioc") + 1 :] if "ioc" in spec.argv else spec.argv
        if _command_path(words) not in deployed:
            missing.append(f"{spec.name}: ioc {' '.join(words)}")
    assert not missing, f"`ioc up` runs these, the {overlay} manifests do not:\n" + "\n".join(
        missing
    )
    connectors = [p for p in deployed if p[:2] == ["connectors", "run"]]
    assert sorted(p[2] for p in connectors) == sorted(settings.connectors.run), (
        f"connector Deployments {connectors} != IOC_CONNECTORS__RUN {settings.connectors.run}"
    )


def test_every_pod_reads_the_province_files_from_their_configmap() -> None:
    config = _config()
    files = {k: v for k, v in config.items() if k.endswith("_FILE")}
    assert set(files) >= {
        "IOC_AREAS_FILE",
        "IOC_ALERTS__KPIS_FILE",
        "IOC_ALERTS__RULES_FILE",
        "IOC_ALERTS__RECIPIENTS_FILE",
    }
    for key, path in files.items():
        assert path.startswith(f"{PROVINCE_DIR}/"), f"{CONFIGMAP} {key}: {path}"
    for where, container, workload in _containers():
        volumes = {v["name"]: v for v in _pod_spec(workload).get("volumes", [])}
        mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
        assert PROVINCE_DIR in mounts, f"{where}: {PROVINCE} is not mounted at {PROVINCE_DIR}"
        volume = volumes[mounts[PROVINCE_DIR]["name"]]
        assert volume.get("configMap", {}).get("name") == PROVINCE, f"{where}: {volume}"
    # The README's command makes exactly the files the settings name.
    text = README.read_text(encoding="utf-8")
    command = text[text.index(f"create configmap {PROVINCE}") :].split("```", 1)[0]
    made = set(re.findall(r"--from-file=([\w.-]+)=", command))
    assert made == {path.rsplit("/", 1)[1] for path in files.values()}, command


def test_strimzi_topics_are_the_topics_ioc_kafka_topics_creates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ioc.kafka import project_topics

    monkeypatch.chdir(tmp_path)
    settings = _settings_from(_config(), monkeypatch)
    declared = {o["spec"]["topicName"]: o for _, o in _load(STRIMZI) if o["kind"] == "KafkaTopic"}
    # The manifests are the shipped feeds': not the test plug-in's air, installed in this venv.
    plugin = f"{settings.kafka.topic_prefix}.events.air"
    wanted = {spec.name: spec for spec in project_topics(settings) if spec.name != plugin}
    assert set(declared) == set(wanted), "KafkaTopics != ioc.kafka.project_topics"
    for name, spec in wanted.items():
        topic = declared[name]["spec"]
        assert topic["partitions"] == spec.partitions, name
        assert topic["replicas"] == spec.replication_factor, name
        assert {k: str(v) for k, v in topic["config"].items()} == spec.config, name
    assert declared[f"{settings.kafka.topic_prefix}.dlq"]["spec"]["config"]["retention.ms"] == "-1"
    (user,) = [o for _, o in _load(STRIMZI) if o["kind"] == "KafkaUser"]
    assert _name(user) == settings.kafka.sasl_username
    assert user["spec"]["authentication"]["type"] == settings.kafka.sasl_mechanism.lower()


def test_pod_monitors_scrape_the_health_port() -> None:
    monitors = {_name(o): o for _, o in _load(MONITORING)}
    (endpoint,) = monitors["ioc-processes"]["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("health", "/metrics")
    selector = monitors["ioc-processes"]["spec"]["selector"]["matchLabels"]
    for where, container, workload in _containers():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        if any(p.get("name") == "health" for p in container.get("ports", [])):
            assert selector.items() <= labels.items(), f"{where}: not scraped"
