#!/usr/bin/env bash
# Installs the Groundmist personal sync server on Debian or Ubuntu: the binary, a system user, a
# hardened systemd service that refuses to start without its settings, Caddy as the TLS reverse
# proxy (automatic Let's Encrypt certificates) and a .env with a generated secret; then checks
# HTTPS and offers to publish the server's location to your ATProto repo.
#
# Safe to run again (that is how you update): existing users, directories, data and the secret
# are kept; files it manages are rewritten only when their content changes. Every Caddy
# configuration is validated by the installed Caddy before anything is replaced, and a failed
# validation puts the previous file back. --dry-run prints every action instead of doing it;
# --uninstall removes the service and keeps the data.
set -euo pipefail
shopt -s inherit_errexit

readonly SERVICE=groundmist-sync
readonly MARKER="# Managed by groundmist-sync deploy/installer.sh"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR

DOMAIN=""
OWNER_DID=""
ACME_EMAIL=""
BINARY=""
SOURCE_DIR="$(cd "${SCRIPT_DIR}/.." && pwd)"
SERVICE_USER="groundmist"
CONFIG_DIR="/etc/groundmist-sync"
DATA_DIR="/var/lib/groundmist-sync"
BIN_PATH="/usr/local/bin/groundmist-sync"
DOC_DIR="/usr/local/share/doc/groundmist-sync"
UNIT_PATH="/etc/systemd/system/${SERVICE}.service"
CADDYFILE="/etc/caddy/Caddyfile"
CADDY="caddy"
CADDY_OPTIONS=()
REPLACE_CADDYFILE=0
PORT="3031"
DRY_RUN=0
ASSUME_YES=0
PUBLISH="ask"
SKIP_PREFLIGHT=0
MODE="install"
PURGE=0

usage() {
    cat <<USAGE
Usage: sudo bash installer.sh --domain sync.example.com --did did:plc:... [options]
       sudo bash installer.sh --uninstall [--purge]

Installs groundmist-sync as a systemd service behind Caddy (HTTPS with Let's Encrypt).
The domain's DNS A/AAAA record must point at this machine, and ports 80 and 443 must be free.
Run it again to update (with a new --binary); your data and secret are kept.

Required:
  --domain DOMAIN     public host name of the server (no scheme), e.g. sync.example.com
  --did DID           your ATProto DID, the server's only user (kept from an existing .env if omitted)

Options:
  --binary PATH       install this release binary (made by deploy/build-release.sh; default: the
                      groundmist-sync beside this script, if there is one); it must run here
  --source DIR        otherwise build from this package (default: ${SOURCE_DIR}); needs Swift 6.2+
  --email EMAIL       contact address for Let's Encrypt (optional)
  --port PORT         loopback port the server listens on (default: ${PORT})
  --data-dir DIR      where documents and sessions are stored (default: ${DATA_DIR})
  --config-dir DIR    where .env lives (default: ${CONFIG_DIR})
  --user NAME         system user the service runs as (default: ${SERVICE_USER})
  --caddyfile PATH    Caddy's main configuration (default: ${CADDYFILE})
  --caddy PATH        the Caddy binary that validates and serves the configuration (default: caddy)
  --caddy-option LINE an extra line for Caddy's global options block (repeatable), e.g. "admin off"
  --replace-caddyfile replace a Caddyfile this installer did not write (kept as a backup); by
                      default the site goes to groundmist-sync.caddy beside it, to import yourself
  --print-caddyfile   print the Caddyfile this installer would write (for --domain, --port and the
                      Caddy version found) and exit; needs no root
  --skip-preflight    skip the checks of the system, ports 80/443 and DNS (e.g. in a test root)
  --publish           publish the location at the end without asking
  --no-publish        do not offer to publish
  -y, --yes           answer yes to questions (publishing still asks for your app password)
  --dry-run           print every action instead of doing it; needs no root
  --uninstall         stop and remove the service, binary and Caddy site; keeps data and .env
  --purge             with --uninstall: also delete the data directory, .env and the user
  -h, --help          show this help
USAGE
}

die() { echo "installer: $*" >&2; exit 1; }
note() { echo "==> $*"; }
warn() { echo "    warning: $*" >&2; }

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --domain) need_value "$@"; DOMAIN="$2"; shift 2 ;;
        --did) need_value "$@"; OWNER_DID="$2"; shift 2 ;;
        --email) need_value "$@"; ACME_EMAIL="$2"; shift 2 ;;
        --binary) need_value "$@"; BINARY="$2"; shift 2 ;;
        --source) need_value "$@"; SOURCE_DIR="$2"; shift 2 ;;
        --port) need_value "$@"; PORT="$2"; shift 2 ;;
        --data-dir) need_value "$@"; DATA_DIR="$2"; shift 2 ;;
        --config-dir) need_value "$@"; CONFIG_DIR="$2"; shift 2 ;;
        --user) need_value "$@"; SERVICE_USER="$2"; shift 2 ;;
        --caddyfile) need_value "$@"; CADDYFILE="$2"; shift 2 ;;
        --caddy) need_value "$@"; CADDY="$2"; shift 2 ;;
        --caddy-option) need_value "$@"; CADDY_OPTIONS+=("$2"); shift 2 ;;
        --replace-caddyfile) REPLACE_CADDYFILE=1; shift ;;
        --print-caddyfile) MODE="print-caddyfile"; shift ;;
        --skip-preflight) SKIP_PREFLIGHT=1; shift ;;
        --publish) PUBLISH="yes"; shift ;;
        --no-publish) PUBLISH="no"; shift ;;
        -y|--yes) ASSUME_YES=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        --uninstall) MODE="uninstall"; shift ;;
        --purge) PURGE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

