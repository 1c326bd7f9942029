# syntax=docker/dockerfile:1
# The envbot image: `envbot agent` in the management cluster (docs/agent.md#install). It holds envbot and its
# dependencies only: no secret, no configuration and no catalogs (they are mounted, or added by an image built FROM
# this one). Build: docker build -t ghcr.io/OWNER/envbot:VERSION .
#
# The base is pinned by tag. To pin its digest as well, resolve the tag once and keep both:
#   docker buildx imagetools inspect python:3.12-slim-bookworm --format '{{.Manifest.Digest}}'
#   docker build --build-arg PYTHON_IMAGE=python:3.12-slim-bookworm@sha256:<digest> .
# (or write that reference below; Dependabot and Renovate keep a tag@digest pin current).
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
# pip compiles the bytecode here: the running container's root filesystem is read-only.
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/envbot
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN /opt/envbot/bin/pip install --no-cache-dir . \
    && /opt/envbot/bin/pip uninstall --yes pip

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 envbot \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin envbot
COPY --from=build /opt/envbot /opt/envbot
ENV PATH=/opt/envbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# Numeric, so that the kubelet can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
ENTRYPOINT ["envbot"]
CMD ["agent", "--config", "/etc/envbot/envbot.yaml"]
