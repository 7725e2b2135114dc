#!/usr/bin/env bash
# A real (not dry) installer run in a throw-away root: installer-root.sh ROOT BINARY CADDY INSTALLER
#
# In a private mount namespace, /etc and /usr/local are replaced by copies under ROOT, so users,
# the unit, .env and the Caddyfile are really written, and nothing outside ROOT changes. apt-get
# is stubbed (records its calls); systemctl is stubbed by a small stand-in that starts the
# service's ExecStart as its User=, with its EnvironmentFile= (missing file = failed start), and
# stops it again; Caddy is the real binary given. Scenarios, in order:
#   fresh install · second run changes nothing · Caddy rejects a change → previous Caddyfile kept ·
#   foreign Caddyfile importing the site, rejected → previous site file kept · --uninstall keeps
#   the data · --uninstall --purge deletes it.
set -euo pipefail
shopt -s inherit_errexit

ROOT="$1"
BINARY="$2"
CADDY="$3"
INSTALLER="$4"
readonly DID="did:plc:ewvi7nxzyoun6zhxrhs64oiz"
readonly DOMAIN="sync.groundmist.test"

if [[ -z "${GROUNDMIST_IN_TEST_ROOT:-}" ]]; then
    mkdir -p "${ROOT}"
    chmod 0755 "${ROOT}"
    status=0
    GROUNDMIST_IN_TEST_ROOT=1 unshare --mount --propagation private -- bash "$0" "$@" || status=$?
    # The stand-in systemctl started the server outside the namespace's lifetime: stop it.
    if [[ -f "${ROOT}/state/groundmist-sync.pid" ]]; then
        pid="$(cat "${ROOT}/state/groundmist-sync.pid")"
        kill "${pid}" 2>/dev/null || true
    fi
    exit "${status}"
fi

FAILURES=0
pass() { echo "  ok: $*"; }
fail() { echo "  FAILED: $*" >&2; FAILURES=$((FAILURES + 1)); }
lacks() { ! grep -q "$@"; }  # lacks [GREP OPTIONS] PATTERN FILE
expect() {  # expect DESCRIPTION COMMAND...: the command's output is shown only when it fails
    local description="$1" output
    shift
    if output="$("$@" 2>&1)"; then
        pass "${description}"
    else
        fail "${description}"
        printf '%s\n' "${output}" | tail -n 5 | sed 's/^/    > /' >&2
    fi
}

# --- The throw-away root ------------------------------------------------------------------------
STATE="${ROOT}/state"
STUBS="${ROOT}/stubs"
DATA="${ROOT}/var/lib/groundmist-sync"
mkdir -p "${STATE}" "${STUBS}" "${ROOT}/usr-local" "${ROOT}/var/lib"
cp -a /etc "${ROOT}/etc"
cp -a /usr/local/. "${ROOT}/usr-local/"
mount --bind "${ROOT}/etc" /etc
mount --bind "${ROOT}/usr-local" /usr/local
PORT=$(( 20000 + RANDOM % 20000 ))

cat > "${STUBS}/apt-get" <<STUB
#!/bin/sh
echo "apt-get \$*" >> "${STATE}/apt-get.log"
STUB

