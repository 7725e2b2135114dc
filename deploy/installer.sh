#!/usr/bin/env bash
# Installs the Groundmist personal sync server on Debian or Ubuntu:
# the binary, a system user, a hardened systemd service, Caddy as the TLS reverse proxy
# (automatic Let's Encrypt certificates) and a .env with a generated secret; then offers to
# publish the server's location to your ATProto repo.
#
# Safe to run again: existing users, directories and the secret are kept; files it manages are
# rewritten only when their content changes. --dry-run prints every action instead of doing it.
set -euo pipefail

readonly SERVICE=groundmist-sync
readonly MARKER="# Managed by groundmist-sync deploy/installer.sh"

DOMAIN=""
OWNER_DID=""
ACME_EMAIL=""
BINARY=""
SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICE_USER="groundmist"
CONFIG_DIR="/etc/groundmist-sync"
DATA_DIR="/var/lib/groundmist-sync"
BIN_PATH="/usr/local/bin/groundmist-sync"
UNIT_PATH="/etc/systemd/system/${SERVICE}.service"
CADDYFILE="/etc/caddy/Caddyfile"
REPLACE_CADDYFILE=0
PORT="3031"
DRY_RUN=0
ASSUME_YES=0
PUBLISH="ask"

usage() {
    cat <<USAGE
Usage: sudo bash deploy/installer.sh --domain sync.example.com --did did:plc:... [options]

Installs groundmist-sync as a systemd service behind Caddy (HTTPS with Let's Encrypt).
The domain's DNS A/AAAA record must point at this machine, and ports 80 and 443 must be open.

Required:
  --domain DOMAIN     public host name of the server (no scheme), e.g. sync.example.com
  --did DID           your ATProto DID, the server's only user (kept from an existing .env if omitted)

Options:
  --binary PATH       install this prebuilt groundmist-sync binary instead of building from source
  --source DIR        package to build from (default: ${SOURCE_DIR}); needs a Swift toolchain
  --email EMAIL       contact address for Let's Encrypt (optional)
  --port PORT         loopback port the server listens on (default: ${PORT})
  --data-dir DIR      where documents and sessions are stored (default: ${DATA_DIR})
  --config-dir DIR    where .env lives (default: ${CONFIG_DIR})
  --user NAME         system user the service runs as (default: ${SERVICE_USER})
  --caddyfile PATH    Caddy's main configuration (default: ${CADDYFILE})
  --replace-caddyfile replace a Caddyfile this installer did not write (kept as a backup); by
                      default the site goes to groundmist-sync.caddy beside it, to import yourself
  --publish           publish the location at the end without asking
  --no-publish        do not offer to publish
  -y, --yes           answer yes to questions (publishing still asks for your app password)
  --dry-run           print every action instead of doing it; needs no root
  -h, --help          show this help
USAGE
}

die() { echo "installer: $*" >&2; exit 1; }
note() { echo "==> $*"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --domain) DOMAIN="${2:-}"; shift 2 ;;
        --did) OWNER_DID="${2:-}"; shift 2 ;;
        --email) ACME_EMAIL="${2:-}"; shift 2 ;;
        --binary) BINARY="${2:-}"; shift 2 ;;
        --source) SOURCE_DIR="${2:-}"; shift 2 ;;
        --port) PORT="${2:-}"; shift 2 ;;
        --data-dir) DATA_DIR="${2:-}"; shift 2 ;;
        --config-dir) CONFIG_DIR="${2:-}"; shift 2 ;;
        --user) SERVICE_USER="${2:-}"; shift 2 ;;
        --caddyfile) CADDYFILE="${2:-}"; shift 2 ;;
        --replace-caddyfile) REPLACE_CADDYFILE=1; shift ;;
        --publish) PUBLISH="yes"; shift ;;
        --no-publish) PUBLISH="no"; shift ;;
        -y|--yes) ASSUME_YES=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

ENV_FILE="${CONFIG_DIR}/.env"

# --- Validation -------------------------------------------------------------------------------