ENV_FILE="${CONFIG_DIR}/.env"
CADDY_SITE_FILE="$(dirname "${CADDYFILE}")/${SERVICE}.caddy"
CADDY_BACKUP="${CADDYFILE}.before-groundmist"
(( PURGE == 0 )) || [[ "${MODE}" == "uninstall" ]] || die "--purge goes with --uninstall"

# --- Helpers ----------------------------------------------------------------------------------

# Runs a command, or prints it under --dry-run.
run() {
    if (( DRY_RUN )); then
        echo "+ $*"
    else
        "$@"
    fi
}

# same_content PATH TEXT: the file exists and holds exactly TEXT (give or take a final newline).
same_content() {
    [[ -f "$1" ]] || return 1
    local current
    current="$(cat "$1")"
    [[ "${current}" == "$2" ]]
}

# write_file PATH MODE OWNER:GROUP, content on stdin. Sets WROTE=1 when the file was (or would
# be) written and WROTE=0 when it was already up to date. Any failure (mktemp, chmod, chown, mv)
# stops the installer: nothing claims "wrote" for a file that is not in place.
WROTE=0
write_file() {
    local path="$1" mode="$2" owner="$3" content tmp
    content="$(cat)"
    WROTE=0
    # shellcheck disable=SC2310 # a predicate
    if same_content "${path}" "${content}"; then
        echo "    unchanged: ${path}"
        return 0
    fi
    WROTE=1
    if (( DRY_RUN )); then
        echo "+ write ${path} (mode ${mode}, owner ${owner}):"
        # Never print a secret, not even a newly generated one, nor any kept line that looks like one.
        printf '%s\n' "${content}" \
            | sed -E -e 's/^([[:space:]]*(export[[:space:]]+)?[A-Za-z0-9_]*(PASSWORD|SECRET|TOKEN|KEY)[A-Za-z0-9_]*[[:space:]]*=).*/\1<secret, not shown>/I' \
                -e 's/^/    | /'
        return 0
    fi
    tmp="$(mktemp "${path}.XXXXXX")"
    if ! { printf '%s\n' "${content}" > "${tmp}" && chmod "${mode}" "${tmp}" && chown "${owner}" "${tmp}" && mv -f "${tmp}" "${path}"; }; then
        rm -f "${tmp}"
        die "cannot write ${path} (mode ${mode}, owner ${owner})"
    fi
    echo "    wrote ${path}"
}

confirm() {  # question -> 0 for yes
    if (( ASSUME_YES )); then return 0; fi
    if [[ ! -t 0 ]]; then return 1; fi
    local answer
    read -r -p "$1 [Y/n] " answer
    [[ -z "${answer}" || "${answer}" =~ ^[Yy] ]]
}

generate_secret() {  # 32 random bytes as 64 hex characters
    if command -v openssl >/dev/null 2>&1; then
        openssl rand -hex 32
    else
        head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n'
    fi
}

existing_env_value() {  # KEY -> value from an existing .env, or empty
    [[ -r "${ENV_FILE}" ]] || return 0
    local lines
    lines="$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "${ENV_FILE}")"
    printf '%s\n' "${lines}" | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"
}

# --- Caddy configuration ------------------------------------------------------------------------

# "2.6.2" from `caddy version` ("v2.11.7 h1:…" for official builds, "2.6.2" for Debian's).
caddy_version() {
    local output
    output="$("${CADDY}" version 2>/dev/null)" || return 1
    [[ "${output}" =~ ^v?([0-9]+\.[0-9]+(\.[0-9]+)?) ]] || return 1
    echo "${BASH_REMATCH[1]}"
}

# version_at_least 2.6.2 2.7 -> 0 when the first is at least the second.
version_at_least() {
    local have_major have_minor want_major want_minor
    IFS=. read -r have_major have_minor _ <<<"$1"
    IFS=. read -r want_major want_minor _ <<<"$2"
    (( have_major > want_major || (have_major == want_major && have_minor >= want_minor) ))
}

