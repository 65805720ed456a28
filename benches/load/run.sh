#!/usr/bin/env bash
# Load benchmark: verifications per second through the `data-api` example (axum + the
# idunox-keys tower layer over idunox-keys-sqlx), against the same router with no key check, in
# the same run. SQLite and PostgreSQL, warm keys, at 1 000 and 1 000 000 stored keys; and, for
# reference, the example's in-memory demo store (one key, no database).
#
#   benches/load/run.sh                      # everything (about 3 minutes on 2 cores)
#   BACKENDS=sqlite SIZES=1000 benches/load/run.sh
#   DURATION=10s THREADS=2 CONNECTIONS=16 benches/load/run.sh
#   STALENESS="1000 0" benches/load/run.sh   # --max-staleness-ms values: default (cache) and 0
#
# Needs wrk, curl, jq, sqlite3, and Debian's postgresql binaries for the PostgreSQL half. Every
# process listens on 127.0.0.1 only and is stopped at exit; the databases live in a temporary
# directory that is removed at exit. Not part of `cargo test`.
set -euo pipefail
trap 'echo "error: line $LINENO: $BASH_COMMAND failed" >&2' ERR
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-5s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
SIZES=${SIZES:-"1000 1000000"}
BACKENDS=${BACKENDS:-"memory sqlite postgres"}
# The data API's --max-staleness-ms: 1000 (its default: warm records cached, kept fresh by the
# database's change feed) and 0 (no cache: the key's record is read on every request).
STALENESS=${STALENESS:-"1000 0"}

for tool in wrk curl jq sqlite3; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 1; }
done

echo "building (release)…" >&2
cargo build --release --quiet -p reference-server -p idunox-examples --bins
TARGET=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/release
SERVER=$TARGET/reference-server
DATA_API=$TARGET/data-api

T0=$(date +%s)
WORK=$(mktemp -d /tmp/idunox-load.XXXXXX)
chmod 755 "$WORK"
PIDS=()
PGBIN="" PGDIR=""
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n "$PGDIR" ]]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME MARKER CMD…: run CMD (a program, not a function) in the background, wait for
# "MARKER<url>" on its output, set URL.
start() {
  local name=$1 marker=$2; shift 2
  local log="$WORK/$name.log"
  "$@" >"$log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 300); do
    if grep -q "$marker" "$log"; then
      URL=$(grep -m1 "$marker" "$log" | sed "s|.*$marker||" | tr -d '[:space:]')
      return
    fi
    sleep 0.1
  done
  echo "error: $name did not start:" >&2; cat "$log" >&2; exit 1
}

stop_last() { local pid=${PIDS[-1]}; kill "$pid"; wait "$pid" 2>/dev/null || true; unset 'PIDS[-1]'; }

# server_env URL: the reference server's environment, as an `env` command line in SERVER_ENV.
server_env() {
  SERVER_ENV=(env ROCKET_CONFIG="$WORK/absent.toml" ROCKET_PROFILE=release ROCKET_ADDRESS=127.0.0.1
    ROCKET_PORT=0 ROCKET_ACCESS_LOG=false ROCKET_JWT_SECRET=load-bench-jwt-secret-0123456789abcdefgh
    ROCKET_DATABASES="{idunox={url=\"$1\"}}")
}

# provision URL: tenant, user, one real key through the portal API. Sets TENANT and KEY.
provision() {
  local url=$1 password="load bench password 0123"
  server_env "$url"
  TENANT=$("${SERVER_ENV[@]}" "$SERVER" tenant add "Bench Partner")
  printf '%s' "$password" | "${SERVER_ENV[@]}" "$SERVER" user add --tenant "$TENANT" \
    --email bench@load.test --password-stdin >/dev/null
  start portal "listening on " "${SERVER_ENV[@]}" "$SERVER" serve
  local base=$URL token
  token=$(curl -sf "$base/v1/partner/auth/login" -H "Content-Type: application/json" \
    -d "{\"email\":\"bench@load.test\",\"password\":\"$password\"}" | jq -r .token)
  KEY=$(curl -sf "$base/v1/partner/credentials" -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -d '{"name":"load"}' | jq -r .api_key)
  stop_last
}

# fill BACKEND URL FROM TO: filler rows FROM..TO-1 (12-character key ids F00000000001…),
# all with one precomputed cheap hash; only the presented key has a real one.
HASH='$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'
fill() {
  local backend=$1 url=$2 from=$3 to=$4 now
  now=$(date +%s)
  if ((from >= to)); then return; fi
  if [[ $backend == sqlite ]]; then
    sqlite3 "${url#sqlite://}" <<SQL
WITH RECURSIVE g(i) AS (SELECT $from UNION ALL SELECT i + 1 FROM g WHERE i < $to - 1)
INSERT INTO credentials (key_id, tenant_id, masked_key, secret_hash, created_at, expires_at)
SELECT printf('F%011d', i), '$TENANT', printf('idx_test_F%011d_••••', i), '$HASH', $now, $now + 31536000 FROM g;
ANALYZE;
SQL
  else
    psql -X -q -v ON_ERROR_STOP=1 -d "$url" <<SQL
INSERT INTO credentials (key_id, tenant_id, masked_key, secret_hash, created_at, expires_at)
SELECT 'F' || lpad(i::text, 11, '0'), '$TENANT', 'idx_test_F' || lpad(i::text, 11, '0') || '_••••',
       '$HASH', $now, $now + 31536000 FROM generate_series($from, $to - 1) AS i;
ANALYZE credentials;
SQL
  fi
}