cat > "${STUBS}/systemctl" <<'STUB'
#!/usr/bin/env bash
# Stand-in for systemctl: records every call; start/restart/stop of a unit under
# /etc/systemd/system run its ExecStart as its User= with its EnvironmentFile=.
set -euo pipefail
STATE="__STATE__"
echo "systemctl $*" >> "${STATE}/systemctl.log"
unit_value() { sed -n "s/^$2=//p" "/etc/systemd/system/$1.service" | tail -n 1; }
stop() {
    local pid
    [[ -f "${STATE}/$1.pid" ]] || return 0
    pid="$(cat "${STATE}/$1.pid")"
    kill "${pid}" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "${pid}" 2>/dev/null; then
        echo "systemctl (stub): $1 (pid ${pid}) did not stop within 15 s of SIGTERM: killing it" >&2
        ps -o pid,stat,etime,args -p "${pid}" >&2 || true
        kill -9 "${pid}" 2>/dev/null || true
    fi
    rm -f "${STATE}/$1.pid"
}
start() {
    local unit="/etc/systemd/system/$1.service" environment_file user directory command
    [[ -f "${unit}" ]] || return 0   # e.g. caddy: not run here
    environment_file="$(unit_value "$1" EnvironmentFile)"
    if [[ -n "${environment_file}" && "${environment_file}" != -* && ! -r "${environment_file}" ]]; then
        echo "systemctl (stub): $1: EnvironmentFile ${environment_file} is missing: start failed" >&2
        return 1
    fi
    user="$(unit_value "$1" User)"
    directory="$(unit_value "$1" WorkingDirectory)"
    command="$(unit_value "$1" ExecStart)"
    local -a environment=()
    while IFS= read -r line; do
        [[ -z "${line}" || "${line}" == \#* ]] || environment+=("${line}")
    done < <(cat "${environment_file}"; unit_value "$1" Environment)
    # The subshell execs setpriv, which execs env, which execs the server: $! is the server's pid.
    # shellcheck disable=SC2086 # ExecStart is a command line
    (
        cd "${directory}"
        exec setpriv --reuid="${user}" --regid="${user}" --init-groups -- env -i PATH=/usr/bin:/bin "${environment[@]}" ${command} \
            > "${STATE}/$1.log" 2>&1 < /dev/null
    ) &
    echo $! > "${STATE}/$1.pid"
    echo "started $1 as pid $(cat "${STATE}/$1.pid")" >> "${STATE}/systemctl.log"
}
case "${1:-}" in
    restart|reload-or-restart) stop "$2"; start "$2" ;;
    start) [[ -f "${STATE}/$2.pid" ]] || start "$2" ;;
    stop) stop "$2" ;;
    disable) if [[ "${2:-}" == "--now" ]]; then stop "$3"; fi ;;
    is-active) shift; [[ "${1:-}" != "--quiet" ]] || shift; [[ -f "${STATE}/$1.pid" ]] && kill -0 "$(cat "${STATE}/$1.pid")" 2>/dev/null ;;
    *) : ;;
esac
STUB
sed -i "s|__STATE__|${STATE}|" "${STUBS}/systemctl"
chmod 0755 "${STUBS}/apt-get" "${STUBS}/systemctl"
export PATH="${STUBS}:${PATH}"

install_run() {  # extra installer arguments -> output in ${STATE}/run.log, status in RUN_STATUS
    RUN_STATUS=0
    bash "${INSTALLER}" --domain "${DOMAIN}" --did "${DID}" --binary "${BINARY}" --caddy "${CADDY}" \
        --port "${PORT}" --data-dir "${DATA}" --skip-preflight --no-publish "$@" > "${STATE}/run.log" 2>&1 || RUN_STATUS=$?
}
show_run() { sed 's/^/    | /' "${STATE}/run.log" >&2; }

# --- 0. Pre-flight (no --skip-preflight): a name that does not point here stops everything ------
echo "  pre-flight"
RUN_STATUS=0
bash "${INSTALLER}" --domain "${DOMAIN}" --did "${DID}" --binary "${BINARY}" --caddy "${CADDY}" --no-publish \
    > "${STATE}/run.log" 2>&1 || RUN_STATUS=$?
expect "a name that does not resolve fails the pre-flight" test "${RUN_STATUS}" -ne 0
expect "the message says to create the DNS record" grep -q "does not resolve: create a DNS A" "${STATE}/run.log"
expect "the system and architecture were checked first" grep -q "architecture: " "${STATE}/run.log"
expect "nothing was installed" test ! -e /etc/groundmist-sync
RUN_STATUS=0
bash "${INSTALLER}" --domain localhost --did "${DID}" --binary "${BINARY}" --caddy "${CADDY}" --no-publish \
    > "${STATE}/run.log" 2>&1 || RUN_STATUS=$?
expect "a name pointing elsewhere fails the pre-flight" test "${RUN_STATUS}" -ne 0
expect "the message names both addresses" grep -q "localhost points at .*127.0.0.1.* but this machine" "${STATE}/run.log"