[[ -n "$DOMAIN" ]] || { usage >&2; die "--domain is required"; }
[[ "$DOMAIN" != *"://"* ]] || die "--domain takes a host name without a scheme, e.g. ${DOMAIN#*://}"
[[ "$DOMAIN" =~ ^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$ ]] \
    || die "--domain '$DOMAIN' is not a DNS name"
[[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT >= 1 && PORT <= 65535 )) || die "--port must be 1-65535"
[[ "$SERVICE_USER" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "--user '$SERVICE_USER' is not a valid user name"
[[ "$DATA_DIR" == /* && "$CONFIG_DIR" == /* && "$CADDYFILE" == /* ]] || die "--data-dir, --config-dir and --caddyfile must be absolute paths"
CADDY_SITE_FILE="$(dirname "$CADDYFILE")/${SERVICE}.caddy"

existing_env_value() {  # KEY -> value from an existing .env, or empty
    [[ -r "$ENV_FILE" ]] || return 0
    sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$ENV_FILE" | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"
}

if [[ -z "$OWNER_DID" ]]; then
    OWNER_DID="$(existing_env_value ATPROTO_DID)"
    [[ -n "$OWNER_DID" ]] || die "--did is required (your ATProto DID, e.g. did:plc:abc...; find it at https://bsky.app/settings or with 'dig TXT _atproto.<handle>')"
fi
[[ "$OWNER_DID" =~ ^did:(plc:[a-z2-7]{24}|web:[A-Za-z0-9.%:-]+)$ ]] || die "--did '$OWNER_DID' is not a did:plc or did:web DID"

if (( ! DRY_RUN )) && [[ $EUID -ne 0 ]]; then
    die "run as root (sudo bash $0 ...), or add --dry-run to see what it would do"
fi

# --- Helpers ----------------------------------------------------------------------------------

# Runs a command, or prints it under --dry-run.
run() {
    if (( DRY_RUN )); then
        echo "+ $*"
    else
        "$@"
    fi
}

# write_file PATH MODE OWNER:GROUP: content on stdin. Unchanged files are left alone.
# Returns 0 when the file was (or would be) written, 1 when it was already up to date.
write_file() {
    local path="$1" mode="$2" owner="$3" content
    content="$(cat)"
    if [[ -f "$path" ]] && [[ "$(cat "$path")" == "$content" ]]; then
        echo "    unchanged: $path"
        return 1
    fi
    if (( DRY_RUN )); then
        echo "+ write $path (mode $mode, owner $owner):"
        # Never print a secret, not even a newly generated one, nor any kept line that looks like one.
        printf '%s\n' "$content" \
            | sed -E -e 's/^([[:space:]]*(export[[:space:]]+)?[A-Za-z0-9_]*(PASSWORD|SECRET|TOKEN|KEY)[A-Za-z0-9_]*[[:space:]]*=).*/\1<secret, not shown>/I' \
                -e 's/^/    | /'
        return 0
    fi
    local tmp
    tmp="$(mktemp "${path}.XXXXXX")"
    printf '%s\n' "$content" > "$tmp"
    chmod "$mode" "$tmp"
    chown "$owner" "$tmp"
    mv -f "$tmp" "$path"
    echo "    wrote $path"
    return 0
}

confirm() {  # question -> 0 for yes
    if (( ASSUME_YES )); then return 0; fi
    if [[ ! -t 0 ]]; then return 1; fi
    local answer
    read -r -p "$1 [Y/n] " answer
    [[ -z "$answer" || "$answer" =~ ^[Yy] ]]
}

generate_secret() {  # 32 random bytes as 64 hex characters
    if command -v openssl >/dev/null 2>&1; then
        openssl rand -hex 32
    else
        head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n'
    fi
}

# --- 1. System ----------------------------------------------------------------------------------

note "Checking the system"
if [[ -r /etc/os-release ]]; then
    # shellcheck disable=SC1091
    . /etc/os-release
    case "${ID:-}:${ID_LIKE:-}" in
        debian:*|ubuntu:*|*:*debian*) echo "    ${PRETTY_NAME:-$ID}" ;;
        *) if (( DRY_RUN )); then echo "    warning: ${PRETTY_NAME:-unknown system} is not Debian or Ubuntu"; else die "this installer supports Debian and Ubuntu only (found ${PRETTY_NAME:-unknown})"; fi ;;
    esac
fi
command -v systemctl >/dev/null 2>&1 || (( DRY_RUN )) || die "systemd is required"
run apt-get update
run apt-get install -y --no-install-recommends ca-certificates curl openssl

# --- 2. Binary ----------------------------------------------------------------------------------

note "Installing the groundmist-sync binary at $BIN_PATH"
if [[ -n "$BINARY" ]]; then
    [[ -f "$BINARY" ]] || (( DRY_RUN )) || die "--binary $BINARY does not exist"
    run install -m 0755 -o root -g root "$BINARY" "$BIN_PATH"
else
    [[ -f "$SOURCE_DIR/Package.swift" ]] || die "no Package.swift in $SOURCE_DIR: pass --source DIR or --binary PATH"
    if ! command -v swift >/dev/null 2>&1 && (( ! DRY_RUN )); then
        die "building needs a Swift 6.2+ toolchain (https://www.swift.org/install/linux/); or build elsewhere and pass --binary PATH"
    fi
    # compress-nio (WebSocket compression) links the system zlib.
    run apt-get install -y --no-install-recommends zlib1g-dev
    run swift build -c release --product groundmist-sync --static-swift-stdlib --package-path "$SOURCE_DIR"
    run install -m 0755 -o root -g root "$SOURCE_DIR/.build/release/groundmist-sync" "$BIN_PATH"
fi

# --- 3. User and directories --------------------------------------------------------------------

note "Creating the system user $SERVICE_USER and its directories"
if id -u "$SERVICE_USER" >/dev/null 2>&1; then
    echo "    user $SERVICE_USER exists"
else
    run useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
fi
run install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$DATA_DIR"
run install -d -m 0750 -o root -g "$SERVICE_USER" "$CONFIG_DIR"

# --- 4. .env ------------------------------------------------------------------------------------

note "Writing $ENV_FILE"
SECRET="$(existing_env_value GROUNDMIST_SYNC_SECRET_KEY)"
if [[ -n "$SECRET" ]]; then
    echo "    keeping the existing GROUNDMIST_SYNC_SECRET_KEY"
elif (( DRY_RUN )); then
    echo "    would generate a new 32-byte GROUNDMIST_SYNC_SECRET_KEY (not shown)"
    SECRET="<generated secret>"
else
    SECRET="$(generate_secret)"
fi
# Lines other than the ones managed here (e.g. GROUNDMIST_ALLOWED_ORIGINS, LOG_LEVEL) are kept.
OTHER_LINES=""
if [[ -r "$ENV_FILE" ]]; then
    OTHER_LINES="$(grep -v -E '^[[:space:]]*(ATPROTO_DID|GROUNDMIST_SYNC_SECRET_KEY|HOST|PORT|DATA_DIR|PUBLIC_URL)[[:space:]]*=' "$ENV_FILE" | grep -v -F "$MARKER" || true)"
fi
ENV_CONTENT="$MARKER
ATPROTO_DID=$OWNER_DID
GROUNDMIST_SYNC_SECRET_KEY=$SECRET
HOST=127.0.0.1
PORT=$PORT
DATA_DIR=$DATA_DIR
PUBLIC_URL=https://$DOMAIN${OTHER_LINES:+
$OTHER_LINES}"
printf '%s\n' "$ENV_CONTENT" | write_file "$ENV_FILE" 0640 "root:$SERVICE_USER" || true
unset SECRET ENV_CONTENT