count() {
  if [[ $1 == sqlite ]]; then sqlite3 "${2#sqlite://}" 'SELECT COUNT(*) FROM credentials'
  else psql -X -qtA -d "$2" -c 'SELECT COUNT(*) FROM credentials'; fi
}

# wrk_rps URL [HEADER]: requests per second; fails on any non-2xx answer.
wrk_rps() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" ${2:+-H "$2"} "$1")
  if grep -q "Non-2xx" <<<"$out"; then echo "error: non-2xx answers from $1:" >&2; echo "$out" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}

RESULTS=()
METRICS_NOTE=""
# bench BACKEND URL SIZE STALENESS_MS
bench() {
  local backend=$1 url=$2 size=$3 staleness=$4
  local auth noauth
  start "api-$backend-$size-$staleness" "data-api listening on " "$DATA_API" --port 0 \
    --database-url "$url" --max-staleness-ms "$staleness"
  auth=$URL
  start "noauth-$backend-$size-$staleness" "data-api listening on " "$DATA_API" --port 0 \
    --database-url "$url" --max-staleness-ms "$staleness" --no-auth
  noauth=$URL
  # Warm: the first verification pays argon2 once.
  curl -sf -H "X-Api-Key: $KEY" "$auth/v1/ping" | jq -e ".tenant == \"$TENANT\"" >/dev/null
  curl -sf "$noauth/v1/ping" >/dev/null
  local r_noauth r_auth
  r_noauth=$(wrk_rps "$noauth/v1/ping")
  r_auth=$(wrk_rps "$auth/v1/ping" "X-Api-Key: $KEY")
  scrape_metrics "$auth"
  stop_last; stop_last
  record "$backend" "$size" "$staleness" "$r_noauth" "$r_auth"
}

# scrape_metrics URL: once per run, the service's /metrics after a wrk run, if it has one.
scrape_metrics() {
  [[ -z "$METRICS_NOTE" ]] || return 0
  local code
  code=$(curl -s -o "$WORK/metrics.txt" -w '%{http_code}' "$1/metrics" || true)
  if [[ $code == 200 ]]; then
    METRICS_NOTE="/metrics after a run: $(grep -i 'verif' "$WORK/metrics.txt" | grep -v '^#' | tr '\n' ' ')"
  else
    METRICS_NOTE="/metrics: the data-api answered $code (no metrics endpoint)"
  fi
}

# record BACKEND KEYS STALENESS_MS NOAUTH AUTH: one row of the table.
record() {
  local ratio cost cores
  cores=$(nproc)
  ratio=$(awk -v a="$5" -v n="$4" 'BEGIN {printf "%.2f", a / n}')
  # Added cost per request, in µs of the whole machine's time (all cores, all processes).
  cost=$(awk -v a="$5" -v n="$4" -v c="$cores" 'BEGIN {printf "%.0f", (1 / a - 1 / n) * 1e6 * c}')
  RESULTS+=("$(printf '| %-10s | %9s | %9s | %10.0f | %10.0f | %5s | %7s |' "$1" "$2" "$3" "$4" "$5" "$ratio" "$cost")")
  echo "${RESULTS[-1]}" >&2
}

run_backend() {
  local backend=$1 url=$2
  provision "$url"
  local have
  for size in $SIZES; do
    have=$(count "$backend" "$url")
    fill "$backend" "$url" "$have" "$size"
    [[ $(count "$backend" "$url") -ge $size ]] || { echo "error: fill failed" >&2; exit 1; }
    echo "$backend: $size keys stored ($(( $(date +%s) - T0 )) s since start)" >&2
    for staleness in $STALENESS; do
      bench "$backend" "$url" "$size" "$staleness"
    done
  done
}

for backend in $BACKENDS; do
  case $backend in
    memory)
      start "api-memory" "data-api listening on " "$DATA_API" --port 0
      auth=$URL
      # The first demo key it prints (read and write orders, from any address).
      KEY=$(grep -m1 -oE '^ +idx_test_[A-Za-z0-9_]+' "$WORK/api-memory.log" | tr -d '[:space:]')
      start "noauth-memory" "data-api listening on " "$DATA_API" --port 0 --no-auth
      noauth=$URL
      curl -sf -H "X-Api-Key: $KEY" "$auth/v1/ping" >/dev/null
      r_noauth=$(wrk_rps "$noauth/v1/ping")
      r_auth=$(wrk_rps "$auth/v1/ping" "X-Api-Key: $KEY")
      stop_last; stop_last
      record memory 1 - "$r_noauth" "$r_auth"
      ;;
    sqlite)
      run_backend sqlite "sqlite://$WORK/bench.sqlite"
      ;;
    postgres)
      PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
      [[ -n "$PGBIN" ]] || { echo "error: PostgreSQL is not installed" >&2; exit 1; }
      PGDIR="$WORK/pg"; mkdir -p "$PGDIR"
      [[ $(id -u) == 0 ]] && chown postgres: "$PGDIR"
      port=$(free_port)
      as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
      as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
        -o "-p $port -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
      as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" idunox
      run_backend postgres "postgres://postgres@127.0.0.1:$port/idunox"
      ;;
    *) echo "error: unknown backend $backend" >&2; exit 1 ;;
  esac
done

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, GET /v1/ping, warm key, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(( $(date +%s) - T0 )) s"
echo "| backend    |      keys | staleness | no auth /s |    auth /s | ratio | +µs/req |"
echo "| ---------- | --------: | --------: | ---------: | ---------: | ----: | ------: |"
printf '%s\n' "${RESULTS[@]}"
echo "${METRICS_NOTE:-/metrics: not scraped}"