# --- 1. Fresh install ---------------------------------------------------------------------------
echo "  fresh install"
DEFAULT_CADDYFILE="$(cat /etc/caddy/Caddyfile 2>/dev/null || true)"
install_run
if [[ ${RUN_STATUS} -ne 0 ]]; then show_run; ps -o pid,stat,etime,args -u groundmist >&2 || true; fi
expect "a fresh install exits 0" test "${RUN_STATUS}" -eq 0
expect "the binary is installed and runs" /usr/local/bin/groundmist-sync --version
expect "the user exists" id -u groundmist
expect ".env is root:groundmist 0640" test "$(stat -c '%U:%G %a' /etc/groundmist-sync/.env)" == "root:groundmist 640"
expect ".env holds a 64-hex-digit secret" grep -q -E '^GROUNDMIST_SYNC_SECRET_KEY=[0-9a-f]{64}$' /etc/groundmist-sync/.env
expect "the unit fails closed (EnvironmentFile=, --require-auth)" \
    grep -q -x -F "EnvironmentFile=/etc/groundmist-sync/.env" /etc/systemd/system/groundmist-sync.service
expect "the unit starts with --require-auth" grep -q -F "serve --require-auth" /etc/systemd/system/groundmist-sync.service
expect "the unit documents this project, not the Node original" lacks grjte /etc/systemd/system/groundmist-sync.service
expect "the Caddyfile is the installer's" grep -q -F "Managed by groundmist-sync" /etc/caddy/Caddyfile
expect "Caddy validates the installed Caddyfile" "${CADDY}" validate --adapter caddyfile --config /etc/caddy/Caddyfile
if [[ -n "${DEFAULT_CADDYFILE}" ]]; then
    expect "the package's Caddyfile is kept as a backup" test -f /etc/caddy/Caddyfile.before-groundmist
fi
expect "the service answers /healthz" /usr/local/bin/groundmist-sync healthcheck --port "${PORT}"
expect "Caddy was reloaded" grep -q "systemctl reload-or-restart caddy" "${STATE}/systemctl.log"
expect "the summary says what to back up" grep -q -F "Back up the data directory ${DATA}" "${STATE}/run.log"
expect "the summary has --uninstall" grep -q -F -- "--uninstall" "${STATE}/run.log"
expect "the summary's sessions command works for the service user" \
    runuser -u groundmist -- sh -c "cd /etc/groundmist-sync && /usr/local/bin/groundmist-sync sessions list"
expect "the secret is not printed" lacks -E "[0-9a-f]{64}" "${STATE}/run.log"
SECRET_BEFORE="$(grep GROUNDMIST_SYNC_SECRET_KEY /etc/groundmist-sync/.env)"

# --- 2. Second run: idempotent ------------------------------------------------------------------
echo "  second run"
CADDYFILE_BEFORE="$(cat /etc/caddy/Caddyfile)"
install_run
if [[ ${RUN_STATUS} -ne 0 ]]; then show_run; ps -o pid,stat,etime,args -u groundmist >&2 || true; fi
expect "a second run exits 0" test "${RUN_STATUS}" -eq 0
expect "a second run writes nothing" lacks "    wrote \|installed /usr/local/bin" "${STATE}/run.log"
expect "a second run keeps the secret" test "$(grep GROUNDMIST_SYNC_SECRET_KEY /etc/groundmist-sync/.env)" == "${SECRET_BEFORE}"
expect "a second run keeps the Caddyfile" test "$(cat /etc/caddy/Caddyfile)" == "${CADDYFILE_BEFORE}"
expect "a second run does not restart the running service" grep -q "groundmist-sync is running and nothing changed" "${STATE}/run.log"

# --- 3. A configuration Caddy rejects: nothing is replaced --------------------------------------
echo "  rejected configuration"
: > "${STATE}/systemctl.log"
install_run --caddy-option "no_such_global_option on"
expect "a rejected configuration fails the run" test "${RUN_STATUS}" -ne 0
expect "the failure names Caddy" grep -q "rejects" "${STATE}/run.log"
expect "the previous Caddyfile stays in place" test "$(cat /etc/caddy/Caddyfile)" == "${CADDYFILE_BEFORE}"
expect "Caddy is not reloaded after a rejected configuration" lacks "caddy" "${STATE}/systemctl.log"

