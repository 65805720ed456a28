#!/usr/bin/env bash
# Property-based contract test: schemathesis, driven by the server's own /v1/openapi.json, against
# the real reference-server binary on a fresh SQLite database, signed in as a partner user and as
# staff. Any failure fails CI, and the command that reproduces it is printed.
#
# Why a shell script and not a Rust test: schemathesis is a Python program in its own venv, and
# `cargo test --workspace` must keep working on a machine without it; CI runs this after the
# tests, with the binary they already built.
#
# Usage: .ci/schemathesis.sh [extra `st run` options, e.g. --max-examples 5 or --include-path …]
# Environment: ST_SEED (default below), ST_MAX_EXAMPLES, ST_VENV (where the venv lives),
# ST_BACKEND (sqlite, the default, or postgres), REFERENCE_SERVER (a binary to test instead of
# building target/debug/reference-server).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

# Pinned: a newer schemathesis may add checks; bump on purpose, never implicitly.
ST_VERSION=4.32.5
# Fixed so a failure reproduces: the same seed, binary and schema generate the same requests.
SEED="${ST_SEED:-20261202}"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-40}"
VENV="${ST_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/idunox-ci/schemathesis-$ST_VERSION}"

if [[ ! -x "$VENV/bin/st" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$ST_VERSION"
fi
ST="$VENV/bin/st"

if [[ -z "${REFERENCE_SERVER:-}" ]]; then
  cargo build --quiet -p reference-server
  REFERENCE_SERVER="$PWD/target/debug/reference-server"
fi

work=$(mktemp -d)
server_pid=""
pg_ctl=""
as_pg=()
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "$pg_ctl" ]]; then
    "${as_pg[@]}" "$pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  fi
  if [[ -n "${ST_KEEP:-}" ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

# The run's configuration: a fresh database, cheap argon2 (a fuzzer makes thousands of hashes;
# production keeps the default cost, this only sets the environment of this one process tree),
# a fixed JWT secret so tokens survive nothing but this run. Sign-in throttling stays as in
# production: it counts failures per email, the fuzzer's random emails never reach the accounts
# used here, and the throttle's 429 is part of the contract being tested.
export ROCKET_ADDRESS=127.0.0.1
export ROCKET_PORT="$port"
# The database: a fresh SQLite file, or with ST_BACKEND=postgres a throwaway PostgreSQL cluster on
# a loopback port (Debian's postgresql package; as root the cluster runs as user postgres).
if [[ "${ST_BACKEND:-sqlite}" == postgres ]]; then
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg=()
  if [[ $(id -u) == 0 ]]; then
    chown postgres: "$work"
    as_pg=(runuser -u postgres --)
  fi
  "${as_pg[@]}" "$pgbin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
    -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  pg_ctl="$pgbin/pg_ctl"
  "${as_pg[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres idunox
  export ROCKET_DATABASES="{idunox={url=\"postgres://postgres@127.0.0.1:$pg_port/idunox\"}}"
else
  export ROCKET_DATABASES="{idunox={url=\"sqlite://$work/idunox.sqlite?mode=rwc\"}}"
fi
export ROCKET_JWT_SECRET="schemathesis-run-secret-0123456789abcdef0123456789"
export ROCKET_ARGON2='{m_cost=1024,t_cost=1,p_cost=1}'
# A scope catalogue, so key scopes are exercised (the served document lists it as an enum).
export ROCKET_SCOPES='[{name="orders:read",description="Read orders"},{name="orders:write",description="Place orders"}]'

# Provision with the binary's own commands, as an operator would.
password="schemathesis-partner-pw-$RANDOM$RANDOM"
staff_password="schemathesis-staff-pw-$RANDOM$RANDOM"
tenant=$("$REFERENCE_SERVER" tenant add "Schemathesis Tenant")
printf '%s' "$password" |
  "$REFERENCE_SERVER" user add --tenant "$tenant" --email st@partner.example --password-stdin >/dev/null
printf '%s' "$staff_password" |
  "$REFERENCE_SERVER" staff add --email st@staff.example --password-stdin >"$work/staff.txt"
totp_secret=$(sed -n 's/^totp secret: *\([A-Z2-7=]*\).*/\1/p' "$work/staff.txt")

"$REFERENCE_SERVER" serve >"$work/server.log" 2>&1 &
server_pid=$!

# Wait for the server, sign in (partner and staff), make an API key for the probe.
export BASE="$base" PASSWORD="$password" STAFF_PASSWORD="$staff_password" TOTP_SECRET="$totp_secret"
python3 - >"$work/tokens.env" <<'PY'
import base64, hashlib, hmac, json, os, struct, sys, time, urllib.request

base = os.environ["BASE"]

def call(path, body=None, token=None):
    req = urllib.request.Request(base + path, method="POST" if body is not None else "GET")
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())

for _ in range(300):
    try:
        call("/v1/openapi.json")
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the server did not answer within 30 s")

def totp(secret):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000)