# --- 5. systemd unit ----------------------------------------------------------------------------

note "Installing the systemd service $SERVICE"

write_file "$UNIT_PATH" 0644 root:root <<UNIT || true
$MARKER
[Unit]
Description=Groundmist personal sync server
Documentation=https://github.com/grjte/groundmist-sync
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=$SERVICE_USER
Group=$SERVICE_USER
# The server reads .env from its working directory.
WorkingDirectory=$CONFIG_DIR
ExecStart=$BIN_PATH serve
Restart=on-failure
RestartSec=5
TimeoutStopSec=30
LimitNOFILE=65536
UMask=0027

# Hardening: the service may write only to its data directory.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=$DATA_DIR
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictSUIDSGID=yes
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallArchitectures=native
SystemCallFilter=@system-service

[Install]
WantedBy=multi-user.target
UNIT
run systemctl daemon-reload
run systemctl enable "$SERVICE"
# Restart so a new binary, unit or .env takes effect (the service reconnects clients itself).
run systemctl restart "$SERVICE"

# --- 6. Caddy -----------------------------------------------------------------------------------

note "Installing Caddy as the HTTPS reverse proxy for $DOMAIN"
if command -v caddy >/dev/null 2>&1; then
    echo "    caddy is installed"
elif apt-cache show caddy >/dev/null 2>&1; then
    run apt-get install -y caddy
