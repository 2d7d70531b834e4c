# Shared by the bridge's REST end-to-end tests (nlflow_e2e.sh, xina_e2e.sh); sourced after the
# script sets TMP (a scratch directory) and the counters passed=0 failed=0.

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

sql() { psql -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }

# eq NAME WANT GOT: an assertion on a value, with both shown when it fails.
eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (want '$2', got '$3')"; fi; }

# expect NAME STATUS JQ-CONDITION CURL-ARGS...: the response has this status and its body satisfies
# the jq condition ("." for any).
expect() {
  local name=$1 want=$2 condition=$3
  shift 3
  local got
  got=$(curl -s -o "$TMP/body" -w '%{http_code}' "$@")
  if [ "$got" = "$want" ] && { [ "$condition" = "." ] || jq -e "$condition" "$TMP/body" >/dev/null 2>&1; }; then
    ok "$name"
  else
    not_ok "$name (HTTP $got, want $want; body: $(head -c 400 "$TMP/body"))"
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
