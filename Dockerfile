# syntax=docker/dockerfile:1
#
# The ioc-monitor image: the `ioc` command and everything it starts (connectors, stream
# workers, the API and live board). Production talks to real Kafka and TimescaleDB, so the
# `embedded` extra (a PyPI PostgreSQL) is deliberately not installed.
#
#   docker build -t ioc-monitor:local .
#   docker run --rm ioc-monitor:local --help
#
# The build context must be the whole repository: ioc/connectors, ioc/streams and
# ioc/dashboards are symlinks to the top-level folders, and setuptools follows them.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: install the project and its dependencies into a self-contained venv -------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Every runtime dependency ships a cp311 manylinux wheel for x86_64, so no compiler is needed;
# on another architecture add `build-essential` here if pip reports a source build.
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY . .
# The versions CI tested (constraints.txt); `ioc --help` fails the build here, not at first
# start, if the entry point is broken.
RUN pip install --upgrade pip \
    && pip install --prefer-binary -c constraints.txt . \
    && ioc --help > /dev/null

# --- runtime: the venv, a non-root user and nothing else ---------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="ioc-monitor" \
      org.opencontainers.image.description="Streaming monitor for a provincial Intelligent Operations Centre (IOC)" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    IOC_STATE_DIR=/var/lib/ioc

# A fixed numeric uid/gid so volume ownership and Kubernetes `runAsNonRoot` checks are stable.
RUN groupadd --system --gid 10001 ioc \
    && useradd --system --uid 10001 --gid ioc --home-dir /var/lib/ioc --no-create-home \
       --shell /usr/sbin/nologin ioc \
    && install -d -o ioc -g ioc -m 0750 /var/lib/ioc

COPY --from=build /opt/venv /opt/venv

USER 10001:10001
WORKDIR /var/lib/ioc
# 8000: `ioc api`; 8088: http-ingest (`-o port=8088`); 9464: IOC_HEALTH_PORT of every other
# long-running process (/healthz, /readyz, /metrics).
EXPOSE 8000 8088 9464

ENTRYPOINT ["ioc"]
CMD ["--help"]