else
    # Caddy's own apt repository (Debian 11, Ubuntu 20.04 and others without a caddy package).
    run apt-get install -y --no-install-recommends debian-keyring debian-archive-keyring apt-transport-https gnupg
    if (( DRY_RUN )); then
        echo "+ curl -fsSL https://dl.cloudsmith.io/public/caddy/stable/gpg.key | gpg --dearmor -o /usr/share/keyrings/caddy-stable-archive-keyring.gpg"
        echo "+ curl -fsSL https://dl.cloudsmith.io/public/caddy/stable/debian.deb.txt > /etc/apt/sources.list.d/caddy-stable.list"
    else
        curl -fsSL https://dl.cloudsmith.io/public/caddy/stable/gpg.key | gpg --batch --yes --dearmor -o /usr/share/keyrings/caddy-stable-archive-keyring.gpg
        curl -fsSL https://dl.cloudsmith.io/public/caddy/stable/debian.deb.txt > /etc/apt/sources.list.d/caddy-stable.list
    fi
    run apt-get update
    run apt-get install -y caddy
fi
# True when the Caddyfile is still the one the caddy package installed (its welcome page).
caddyfile_is_package_default() {
    command -v dpkg-query >/dev/null 2>&1 && command -v md5sum >/dev/null 2>&1 || return 1
    local expected actual
    expected="$(dpkg-query -W -f='${Conffiles}\n' caddy 2>/dev/null | awk -v f="$CADDYFILE" '$1 == f { print $2 }')"
    actual="$(md5sum "$CADDYFILE" | cut -d' ' -f1)"
    [[ -n "$expected" && "$expected" == "$actual" ]]
}

# The site. Caddy's error log (http.log.error) records the request URI, and the apps send their
# sync token in the query string: the global log filter below deletes it (and any Authorization
# header) from every log entry. No access log is configured. /metrics is answered 404 here: the
# figures are for the machine itself (curl http://127.0.0.1:$PORT/metrics).
CADDY_SITE="$DOMAIN {
	@metrics path /metrics
	respond @metrics 404
	reverse_proxy 127.0.0.1:$PORT {
		# Keep WebSockets open across Caddy config reloads.
		stream_close_delay 5m
	}
}"
CADDY_LOG="log {
		format filter {
			fields {
				request>uri query {
					delete token
				}
				request>headers>Authorization delete
			}
		}
	}"
CADDY_EMAIL=""
[[ -z "$ACME_EMAIL" ]] || CADDY_EMAIL="
	email $ACME_EMAIL"

CADDY_CHANGED=0
CADDY_OWN_FILE=1
if [[ -f "$CADDYFILE" ]] && ! grep -q -F "$MARKER" "$CADDYFILE"; then
    if (( REPLACE_CADDYFILE )) || caddyfile_is_package_default; then
        BACKUP="${CADDYFILE}.before-groundmist"
        echo "    keeping the previous Caddyfile as $BACKUP"
        [[ -e "$BACKUP" ]] || run cp -p "$CADDYFILE" "$BACKUP"
    else
        CADDY_OWN_FILE=0
    fi
