# syntax=docker/dockerfile:1
#
# Groundmist sync server image. With Caddy in front, use compose.yaml (see the README):
#   cp .env.example .env   # once: set ATPROTO_DID and PUBLIC_URL, and a secret from `openssl rand -hex 32`
#   docker compose up -d
# Alone (a TLS proxy on the host forwards to 127.0.0.1:3031):
#   docker build -t groundmist-sync .
#   docker run -d --name groundmist-sync --restart unless-stopped -p 127.0.0.1:3031:3031 \
#     -v groundmist-data:/data --env-file .env groundmist-sync

# ---- Build: the official Swift toolchain image (6.2+: swift-prometheus needs tools 6.2). ----
FROM swift:6.2-noble AS build
WORKDIR /build
# compress-nio (WebSocket compression) links the system zlib; install its headers in case the
# toolchain image lacks them. Unpinned on purpose: the distribution's current security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
# Dependencies first, from the manifest alone: this layer stays cached while only sources change.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# A static Swift standard library and Foundation (as deploy/build-release.sh builds it): the
# runtime image needs no Swift toolchain.
RUN swift build -c release --product groundmist-sync --static-swift-stdlib \
    && mkdir -p /staging \
    && cp "$(swift build -c release --show-bin-path)/groundmist-sync" /staging/ \
    && /staging/groundmist-sync --version

# ---- Runtime: same Ubuntu release as the build image, so glibc and libstdc++ match. ----
FROM ubuntu:24.04
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata zlib1g \
    && rm -rf /var/lib/apt/lists/*
# A numeric, fixed uid/gid (10001): Kubernetes' runAsNonRoot can check it, and a bind-mounted data
# directory must belong to it (chown -R 10001:10001 ./data).
RUN groupadd --system --gid 10001 groundmist \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin groundmist \
    && mkdir -p /data /app \
    && chown 10001:10001 /data /app
COPY --from=build /staging/groundmist-sync /usr/local/bin/groundmist-sync

# The container's own interface must be reachable through the published port; the server refuses
# a non-loopback address unless authentication is configured, and GROUNDMIST_REQUIRE_AUTH=1 makes
# it refuse to start at all without ATPROTO_DID and the secret (never an open server).
# X-Forwarded-For is believed from Docker's private networks, where a proxy in front (Caddy on the
# host or in compose) reaches the container from; set GROUNDMIST_TRUSTED_PROXIES to narrow it.
ENV DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=3031 \
    GROUNDMIST_REQUIRE_AUTH=1 \
    GROUNDMIST_TRUSTED_PROXIES=127.0.0.0/8,::1,172.16.0.0/12,192.168.0.0/16,10.0.0.0/8
VOLUME /data
EXPOSE 3031
# The server reads an optional .env from its working directory (mount one at /app/.env). The
# directory belongs to the runtime user so `export` can write its file there (or use `-o -`).
WORKDIR /app
USER 10001:10001

# The binary checks itself (GET http://127.0.0.1:$PORT/healthz), so the image needs no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["groundmist-sync", "healthcheck"]

ENTRYPOINT ["groundmist-sync"]
CMD ["serve", "--require-auth"]