# The global log filter. Caddy's logs record request URIs and the apps send their sync token in
# the query string: the filter deletes it (and any Authorization header) from every entry. `wrap`
# is required by Caddy 2.6 and still accepted by current releases.
caddy_log_block() {
    cat <<'LOG'
	log {
		format filter {
			wrap console
			fields {
				request>uri query {
					delete token
				}
				request>headers>Authorization delete
			}
		}
	}
LOG
}

# The site block for the Caddy version found ($1). /metrics and everything below it is answered
# 404 (the figures are for this machine: curl http://127.0.0.1:PORT/metrics). stream_close_delay
# (Caddy 2.7+) keeps WebSockets open across config reloads; older Caddy closes them, and the apps
# reconnect by themselves.
caddy_site_block() {
    local version="$1"
    echo "${DOMAIN} {"
    printf '\t%s\n' "@metrics path /metrics /metrics/*" "respond @metrics 404"
    # shellcheck disable=SC2310 # a predicate
    if version_at_least "${version}" 2.7; then
        printf '\t%s\n' "reverse_proxy 127.0.0.1:${PORT} {" "	# Keep WebSockets open across Caddy config reloads." "	stream_close_delay 5m" "}"
    else
        printf '\t%s\n' "reverse_proxy 127.0.0.1:${PORT}"
    fi
    echo "}"
}

# The whole Caddyfile this installer owns.
caddy_file() {
    local version="$1" option
    echo "${MARKER}"
    echo "# Caddy ${version}: obtains and renews the certificate for ${DOMAIN}, redirects http to"
    echo "# https and proxies WebSocket upgrades. No access log is kept; the log filter below keeps"
    echo "# sync tokens out of the logs Caddy does write."
    echo "{"
    [[ -z "${ACME_EMAIL}" ]] || printf '\temail %s\n' "${ACME_EMAIL}"
    for option in "${CADDY_OPTIONS[@]}"; do printf '\t%s\n' "${option}"; done
    caddy_log_block
    echo "}"
    echo
    caddy_site_block "${version}"
}

# caddy_validate FILE: the installed Caddy's verdict on a Caddyfile, its message shown on failure.
caddy_validate() {
    local output
    if output="$("${CADDY}" validate --adapter caddyfile --config "$1" 2>&1)"; then
        return 0
    fi
    printf '%s\n' "${output}" | grep -v -E '"level":"(info|debug)"' | tail -n 5 | sed 's/^/    caddy: /' >&2
    return 1
}

# --- Validation ---------------------------------------------------------------------------------

validate_domain() {
    [[ -n "${DOMAIN}" ]] || { usage >&2; die "--domain is required"; }
    [[ "${DOMAIN}" != *"://"* ]] || die "--domain takes a host name without a scheme, e.g. ${DOMAIN#*://}"
    [[ "${DOMAIN}" =~ ^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$ ]] \
        || die "--domain '${DOMAIN}' is not a DNS name"
    if ! [[ "${PORT}" =~ ^[0-9]+$ ]] || (( PORT < 1 || PORT > 65535 )); then die "--port must be 1-65535"; fi
}

if [[ "${MODE}" == "print-caddyfile" ]]; then
    validate_domain
    # shellcheck disable=SC2310 # a query: failing means "no usable Caddy", handled here
    VERSION="$(caddy_version)" || die "cannot run '${CADDY} version': install Caddy or pass --caddy PATH"
    caddy_file "${VERSION}"
    exit 0
fi