# A foreign Caddyfile that imports the site and defines the same host again: the new site file
# is valid alone but the whole configuration is not, so the previous site file is put back.
echo "  rejected site in a foreign Caddyfile"
SITE_FILE=/etc/caddy/groundmist-sync.caddy
printf '%s\n' "# the owner's own sites" "import ${SITE_FILE}" "${DOMAIN}:8443 {" "	respond \"other\"" "}" > /etc/caddy/Caddyfile
install_run --port "$((PORT + 1))"
if [[ ${RUN_STATUS} -ne 0 ]]; then show_run; ps -o pid,stat,etime,args -u groundmist >&2 || true; fi
expect "a site for a foreign Caddyfile installs" test "${RUN_STATUS}" -eq 0
expect "the foreign Caddyfile is left alone" grep -q "the owner's own sites" /etc/caddy/Caddyfile
SITE_BEFORE="$(cat "${SITE_FILE}")"
printf '%s\n' "# the owner's own sites" "import ${SITE_FILE}" "${DOMAIN} {" "	respond \"clash\"" "}" > /etc/caddy/Caddyfile
install_run
expect "a clashing foreign Caddyfile fails the run" test "${RUN_STATUS}" -ne 0
expect "the previous site file is put back" test "$(cat "${SITE_FILE}")" == "${SITE_BEFORE}"
echo "${CADDYFILE_BEFORE}" > /etc/caddy/Caddyfile
rm -f "${SITE_FILE}"
install_run
if [[ ${RUN_STATUS} -ne 0 ]]; then show_run; fi
expect "back to the installer's own Caddyfile" test "${RUN_STATUS}" -eq 0

# The service does not start without its .env (systemd's rule for EnvironmentFile= without '-').
mv /etc/groundmist-sync/.env "${STATE}/env.saved"
expect "without .env the service does not start" bash -c '! systemctl restart groundmist-sync'
mv "${STATE}/env.saved" /etc/groundmist-sync/.env
systemctl restart groundmist-sync

# --- 4. Uninstall keeps the data; --purge deletes it --------------------------------------------
echo "  uninstall"
for _ in $(seq 1 50); do [[ -e "${DATA}/storage-adapter-id" || -d "${DATA}/.groundmist" ]] && break; sleep 0.1; done
touch "${DATA}/marker-document"
RUN_STATUS=0
bash "${INSTALLER}" --uninstall --data-dir "${DATA}" > "${STATE}/run.log" 2>&1 || RUN_STATUS=$?
if [[ ${RUN_STATUS} -ne 0 ]]; then show_run; ps -o pid,stat,etime,args -u groundmist >&2 || true; fi
expect "--uninstall exits 0" test "${RUN_STATUS}" -eq 0
expect "--uninstall removes the unit" test ! -e /etc/systemd/system/groundmist-sync.service
expect "--uninstall removes the binary" test ! -e /usr/local/bin/groundmist-sync
expect "--uninstall stops the service" bash -c '! systemctl is-active --quiet groundmist-sync'
expect "--uninstall keeps the data" test -f "${DATA}/marker-document"
expect "--uninstall keeps .env" test -f /etc/groundmist-sync/.env
if [[ -n "${DEFAULT_CADDYFILE}" ]]; then
    expect "--uninstall restores the package's Caddyfile" test "$(cat /etc/caddy/Caddyfile)" == "${DEFAULT_CADDYFILE}"
fi
bash "${INSTALLER}" --uninstall --purge --data-dir "${DATA}" > "${STATE}/run.log" 2>&1 || RUN_STATUS=$?
if [[ ${RUN_STATUS} -ne 0 ]]; then show_run; ps -o pid,stat,etime,args -u groundmist >&2 || true; fi
expect "--uninstall --purge exits 0" test "${RUN_STATUS}" -eq 0
expect "--purge deletes the data" test ! -e "${DATA}"
expect "--purge deletes the settings" test ! -e /etc/groundmist-sync
expect "--purge deletes the user" bash -c '! id -u groundmist >/dev/null 2>&1'

if (( FAILURES > 0 )); then exit 1; fi
