#!/usr/bin/env bash
# The conformance run (issue 14): schemathesis, with all its checks, against the OpenAPI
# document a started koppeling serves at /api/v1/openapi.json. No request the document
# allows may be refused with 400, no response may be outside the document, none may be a 5xx.
#
# Starts the built debug binaries (`cargo build -p koppeling -p snelstart-sandbox`, the
# profile the tests use) on free ports with a temporary SQLite file and the test token,
# seeds an administratie `demo` and a Beheerder, a relation and an invoice all with the id
# `c1`, so that path ids exist, and runs schemathesis from the venv `.ci/setup` makes
# (`.ci/venv`). Deterministic generation and a bounded number of examples keep it near 2 min.
# The webhook (outside /api/v1) is left out: every message needs a live activation
# reference; tests/it/connect.rs drives it.
#
# Usage: bash tests/conformance/run.sh [extra schemathesis options]
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
target="${CARGO_TARGET_DIR:-$root/target}/debug"
st="$root/.ci/venv/bin/schemathesis"
[ -x "$st" ] || { echo "schemathesis is missing: run bash .ci/setup" >&2; exit 1; }
[ -x "$target/koppeling" ] && [ -x "$target/snelstart-sandbox" ] ||
  { echo "build the binaries first: cargo build -p koppeling -p snelstart-sandbox" >&2; exit 1; }

TOKEN='test-api-token-of-32-characters!'
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The SnelStart sandbox on a free port (its first line names the address).
"$target/snelstart-sandbox" --listen 127.0.0.1:0 >"$work/sandbox.out" 2>"$work/sandbox.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^listening on ' "$work/sandbox.out" 2>/dev/null && break; sleep 0.1; done
sandbox=$(sed -n 's/^listening on //p' "$work/sandbox.out" | head -n1 | tr -d '[:space:]')
[ -n "$sandbox" ] || { echo "the sandbox did not start:" >&2; cat "$work/sandbox.log" >&2; exit 1; }

port=$(free_port)
base="http://127.0.0.1:$port"
(
  cd "$work"
  exec env -i PATH="$PATH" RUST_LOG=warn \
    KOPPELING_DATABASE__URL="sqlite://$work/conformance.db?mode=rwc" \
    KOPPELING_HTTP__LISTEN="127.0.0.1:$port" \
    KOPPELING_API__TOKEN="$TOKEN" \
    KOPPELING_SNELSTART__API_URL="$sandbox/v2" \
    KOPPELING_SNELSTART__AUTH_URL="$sandbox/b2b/token" \
    KOPPELING_SNELSTART__SUBSCRIPTION_KEY=sandbox-subscription-key \
    KOPPELING_SNELSTART__TIMEOUT_SECS=5 \
    KOPPELING_SECRETS__MASTER_KEY="BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=" \
    "$target/koppeling" serve
) 2>"$work/koppeling.log" &
pids+=($!)
for _ in $(seq 1 300); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$base/healthz" >/dev/null || { echo "koppeling did not start:" >&2; cat "$work/koppeling.log" >&2; exit 1; }

put() {
  local code
  code=$(curl -sS -o "$work/seed.out" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data "$2" "$base/api/v1/administraties/$1")
  case "$code" in 200|201) ;; *) echo "seeding $1 answered $code: $(cat "$work/seed.out")" >&2; exit 1 ;; esac
}
put demo '{"name":"Conformance BV"}'
put demo/admins/c1 '{"name":"Bea Beheerder","email":"bea@example.nl"}'
put demo/relations/c1 '{"code":"1001","kind":"company","name":"Klant BV"}'
put demo/invoices/c1 '{"number":"F-1","relation_id":"c1","date":"2026-11-27","status":"draft","lines":[{"description":"Werk","quantity":"1","unit_price":"100.00","vat":"high"}]}'

# Path ids: the seeded ones (an unknown id is a plain 404, which every operation declares).
# 422 from a business rule is expected where the rule depends on stored state or cannot be
# said in JSON Schema, and the operation declares it: an IBAN's checksum, a relation or
# Beheerder that must exist, an id that must equal the path's, the stored relation's code
# when ticking, the activation checks, a period of at most 366 days, a configured app, a
# document's content (a PDF signature, a UBL root) and a file name with an outer space.
# Everywhere else a request the document allows must not be refused with 400 or 422.
cat >"$work/schemathesis.toml" <<'TOML'
[parameters]
"path.adm" = "demo"
"path.id" = "c1"

[[operations]]
include-path-regex = '/(relations/\{id\}|relations/\{id\}/snelstart|invoices/\{id\}|invoices/\{id\}/documents/\{kind\}|admins/\{id\}|integrations/snelstart|integrations/snelstart/activate|integrations/snelstart/connect|reconciliation)$'
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429", "5xx"]

# The operations that call SnelStart declare 503 `unavailable` (SnelStart unreachable or
# refusing the stored key, which the run's own PUTs of random keys make it do) and
# `snelstart_budget`; a 503 there is that declared answer, not a server error.
[[operations]]
include-path-regex = '/(relations/\{id\}/snelstart/preview|integrations/snelstart/activate|integrations/snelstart/check|reconciliation)$'
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "503"]
TOML

status=0
"$st" --config-file "$work/schemathesis.toml" run "$base/api/v1/openapi.json" \
  --url "$base/api/v1" \
  -H "Authorization: Bearer $TOKEN" \
  --checks all \
  --max-examples "${CONFORMANCE_EXAMPLES:-15}" \
  --generation-deterministic \
  --workers 1 \
  --no-color \
  --exclude-path /webhooks/snelstart \
  "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- koppeling log (tail) ---" >&2
  tail -n 40 "$work/koppeling.log" >&2
fi
exit "$status"