fi
if (( CADDY_OWN_FILE )); then
    write_file "$CADDYFILE" 0644 root:root <<CADDY && CADDY_CHANGED=1 || true
$MARKER
# Caddy obtains and renews the Let's Encrypt certificate for $DOMAIN by itself, redirects
# http to https, and proxies WebSocket upgrades as they are. Clients send their sync token in
# the query string: the log filter keeps it out of Caddy's logs, and no access log is kept.
{${CADDY_EMAIL}
	$CADDY_LOG
}

$CADDY_SITE
CADDY
else
    # Another Caddyfile serves other sites: leave it alone, and say what to add.
    echo "    $CADDYFILE was not written by this installer: leaving it as it is (--replace-caddyfile replaces it)"
    write_file "$CADDY_SITE_FILE" 0644 root:root <<CADDY && CADDY_CHANGED=1 || true
$MARKER
# The groundmist-sync site; imported from $CADDYFILE.
$CADDY_SITE
CADDY
    if grep -q -F "import $CADDY_SITE_FILE" "$CADDYFILE"; then
        echo "    $CADDYFILE imports $CADDY_SITE_FILE"
    else
        CADDY_CHANGED=0
        cat <<ADVICE
    To serve $DOMAIN, add this line at the end of $CADDYFILE:

        import $CADDY_SITE_FILE

    and, so that sync tokens stay out of Caddy's logs, this to its global options block
    (the { ... } at the very top; create it if there is none):

	$CADDY_LOG

    then run: caddy validate --adapter caddyfile --config $CADDYFILE && systemctl reload caddy
ADVICE
    fi
fi
if (( DRY_RUN )) || command -v caddy >/dev/null 2>&1; then
    run caddy validate --adapter caddyfile --config "$CADDYFILE"
fi
run systemctl enable caddy
if (( CADDY_CHANGED )); then
    run systemctl reload-or-restart caddy
else
    run systemctl start caddy
fi

# --- 7. Check and publish -----------------------------------------------------------------------

note "Checking the server"
if (( DRY_RUN )); then
    echo "+ $BIN_PATH healthcheck --port $PORT"
else
    for _ in $(seq 1 20); do
        if "$BIN_PATH" healthcheck --port "$PORT" >/dev/null 2>&1; then break; fi
        sleep 1
    done
    "$BIN_PATH" healthcheck --port "$PORT" || die "the service does not answer on 127.0.0.1:$PORT: see 'journalctl -u $SERVICE'"
fi

PUBLISH_COMMAND="cd $CONFIG_DIR && $BIN_PATH publish $DOMAIN"
note "Publishing the server location (xyz.groundmist.sync record, host $DOMAIN)"
case "$PUBLISH" in
    no) echo "    skipped; later run: sudo sh -c '$PUBLISH_COMMAND'" ;;
    *)
        if [[ "$PUBLISH" == "yes" ]] || confirm "Publish $DOMAIN as your Groundmist sync server now (asks for an app password)?"; then
            if (( DRY_RUN )); then
                echo "+ $PUBLISH_COMMAND"
            else
                (cd "$CONFIG_DIR" && "$BIN_PATH" publish "$DOMAIN") || echo "    publishing failed; fix the problem above, then run: sudo sh -c '$PUBLISH_COMMAND'"
            fi
        else
            echo "    skipped; later run: sudo sh -c '$PUBLISH_COMMAND'"
        fi
        ;;
esac

cat <<DONE

Groundmist sync server for $OWNER_DID
  URL:        https://$DOMAIN  (WebSocket: wss://$DOMAIN/)
  data:       $DATA_DIR
  settings:   $ENV_FILE (the secret stays there; it is not printed)
  status:     systemctl status $SERVICE ; journalctl -u $SERVICE -f
  metrics:    curl http://127.0.0.1:$PORT/metrics   (on this machine; Caddy answers 404 for /metrics)
  sessions:   cd $CONFIG_DIR && sudo -u $SERVICE_USER $BIN_PATH sessions list
DONE
if (( DRY_RUN )); then echo "(dry run: nothing was changed)"; fi
