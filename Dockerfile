# syntax=docker/dockerfile:1
#
# Groundmist sync server image.
#   docker build -t groundmist-sync .
#   docker run -d --name groundmist-sync -p 127.0.0.1:3031:3031 -v groundmist-data:/data \
#     -e ATPROTO_DID=did:plc:... -e GROUNDMIST_SYNC_SECRET_KEY=$(openssl rand -hex 32) \
#     -e PUBLIC_URL=https://sync.example.com groundmist-sync
# Put a TLS reverse proxy (e.g. Caddy) in front; the apps only speak https/wss.

# ---- Build: the official Swift toolchain image (6.2+: swift-prometheus needs tools 6.2). ----
FROM swift:6.2-noble AS build
WORKDIR /build
# compress-nio (WebSocket compression) links the system zlib; install its headers in case the
# toolchain image lacks them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
# Resolve dependencies first so this layer is cached while only sources change. SwiftPM checks
# that every target's folder exists when it loads the manifest, hence Sources and Tests below.
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift package resolve
# A static Swift standard library and Foundation: the runtime image needs no Swift toolchain.
RUN swift build -c release --product groundmist-sync --static-swift-stdlib \
    && mkdir -p /staging \
    && cp "$(swift build -c release --show-bin-path)/groundmist-sync" /staging/

# ---- Runtime: same Ubuntu release as the build image, so glibc and libstdc++ match. ----
FROM ubuntu:24.04
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata zlib1g \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 groundmist \
    && useradd --system --uid 10001 --gid groundmist --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin groundmist \
    && mkdir -p /data /app \
    && chown groundmist:groundmist /data /app
COPY --from=build /staging/groundmist-sync /usr/local/bin/groundmist-sync

# The container's own interface must be reachable through the published port; the server refuses
# a non-loopback address unless authentication is configured (ATPROTO_DID and the secret).
ENV DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=3031
VOLUME /data
EXPOSE 3031
# The server reads an optional .env from its working directory (mount one at /app/.env). The
# directory belongs to the runtime user so `export` can write its file there (or use `-o -`).
WORKDIR /app
USER groundmist:groundmist

# The binary checks itself (GET http://127.0.0.1:$PORT/healthz), so the image needs no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["groundmist-sync", "healthcheck"]

ENTRYPOINT ["groundmist-sync"]
CMD ["serve"]