[[ "${SERVICE_USER}" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "--user '${SERVICE_USER}' is not a valid user name"
[[ "${DATA_DIR}" == /* && "${CONFIG_DIR}" == /* && "${CADDYFILE}" == /* ]] || die "--data-dir, --config-dir and --caddyfile must be absolute paths"
if (( ! DRY_RUN )) && [[ ${EUID} -ne 0 ]]; then
    die "run as root (sudo bash $0 ...), or add --dry-run to see what it would do"
fi

# --- Uninstall ----------------------------------------------------------------------------------

if [[ "${MODE}" == "uninstall" ]]; then
    note "Removing the ${SERVICE} service"
    if [[ -f "${UNIT_PATH}" ]]; then
        run systemctl disable --now "${SERVICE}"
        run rm -f "${UNIT_PATH}"
        run systemctl daemon-reload
    else
        echo "    no unit at ${UNIT_PATH}"
    fi
    run rm -f "${BIN_PATH}" "${BIN_PATH}.previous"
    run rm -rf "${DOC_DIR}"

    note "Removing the Caddy site"
    CADDY_CHANGED=0
    if [[ -f "${CADDYFILE}" ]] && grep -q -F "${MARKER}" "${CADDYFILE}"; then
        if [[ -f "${CADDY_BACKUP}" ]]; then
            echo "    restoring ${CADDYFILE} from ${CADDY_BACKUP}"
            run mv -f "${CADDY_BACKUP}" "${CADDYFILE}"
        else
            echo "    replacing ${CADDYFILE} with an empty configuration"
            write_file "${CADDYFILE}" 0644 root:root <<<"# Emptied by groundmist-sync deploy/installer.sh --uninstall"
        fi
        CADDY_CHANGED=1
    fi
    if [[ -f "${CADDY_SITE_FILE}" ]]; then
        run rm -f "${CADDY_SITE_FILE}"
        if [[ -f "${CADDYFILE}" ]] && grep -q -x -F "import ${CADDY_SITE_FILE}" "${CADDYFILE}"; then
            echo "    removing the line 'import ${CADDY_SITE_FILE}' from ${CADDYFILE}"
            # grep exits 1 when no line is left: an empty Caddyfile.
            KEPT="$(grep -v -x -F "import ${CADDY_SITE_FILE}" "${CADDYFILE}")" || KEPT=""
            write_file "${CADDYFILE}" 0644 root:root <<<"${KEPT}"
        fi
        CADDY_CHANGED=1
    fi
    if (( CADDY_CHANGED )) && command -v systemctl >/dev/null 2>&1; then
        run systemctl reload-or-restart caddy
    fi

    if (( PURGE )); then
        note "Deleting the data, the settings and the user (--purge)"
        run rm -rf "${DATA_DIR}" "${CONFIG_DIR}"
        if id -u "${SERVICE_USER}" >/dev/null 2>&1; then run userdel "${SERVICE_USER}"; fi
    else
        echo
        echo "Kept: the data in ${DATA_DIR}, the settings (and secret) in ${ENV_FILE} and the user ${SERVICE_USER}."
        echo "Installing again picks them up; 'installer.sh --uninstall --purge' deletes them."
    fi
    if (( DRY_RUN )); then echo "(dry run: nothing was changed)"; fi
    exit 0
fi

# --- Install: settings --------------------------------------------------------------------------

validate_domain
if [[ -z "${OWNER_DID}" ]]; then
    OWNER_DID="$(existing_env_value ATPROTO_DID)"
    [[ -n "${OWNER_DID}" ]] || die "--did is required (your ATProto DID, e.g. did:plc:abc...; find it at https://bsky.app/settings or with 'dig TXT _atproto.<handle>')"
fi
[[ "${OWNER_DID}" =~ ^did:(plc:[a-z2-7]{24}|web:[A-Za-z0-9.%:-]+)$ ]] || die "--did '${OWNER_DID}' is not a did:plc or did:web DID"
[[ -z "${ACME_EMAIL}" || "${ACME_EMAIL}" =~ ^[^[:space:]@]+@[^[:space:]@]+$ ]] || die "--email '${ACME_EMAIL}' is not an email address"

if [[ -z "${BINARY}" && -x "${SCRIPT_DIR}/groundmist-sync" ]]; then
    BINARY="${SCRIPT_DIR}/groundmist-sync"
fi

# --- 1. Pre-flight ------------------------------------------------------------------------------

# The addresses this machine answers on: its interfaces and, behind NAT, the public address an
# outside service sees (api.ipify.org, as the original installer used).
machine_addresses() {
    hostname -I 2>/dev/null | tr ' ' '\n'
    curl -fsS --max-time 5 https://api.ipify.org 2>/dev/null && echo
    curl -fsS --max-time 5 https://api6.ipify.org 2>/dev/null && echo
}

port_user() {  # PORT -> the program listening on it, or nothing
    local lines
    lines="$(ss -H -l -t -n -p "sport = :$1" 2>/dev/null)" || return 0
    [[ -n "${lines}" ]] || return 0
    if [[ "${lines}" =~ users:\(\(\"([^\"]+)\" ]]; then echo "${BASH_REMATCH[1]}"; else echo "an unknown program"; fi
}

preflight() {
    note "Checking the system (--skip-preflight skips this)"
    local id="" like="" pretty="" arch program records addresses
    if [[ -r /etc/os-release ]]; then
        id="$(. /etc/os-release && echo "${ID:-}")"
        like="$(. /etc/os-release && echo "${ID_LIKE:-}")"
        pretty="$(. /etc/os-release && echo "${PRETTY_NAME:-}")"
    fi
    case "${id}:${like}" in
        debian:*|ubuntu:*|*:*debian*) echo "    system: ${pretty:-${id}}" ;;
        *) die "this installer supports Debian and Ubuntu only (found ${pretty:-an unknown system}); see the README for Docker" ;;
    esac
    arch="$(uname -m)"
    case "${arch}" in
        x86_64|aarch64) echo "    architecture: ${arch}" ;;
        *) die "no release binary for ${arch}: build one with deploy/build-release.sh on this machine and pass --binary" ;;
    esac
    command -v systemctl >/dev/null 2>&1 || die "systemd is required (systemctl not found)"
    for port in 80 443; do
        program="$(port_user "${port}")"
        if [[ -n "${program}" && "${program}" != "caddy" ]]; then
            die "port ${port} is in use by ${program}: Caddy needs ports 80 and 443 for HTTPS and certificates; stop it first"
        fi
    done
    echo "    ports 80 and 443: free (or Caddy's)"
    records="$(getent ahosts "${DOMAIN}" | awk '{ print $1 }' | sort -u)" || records=""
    [[ -n "${records}" ]] || die "${DOMAIN} does not resolve: create a DNS A (and/or AAAA) record pointing at this machine, wait until 'getent hosts ${DOMAIN}' shows it, then run this again"
    # Best effort: the outside address service may be unreachable; the comparison then fails loudly.
    # shellcheck disable=SC2310 # best effort, see above
    addresses="$(machine_addresses | sort -u)" || addresses=""
    if [[ -z "${addresses}" ]]; then
        die "${DOMAIN} points at ${records//$'\n'/ } but this machine's addresses cannot be found (hostname -I and api.ipify.org gave none) to compare; check the record yourself, then run again with --skip-preflight"
    fi
    if ! grep -q -x -F -f <(printf '%s\n' "${records}") <<<"${addresses}"; then
        die "${DOMAIN} points at ${records//$'\n'/ } but this machine is ${addresses//$'\n'/ } — fix the DNS record (Let's Encrypt would fail), or --skip-preflight if you know better"
    fi
    echo "    DNS: ${DOMAIN} points at this machine"
}

if (( SKIP_PREFLIGHT )); then
    note "Skipping the pre-flight checks (--skip-preflight)"
elif (( DRY_RUN )); then
    note "Pre-flight checks (not run in a dry run): Debian/Ubuntu, x86_64/aarch64, ports 80/443 free, DNS of ${DOMAIN}"
else
    preflight
fi

# --- 2. Packages --------------------------------------------------------------------------------

note "Installing packages"
run apt-get update
run apt-get install -y --no-install-recommends ca-certificates curl openssl
if [[ "${CADDY}" == "caddy" ]] && ! command -v caddy >/dev/null 2>&1; then
    # Debian 12 and Ubuntu 24.04 ship Caddy 2.6; the configuration below works with it.
    if apt-cache show caddy >/dev/null 2>&1; then
        run apt-get install -y caddy
    else
        # Caddy's own apt repository (Debian 11, Ubuntu 22.04 and others without a caddy package).
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
fi
# shellcheck disable=SC2310 # a query: failing means "no usable Caddy", handled here
if (( DRY_RUN )) && ! CADDY_VERSION="$(caddy_version)"; then
    CADDY_VERSION="2.6.2"
    echo "    no Caddy here: the plan assumes Debian's Caddy ${CADDY_VERSION}"
else
    # shellcheck disable=SC2310 # as above
    CADDY_VERSION="$(caddy_version)" || die "cannot run '${CADDY} version' after installing Caddy"
    echo "    Caddy ${CADDY_VERSION}"
fi

# --- 3. Binary ----------------------------------------------------------------------------------

note "Installing the groundmist-sync binary at ${BIN_PATH}"
# check_binary PATH: it must run on this machine (a release build needs no Swift toolchain).
check_binary() {
    local version
    [[ -f "$1" && -x "$1" ]] || die "$1 is not an executable file"
    version="$("$1" --version 2>&1)" || die "$1 does not run on this machine: ${version}
    (build a release binary with deploy/build-release.sh, which links the Swift runtime in)"
    echo "    $1 runs: version ${version}"
}
if [[ -z "${BINARY}" ]]; then
    [[ -f "${SOURCE_DIR}/Package.swift" ]] || die "no Package.swift in ${SOURCE_DIR}: pass --binary PATH (a release from deploy/build-release.sh) or --source DIR"
    if ! command -v swift >/dev/null 2>&1 && (( ! DRY_RUN )); then
        die "no --binary given and building needs a Swift 6.2+ toolchain: build a release elsewhere with deploy/build-release.sh and pass --binary PATH"
    fi
    # compress-nio (WebSocket compression) links the system zlib.
    run apt-get install -y --no-install-recommends zlib1g-dev
    run bash "${SOURCE_DIR}/deploy/build-release.sh" --output "${SOURCE_DIR}/.build/dist"
    BINARY="${SOURCE_DIR}/.build/dist/groundmist-sync"
fi
BIN_CHANGED=1
if (( DRY_RUN )); then
    echo "+ ${BINARY} --version"
    run install -m 0755 -o root -g root "${BINARY}" "${BIN_PATH}"
elif [[ -f "${BIN_PATH}" ]] && cmp -s "${BINARY}" "${BIN_PATH}"; then
    check_binary "${BIN_PATH}"
    echo "    unchanged: ${BIN_PATH}"
    BIN_CHANGED=0
else
    check_binary "${BINARY}"
    install -m 0755 -o root -g root "${BINARY}" "${BIN_PATH}.new"
    check_binary "${BIN_PATH}.new"
    if [[ -f "${BIN_PATH}" ]]; then cp -p "${BIN_PATH}" "${BIN_PATH}.previous"; fi
    mv -f "${BIN_PATH}.new" "${BIN_PATH}"
    echo "    installed ${BIN_PATH}"
fi
if [[ -f "${SOURCE_DIR}/README.md" || -f "${SCRIPT_DIR}/README.md" ]]; then
    README="${SCRIPT_DIR}/README.md"
    [[ -f "${README}" ]] || README="${SOURCE_DIR}/README.md"
    run install -d -m 0755 "${DOC_DIR}"
    run install -m 0644 "${README}" "${DOC_DIR}/README.md"
fi

# --- 4. User and directories --------------------------------------------------------------------

note "Creating the system user ${SERVICE_USER} and its directories"
if id -u "${SERVICE_USER}" >/dev/null 2>&1; then
    echo "    user ${SERVICE_USER} exists"
else
    run useradd --system --user-group --home-dir "${DATA_DIR}" --no-create-home --shell /usr/sbin/nologin "${SERVICE_USER}"
fi
run install -d -m 0750 -o "${SERVICE_USER}" -g "${SERVICE_USER}" "${DATA_DIR}"
run install -d -m 0750 -o root -g "${SERVICE_USER}" "${CONFIG_DIR}"

# --- 5. .env ------------------------------------------------------------------------------------

note "Writing ${ENV_FILE}"
SECRET="$(existing_env_value GROUNDMIST_SYNC_SECRET_KEY)"
if [[ -n "${SECRET}" ]]; then
    echo "    keeping the existing GROUNDMIST_SYNC_SECRET_KEY"
elif (( DRY_RUN )); then
    echo "    would generate a new 32-byte GROUNDMIST_SYNC_SECRET_KEY (not shown)"
    SECRET="<generated secret>"
else
    SECRET="$(generate_secret)"
fi
# Lines other than the ones managed here (e.g. GROUNDMIST_ALLOWED_ORIGINS, LOG_LEVEL) are kept.
OTHER_LINES=""
if [[ -r "${ENV_FILE}" ]]; then
    # grep exits 1 when there are no other lines (the file was checked readable above).
    OTHER_LINES="$(grep -v -E '^[[:space:]]*(ATPROTO_DID|GROUNDMIST_SYNC_SECRET_KEY|HOST|PORT|DATA_DIR|PUBLIC_URL)[[:space:]]*=' "${ENV_FILE}" | grep -v -F "${MARKER}")" || OTHER_LINES=""
fi
ENV_CONTENT="${MARKER}
ATPROTO_DID=${OWNER_DID}
GROUNDMIST_SYNC_SECRET_KEY=${SECRET}
HOST=127.0.0.1
PORT=${PORT}
DATA_DIR=${DATA_DIR}
PUBLIC_URL=https://${DOMAIN}${OTHER_LINES:+
${OTHER_LINES}}"
# Not through a pipe: write_file must run in this shell to report WROTE.
write_file "${ENV_FILE}" 0640 "root:${SERVICE_USER}" <<<"${ENV_CONTENT}"
ENV_CHANGED=${WROTE}
unset SECRET ENV_CONTENT

# --- 6. systemd unit ----------------------------------------------------------------------------

note "Writing the systemd service ${SERVICE}"
write_file "${UNIT_PATH}" 0644 root:root <<UNIT
${MARKER}
[Unit]
Description=Groundmist personal sync server
Documentation=file://${DOC_DIR}/README.md
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${SERVICE_USER}
Group=${SERVICE_USER}
# No dash: a missing .env fails the start instead of running without authentication, and
# --require-auth refuses to start when the settings in it are incomplete.
EnvironmentFile=${ENV_FILE}
Environment=GROUNDMIST_REQUIRE_AUTH=1
WorkingDirectory=${CONFIG_DIR}
ExecStart=${BIN_PATH} serve --require-auth
Restart=on-failure
RestartSec=5
TimeoutStopSec=30
LimitNOFILE=65536
UMask=0027

# Hardening: the service may write only to its data directory.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${DATA_DIR}
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
UNIT_CHANGED=${WROTE}

# --- 7. Caddy configuration (validated before anything is replaced) -----------------------------

note "Configuring Caddy ${CADDY_VERSION} as the HTTPS reverse proxy for ${DOMAIN}"
# True when the Caddyfile is still the one the caddy package installed (its welcome page).
caddyfile_is_package_default() {
    command -v dpkg-query >/dev/null 2>&1 && command -v md5sum >/dev/null 2>&1 || return 1
    local expected actual
    expected="$(dpkg-query -W -f='${Conffiles}\n' caddy 2>/dev/null | awk -v f="${CADDYFILE}" '$1 == f { print $2 }')" || return 1
    actual="$(md5sum "${CADDYFILE}" | cut -d' ' -f1)" || return 1
    [[ -n "${expected}" && "${expected}" == "${actual}" ]]
}

# install_caddy_file TARGET STANDALONE: validates STANDALONE (a complete Caddyfile holding the new
# content) first; then puts the new TARGET in place, validates the main Caddyfile, and on failure
# puts the previous TARGET back. Content on stdin. Sets WROTE like write_file.
install_caddy_file() {
    local target="$1" standalone="$2" content previous=""
    content="$(cat)"
    WROTE=0
    # shellcheck disable=SC2310 # a predicate
    if same_content "${target}" "${content}"; then
        echo "    unchanged: ${target}"
        return 0
    fi
    if (( DRY_RUN )); then
        write_file "${target}" 0644 root:root <<<"${content}"
        echo "+ ${CADDY} validate --adapter caddyfile --config ${CADDYFILE}"
        return 0
    fi
    local check
    check="$(mktemp "${target}.check.XXXXXX")"
    printf '%s\n' "${standalone}" > "${check}"
    # shellcheck disable=SC2310 # a predicate: Caddy's verdict
    if ! caddy_validate "${check}"; then
        rm -f "${check}"
        die "Caddy ${CADDY_VERSION} rejects the new configuration; nothing was replaced (please report this)"
    fi
    rm -f "${check}"
    if [[ -f "${target}" ]]; then
        previous="$(mktemp "${target}.previous.XXXXXX")"
        cp -p "${target}" "${previous}"
    fi
    write_file "${target}" 0644 root:root <<<"${content}"
    # shellcheck disable=SC2310 # a predicate: Caddy's verdict
    if ! caddy_validate "${CADDYFILE}"; then
        if [[ -n "${previous}" ]]; then
            mv -f "${previous}" "${target}"
            echo "    restored the previous ${target}" >&2
        else
            rm -f "${target}"
        fi
        die "Caddy ${CADDY_VERSION} rejects ${CADDYFILE} with the new site; the previous configuration was put back and Caddy was not reloaded"
    fi
    [[ -z "${previous}" ]] || rm -f "${previous}"
    WROTE=1
}

CADDY_CHANGED=0
CADDY_OWN_FILE=1
if [[ -f "${CADDYFILE}" ]] && ! grep -q -F "${MARKER}" "${CADDYFILE}"; then
    # shellcheck disable=SC2310 # a predicate; "cannot tell" counts as "not the default"
    if (( REPLACE_CADDYFILE )) || caddyfile_is_package_default; then
        echo "    keeping the previous Caddyfile as ${CADDY_BACKUP}"
        [[ -e "${CADDY_BACKUP}" ]] || run cp -p "${CADDYFILE}" "${CADDY_BACKUP}"
    else
        CADDY_OWN_FILE=0
    fi
fi
[[ -d "$(dirname "${CADDYFILE}")" ]] || run install -d -m 0755 "$(dirname "${CADDYFILE}")"
if (( CADDY_OWN_FILE )); then
    CADDY_CONTENT="$(caddy_file "${CADDY_VERSION}")"
    install_caddy_file "${CADDYFILE}" "${CADDY_CONTENT}" <<<"${CADDY_CONTENT}"
    CADDY_CHANGED=${WROTE}
else
    # Another Caddyfile serves other sites: leave it alone, and say what to add.
    echo "    ${CADDYFILE} was not written by this installer: leaving it as it is (--replace-caddyfile replaces it)"
    SITE_CONTENT="${MARKER}
# The groundmist-sync site; imported from ${CADDYFILE}.
$(caddy_site_block "${CADDY_VERSION}")"
    STANDALONE="{
$(caddy_log_block)
}

${SITE_CONTENT}"
    install_caddy_file "${CADDY_SITE_FILE}" "${STANDALONE}" <<<"${SITE_CONTENT}"
    CADDY_CHANGED=${WROTE}
    if grep -q -x -F "import ${CADDY_SITE_FILE}" "${CADDYFILE}"; then
        echo "    ${CADDYFILE} imports ${CADDY_SITE_FILE}"
    else
        CADDY_CHANGED=0
        LOG_BLOCK="$(caddy_log_block)"
        cat <<ADVICE
    To serve ${DOMAIN}, add this line at the end of ${CADDYFILE}:

        import ${CADDY_SITE_FILE}

    and, so that sync tokens stay out of Caddy's logs, this to its global options block
    (the { ... } at the very top; create it if there is none):

${LOG_BLOCK}

    then run: ${CADDY} validate --adapter caddyfile --config ${CADDYFILE} && systemctl reload caddy
ADVICE
    fi
fi

# --- 8. Start -----------------------------------------------------------------------------------

note "Starting ${SERVICE} and Caddy"
run systemctl daemon-reload
run systemctl enable "${SERVICE}" caddy
# What the service was last started with (binary, .env, unit), recorded after it answered: a run
# that stopped half-way (e.g. Caddy rejected the configuration after .env changed) leaves a
# difference, so the next run restarts the service even though it writes nothing itself.
STARTED_STAMP="${CONFIG_DIR}/.started-with"
installed_state() { cat "${BIN_PATH}" "${ENV_FILE}" "${UNIT_PATH}" | sha256sum | cut -d' ' -f1; }
STATE_NOW=""
STATE_STARTED=""
if (( ! DRY_RUN )); then
    STATE_NOW="$(installed_state)"
    if [[ -r "${STARTED_STAMP}" ]]; then STATE_STARTED="$(cat "${STARTED_STAMP}")"; fi
fi
if (( BIN_CHANGED || ENV_CHANGED || UNIT_CHANGED || DRY_RUN )) || [[ "${STATE_NOW}" != "${STATE_STARTED}" ]] \
    || ! systemctl is-active --quiet "${SERVICE}"; then
    # A new binary, unit or .env takes effect now; the apps reconnect by themselves.
    run systemctl restart "${SERVICE}"
else
    echo "    ${SERVICE} is running and nothing changed"
fi
if (( CADDY_CHANGED )); then
    run systemctl reload-or-restart caddy
else
    run systemctl start caddy
fi

if (( DRY_RUN )); then
    echo "+ ${BIN_PATH} healthcheck --port ${PORT}"
else
    healthy=0
    for _ in $(seq 1 30); do
        if "${BIN_PATH}" healthcheck --port "${PORT}" >/dev/null 2>&1; then healthy=1; break; fi
        sleep 1
    done
    (( healthy )) || die "the service does not answer on 127.0.0.1:${PORT}: see 'journalctl -u ${SERVICE}'"
    echo "    the server answers on 127.0.0.1:${PORT}"
    printf '%s\n' "${STATE_NOW}" > "${STARTED_STAMP}"
fi

# --- 9. Post-flight: HTTPS from the outside, then publish ---------------------------------------

note "Checking https://${DOMAIN}/healthz"
HTTPS_OK=0
if (( DRY_RUN )); then
    echo "+ curl -fsS https://${DOMAIN}/healthz"
    HTTPS_OK=1
elif ! getent ahosts "${DOMAIN}" >/dev/null 2>&1; then
    echo "    skipped: ${DOMAIN} does not resolve from here yet"
else
    for _ in $(seq 1 12); do
        if curl -fsS --max-time 10 -o /dev/null "https://${DOMAIN}/healthz" 2>/dev/null; then HTTPS_OK=1; break; fi
        sleep 5
    done
    if (( HTTPS_OK )); then
        echo "    https://${DOMAIN} answers"
    else
        warn "https://${DOMAIN}/healthz does not answer yet: Caddy may still be getting the certificate (see 'journalctl -u caddy'); check ports 80/443 and DNS"
    fi
fi

PUBLISH_COMMAND="sudo sh -c 'cd ${CONFIG_DIR} && ${BIN_PATH} publish ${DOMAIN}'"
note "Publishing the server location (xyz.groundmist.sync record, host ${DOMAIN})"
# shellcheck disable=SC2310 # confirm is a question
if [[ "${PUBLISH}" == "no" ]]; then
    echo "    skipped; later run: ${PUBLISH_COMMAND}"
elif (( ! HTTPS_OK )); then
    echo "    not offered until https://${DOMAIN} answers; then run: ${PUBLISH_COMMAND}"
elif [[ "${PUBLISH}" == "yes" ]] || confirm "Publish ${DOMAIN} as your Groundmist sync server now (asks for an app password)?"; then
    if (( DRY_RUN )); then
        echo "+ cd ${CONFIG_DIR} && ${BIN_PATH} publish ${DOMAIN}"
    elif ! (cd "${CONFIG_DIR}" && "${BIN_PATH}" publish "${DOMAIN}"); then
        echo "    publishing failed; fix the problem above, then run: ${PUBLISH_COMMAND}"
    fi
else
    echo "    skipped; later run: ${PUBLISH_COMMAND}"
fi

AS_SERVICE="sudo -u ${SERVICE_USER} sh -c 'cd ${CONFIG_DIR} && ${BIN_PATH}"
cat <<DONE

Groundmist sync server for ${OWNER_DID}
  URL:        https://${DOMAIN}  (WebSocket: wss://${DOMAIN}/)
  settings:   ${ENV_FILE} (holds the secret; it is not printed)
  status:     systemctl status ${SERVICE} ; journalctl -u ${SERVICE} -f
  metrics:    curl http://127.0.0.1:${PORT}/metrics   (on this machine; Caddy answers 404 for /metrics)

The first login from each app waits for your approval. After signing in from an app, run
  ${AS_SERVICE} sessions list'
  ${AS_SERVICE} sessions approve ID'

Back up the data directory ${DATA_DIR} and ${ENV_FILE}; while the server runs:
  ${AS_SERVICE} backup -o /tmp/groundmist-backup.tar'
Update: run this installer again with the new --binary (data and secret are kept).
Uninstall: sudo bash $0 --uninstall   (keeps the data; add --purge to delete it)
DONE
if (( DRY_RUN )); then echo "(dry run: nothing was changed)"; fi