partner = call("/v1/partner/auth/login",
               {"email": "st@partner.example", "password": os.environ["PASSWORD"]})["token"]
staff = call("/v1/admin/auth/login", {"email": "st@staff.example",
             "password": os.environ["STAFF_PASSWORD"], "totp": totp(os.environ["TOTP_SECRET"])})["token"]
key = call("/v1/partner/credentials", {"name": "schemathesis-probe"}, partner)["api_key"]
print(f"PARTNER_TOKEN={partner}\nSTAFF_TOKEN={staff}\nAPI_KEY={key}")
PY
# shellcheck disable=SC1091
source "$work/tokens.env"

# Each security scheme of the document gets its own credential, so one run covers the partner
# routes (bearer), the staff routes (staffBearer) and the probe (apiKey).
cat >"$work/schemathesis.toml" <<EOF
[auth.openapi.bearer]
bearer = "$PARTNER_TOKEN"
[auth.openapi.staffBearer]
bearer = "$STAFF_TOKEN"
[auth.openapi.apiKey]
api_key = "$API_KEY"

# A tenant-list cursor is a tenant id taken from an earlier page; a well-formed id that names no
# tenant is refused with 422 (documented). The schema can say the shape, not "from an earlier
# page", so schemathesis' valid-looking cursors may get that 422.
[[operations]]
include-path = "/v1/admin/tenants"
include-method = "GET"
[operations.checks.positive_data_acceptance]
expected-statuses = ["2XX", 401, 403, 404, 409, 422, 429]
EOF

common=(--checks all --seed "$SEED" --max-examples "$MAX_EXAMPLES"
  --phases examples,coverage,fuzzing,stateful --request-timeout 30 --suppress-health-check too_slow)
status=0
args=("$@")
# The runs are ordered so that no operation ends the session or account a later run relies on:
# the staff routes learn user ids from the audit trail and disable or reset those users (ending
# their sessions), and a sign-out ends the session it is called with. So: the partner routes, then
# the partner sign-out, then the staff routes, then the staff sign-out.
run() {
  local label=$1
  shift
  echo "--- schemathesis: $label"
  # From the scratch directory: schemathesis keeps a cache in the working directory.
  if ! (cd "$work" && SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$repo/.ci" "$ST" --config-file "$work/schemathesis.toml" run "$base/v1/openapi.json" "${common[@]}" "$@" "${args[@]}"); then
    status=1
    echo "schemathesis found failures ($label). Reproduce with the same seed:"
    echo "  ST_BACKEND=${ST_BACKEND:-sqlite} ST_SEED=$SEED ST_MAX_EXAMPLES=$MAX_EXAMPLES .ci/schemathesis.sh ${args[*]}"
  fi
}
run "partner API" --exclude-path-regex '^/v1/admin/|/auth/logout$'
# A sign-out alone has no links to follow: no stateful phase for it.
run "partner sign-out" --include-path '/v1/partner/auth/logout' --phases examples,coverage,fuzzing
run "staff API" --include-path-regex '^/v1/admin/' --exclude-path '/v1/admin/auth/logout'
run "staff sign-out" --include-path '/v1/admin/auth/logout' --phases examples,coverage,fuzzing

if ((status)); then
  echo "--- server log (last 50 lines)"
  tail -n 50 "$work/server.log"
fi
exit "$status"
