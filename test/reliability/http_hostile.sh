#!/usr/bin/env bash
# Hostile request bodies over real HTTP (issue 8, item 7): a real awf-bridge in front of a real
# PostgreSQL with awf preloaded, sent what an attacker or a broken client might send. Run from the
# repo root inside a cluster:
#
#   AWF_BUILD_DIR=build pg_virtualenv -t -v 15 -o shared_preload_libraries=awf \
#     -o awf.database=postgres -o awf.tick_interval=50 bash test/reliability/http_hostile.sh
#
# Needs ${AWF_BUILD_DIR:-build}/awf-bridge, curl, jq and python3 (raw sockets for the requests
# curl will not send). It creates the extension, the bridge's login role and an API client
# (awf_executor, HTTP Basic: every request goes through authentication as a real one does), and
# starts the bridge on a free port with --header-timeout 3000 (so that a request that never
# completes is closed within seconds; the other limits are the defaults: body 1 MiB).
#
# Cases, each a hard check on the status (4xx) and the error type:
#   YAML alias bombs: billion laughs (10^9 strings from 643 bytes), 2^40 by doubling, nested
#   mappings (refused before anything of the expansion is built: codec.cpp measures first); 100,000-level nesting: JSON arrays, JSON objects, YAML flow, YAML block ("- - -"),
#   and 700 levels of YAML block mappings by indentation; invalid UTF-8 (bytes in a JSON string,
#   a YAML string, a JSON key, a lone surrogate escape, an overlong and a surrogate encoding);
#   a 1 GB Content-Length with a short body, the connection then closed or held open (the bridge
#   answers 413 at once, from the header, and closes the connection: checked for both); a
#   Content-Length under the limit with a short body: held open, the bridge closes the connection
#   without an answer when the header timeout expires (checked: closed after >= 3 s and < 3 s +
#   slack); closed by the client, it answers 400; a chunked body past the limit (413); 20 KB of
#   headers (431).
# Memory: the bridge's VmRSS before the cases and after, and its VmHWM (peak), from
# /proc/PID/status; the peak must stay under 200 MB. Crashes: the bridge must be the same process
# afterwards, answer /health with 200, and have logged no "bridge bug".
# Last, what a YAML body may cost: 1 MiB of flow sequence is over --yaml-body-limit (413); the
# largest allowed keeps the bridge's peak memory under the limit.
# Output: ok / not ok lines, then
#   http-hostile: cases=N 4xx=N crashes=N rss_before=X MB rss_after=X MB hwm=X MB
# and as the last line "http-hostile: N passed, N failed"; exit 0 iff nothing failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${AWF_BUILD_DIR:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
HEADER_TIMEOUT_MS=3000
MAX_HWM_MB=200
TMP=$(mktemp -d /tmp/awf-http-hostile.XXXXXX)
LOG=$TMP/bridge.log
BRIDGE_PID=
passed=0
failed=0
cases=0
fourxx=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
finish() {
  if [ -n "$BRIDGE_PID" ] && kill -0 "$BRIDGE_PID" 2>/dev/null; then
    kill -TERM "$BRIDGE_PID" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$BRIDGE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BRIDGE_PID" 2>/dev/null
    wait "$BRIDGE_PID" 2>/dev/null
  fi
  echo "http-hostile: $passed passed, $failed failed"
  rm -rf "$TMP"
  [ "$failed" -eq 0 ]
  exit $?
}
trap '[ -n "$BRIDGE_PID" ] && kill -KILL "$BRIDGE_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

for tool in curl jq python3; do
  command -v "$tool" >/dev/null || { not_ok "$tool is needed"; finish; }
done
[ -x "$BUILD/awf-bridge" ] || { not_ok "$BUILD/awf-bridge is missing (cmake --build $BUILD --target awf-bridge)"; finish; }
[ -n "${PGPORT:-}" ] || { not_ok "no PGPORT: run inside pg_virtualenv"; finish; }

# --- the database, the bridge's role, a client; the bridge --------------------------------------
source "$ROOT/test/reliability/bridge_lib.sh"
bridge_login || { not_ok "CREATE EXTENSION awf and the role awf_bridge"; finish; }
SECRET=$(bridge_client hostile-check awf_executor "http_hostile.sh")
[ -n "$SECRET" ] || { not_ok "awf-bridge client add"; finish; }
AUTH="hostile-check:$SECRET"
if ! start_bridge "$LOG" --pool-size 4 --threads 4 --header-timeout "$HEADER_TIMEOUT_MS" --quiet; then
  not_ok "the bridge did not start (log: $(tail -3 "$LOG" | tr '\n' ' '))"
  finish
fi
echo "# awf-bridge pid $BRIDGE_PID on $URL, --header-timeout $HEADER_TIMEOUT_MS, body limit 1 MiB"

status_kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$BRIDGE_PID/status" 2>/dev/null; }
mb() { awk -v k="${1:-0}" 'BEGIN { printf "%.1f", k / 1024 }'; }

# A warm-up call, so that "before" includes the credential check and the pool's connections.
warm=$(curl -s -o /dev/null -w '%{http_code}' -m 30 -u "$AUTH" -H 'Content-Type: text/yaml' \
  --data-binary $'method: awf.task/poll\nparams: {taskDefinitions: [hostile-warm-up]}\n' "$URL/rpc")
[ "$warm" = 200 ] && ok "a valid poll through the bridge answers 200 (warm-up)" || not_ok "warm-up poll: HTTP $warm"
RSS_BEFORE=$(status_kb VmRSS)
HWM_BEFORE=$(status_kb VmHWM)

# --- bodies -----------------------------------------------------------------------------------
python3 - "$TMP" <<'PY'
import sys, os
d = sys.argv[1]
def w(name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
def laughs(levels, fanout):
    doc = 'l0: &l0 "lol"\n'
    for lvl in range(1, levels + 1):
        doc += f"l{lvl}: &l{lvl} [" + ", ".join([f"*l{lvl-1}"] * fanout) + "]\n"
    return doc
w("laughs.yaml", "method: awf.task/create\nparams:\n  definition: x\n  params:\n" +
  "".join("    " + l + "\n" for l in laughs(9, 10).splitlines()))
w("doubling.yaml", laughs(40, 2))
m = "m0: &m0 {a: lol, b: lol, c: lol, d: lol, e: lol, f: lol, g: lol, h: lol}\n"
for lvl in range(1, 10):
    prev = f"*m{lvl-1}"
    m += f"m{lvl}: &m{lvl} {{" + ", ".join(f"{k}: {prev}" for k in "abcdefgh") + "}\n"
w("mappings.yaml", m)
n = 100000
w("nested-arrays.json", "[" * n + "1" + "]" * n)
w("nested-objects.json", '{"a":' * n + "1" + "}" * n)
w("nested-flow.yaml", "[" * n + "1" + "]" * n)
w("nested-block.yaml", "- " * n + "x\n")
w("nested-indent.yaml", "".join(" " * i + "k:\n" for i in range(700)) + " " * 700 + "v\n")
w("utf8-json-string.json", b'{"method": "awf.task/notify", "params": {"message": "\xff\xfe bad"}}')
w("utf8-yaml-string.yaml", b'method: awf.task/notify\nparams:\n  message: "\xc0\xaf overlong"\n')
w("utf8-json-key.json", b'{"method": "awf.task/poll", "par\xe9ms": {}}')
w("utf8-lone-surrogate.json", b'{"method": "awf.task/notify", "params": {"message": "\\ud800"}}')
w("utf8-surrogate-bytes.yaml", b"method: awf.task/notify\nparams: {message: \xed\xa0\x80}\n")
w("utf8-plain-yaml.yaml", b"method: awf.task/poll\xff\nparams: {}\n")
PY

# post NAME FILE CONTENT-TYPE WANT-STATUS WANT-TYPE: one request, status and error type checked.
post() {
  local name=$1 file=$2 type=$3 want=$4 want_type=$5 got start end secs etype msg
  cases=$((cases + 1))
  start=$(date +%s.%N)
  got=$(curl -s -o "$TMP/out" -w '%{http_code}' -m 60 -u "$AUTH" -H "Content-Type: $type" -H 'Accept: application/json' \
    --data-binary "@$TMP/$file" "$URL/rpc")
  end=$(date +%s.%N)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
  case "$got" in 4??) fourxx=$((fourxx + 1)) ;; esac
  etype=$(jq -r '.error.type // empty' "$TMP/out" 2>/dev/null)
  msg=$(jq -r '.error.message // empty' "$TMP/out" 2>/dev/null | head -c 120)
  if [ "$got" = "$want" ] && [ "$etype" = "$want_type" ]; then
    ok "$name ($(stat -c %s "$TMP/$file") bytes): $got $etype \"$msg\" in ${secs}s (bridge rss $(mb "$(status_kb VmRSS)") MB, hwm $(mb "$(status_kb VmHWM)") MB)"
  else
    not_ok "$name: HTTP $got $etype, want $want $want_type (body: $(head -c 300 "$TMP/out"))"
  fi
}

post "YAML billion laughs (10^9 strings)" laughs.yaml text/yaml 400 awf.http/malformed-body
post "YAML aliases doubling 40 times (2^40 strings)" doubling.yaml text/yaml 400 awf.http/malformed-body
post "YAML aliases of mappings (8^10 values)" mappings.yaml text/yaml 400 awf.http/malformed-body
post "JSON 100,000 nested arrays" nested-arrays.json application/json 400 awf.http/malformed-body
post "JSON 100,000 nested objects" nested-objects.json application/json 400 awf.http/malformed-body
post "YAML 100,000 nested flow sequences" nested-flow.yaml text/yaml 400 awf.http/malformed-body
post "YAML 100,000 nested block sequences (- - - x)" nested-block.yaml text/yaml 400 awf.http/malformed-body
post "YAML 700 block mappings nested by indentation (under --yaml-body-limit)" nested-indent.yaml text/yaml 400 awf.http/malformed-body
post "invalid UTF-8 in a JSON string" utf8-json-string.json application/json 400 awf.http/malformed-body
post "invalid UTF-8 (overlong) in a YAML string" utf8-yaml-string.yaml text/yaml 400 awf.http/malformed-body
post "invalid UTF-8 in a JSON key" utf8-json-key.json "application/json; charset=utf-8" 400 awf.http/malformed-body
post "a lone surrogate escape in JSON" utf8-lone-surrogate.json application/json 400 awf.http/malformed-body
post "UTF-8-encoded surrogate in a YAML plain scalar" utf8-surrogate-bytes.yaml text/yaml 400 awf.http/malformed-body
post "invalid UTF-8 in a YAML plain scalar" utf8-plain-yaml.yaml application/x-yaml 400 awf.http/malformed-body

# --- raw connections: short bodies, oversized headers, chunked -------------------------------
# raw.py PORT MODE: sends stdin's bytes, then MODE "close" (shut down writing) or "hold" (keep
# the connection open); reads until the server closes it or 30 s pass. Prints
# "STATUS SECONDS_TO_STATUS SECONDS_TO_CLOSE" ("none" / "open" when they did not happen).
cat >"$TMP/raw.py" <<'PY'
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
data = sys.stdin.buffer.read()
start = time.monotonic()  # before connecting: the bridge cannot start its header timer earlier
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(data)
if mode == "close":
    s.shutdown(socket.SHUT_WR)
s.settimeout(0.2)
got, status, t_status, t_close = b"", "none", "none", "open"
while time.monotonic() - start < 30:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        continue
    except ConnectionResetError:
        t_close = "%.2f" % (time.monotonic() - start)
        break
    if not chunk:
        t_close = "%.2f" % (time.monotonic() - start)
        break
    got += chunk
    if status == "none" and b"\r\n" in got:
        line = got.split(b"\r\n", 1)[0].split()
        status = line[1].decode() if len(line) > 1 else "?"
        t_status = "%.2f" % (time.monotonic() - start)
print(status, t_status, t_close)
PY
basic=$(printf '%s' "$AUTH" | base64 -w0)
# raw NAME MODE WANT-STATUS CLOSE-CHECK REQUEST: CLOSE-CHECK is "prompt" (closed within 5 s of the
# answer) or "timeout" (no answer; closed at the header timeout, not before, within 3 s after).
raw() {
  local name=$1 mode=$2 want=$3 close_check=$4 request=$5 out status t_status t_close good=1 why=
  cases=$((cases + 1))
  out=$(printf '%b' "$request" | python3 "$TMP/raw.py" "$PORT" "$mode")
  read -r status t_status t_close <<<"$out"
  case "$status" in 4??) fourxx=$((fourxx + 1)) ;; esac
  [ "$status" = "$want" ] || { good=0; why="status $status, want $want"; }
  if [ "$t_close" = open ]; then
    good=0; why="$why; the connection was still open after 30 s"
  elif [ "$close_check" = prompt ]; then
    awk -v c="$t_close" 'BEGIN { exit !(c < 5) }' || { good=0; why="$why; closed only after ${t_close}s"; }
  else
    awk -v c="$t_close" -v t="$HEADER_TIMEOUT_MS" 'BEGIN { exit !(c >= t / 1000 - 0.05 && c < t / 1000 + 3) }' ||
      { good=0; why="$why; closed after ${t_close}s, want the header timeout ($((HEADER_TIMEOUT_MS / 1000)) s)"; }
  fi
  if [ "$good" = 1 ]; then
    ok "$name: $([ "$status" = none ] && echo "no answer" || echo "$status after ${t_status}s"), connection closed by the bridge after ${t_close}s"
  else
    not_ok "$name: $why"
  fi
}
H="Host: x\r\nAuthorization: Basic $basic\r\n"
raw "1 GB Content-Length, short body, then closed" close 413 prompt \
  "POST /rpc HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{\"method\": \"awf.task/poll\""
raw "1 GB Content-Length, short body, held open" hold 413 prompt \
  "POST /rpc HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{\"method\": \"awf.task/poll\""
raw "500 KB Content-Length (under the limit), short body, held open" hold none timeout \
  "POST /rpc HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 500000\r\n\r\n{\"method\": \"awf.task/poll\""
raw "500 KB Content-Length (under the limit), short body, then closed" close 400 prompt \
  "POST /rpc HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 500000\r\n\r\n{\"method\": \"awf.task/poll\""
raw "a header never finished, held open" hold none timeout "POST /rpc HTTP/1.1\r\n${H}Content-Type: appl"
raw "chunked body: a chunk of 2 MiB announced, past the 1 MiB limit" hold 413 prompt \
  "POST /rpc HTTP/1.1\r\n${H}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n{\"method\": \"awf.task/poll\"}"
raw "20 KB of headers" hold 431 prompt \
  "GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: $(head -c 20000 /dev/zero | tr '\0' a)\r\n\r\n"

# --- after: memory, the same process, /health ---------------------------------------------------
RSS_AFTER=$(status_kb VmRSS)
HWM=$(status_kb VmHWM)
crashes=0
if [ -z "$RSS_AFTER" ] || ! kill -0 "$BRIDGE_PID" 2>/dev/null; then
  crashes=1
  not_ok "the bridge (pid $BRIDGE_PID) is gone: $(tail -5 "$LOG" | tr '\n' ' ')"
else
  ok "the bridge is the same process (pid $BRIDGE_PID) after $cases hostile cases"
fi
health=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "$URL/health")
[ "$health" = 200 ] && ok "GET /health answers 200 afterwards" || not_ok "GET /health answers $health afterwards"
after=$(curl -s -o /dev/null -w '%{http_code}' -m 30 -u "$AUTH" -H 'Content-Type: application/json' \
  --data-binary '{"method": "awf.task/poll", "params": {"taskDefinitions": ["hostile-after"]}}' "$URL/rpc")
[ "$after" = 200 ] && ok "a valid poll answers 200 afterwards" || not_ok "a valid poll answers $after afterwards"
if grep -q "bridge bug" "$LOG"; then not_ok "the bridge logged a bug: $(grep -m1 "bridge bug" "$LOG")"; else ok "no \"bridge bug\" in the bridge's log"; fi
[ "$fourxx" -eq "$((cases - 2))" ] && ok "every case answered 4xx but the two the header timeout closes ($fourxx of $cases)" ||
  not_ok "$fourxx of $cases cases answered 4xx, want $((cases - 2))"
echo "http-hostile: cases=$cases 4xx=$fourxx crashes=$crashes rss_before=$(mb "$RSS_BEFORE") MB rss_after=$(mb "$RSS_AFTER") MB hwm=$(mb "$HWM") MB (hwm before the cases $(mb "$HWM_BEFORE") MB)"
if [ -n "$HWM" ] && [ "$HWM" -lt $((MAX_HWM_MB * 1024)) ]; then
  ok "the bridge's peak memory (VmHWM) $(mb "$HWM") MB < $MAX_HWM_MB MB"
else
  not_ok "the bridge's peak memory (VmHWM) $(mb "$HWM") MB, want < $MAX_HWM_MB MB"
fi

# --- what a YAML body within the limits may cost ------------------------------------------------
# YAML bodies have a cap of their own (--yaml-body-limit, 256 KiB: deep nesting reads slowly, see
# config.hpp): the 1 MiB one gets 413 before it is parsed, and the largest one allowed, as dense
# as YAML gets (131,000 values), keeps the bridge's peak under MAX_HWM_MB.
flow_yaml() {  # flow_yaml FILE BYTES: a poll whose junk key is a flow sequence of 1s, BYTES long
  python3 - "$1" "$2" <<'PY'
import sys
head = "method: awf.task/poll\nparams:\n  taskDefinitions: [hostile-flow]\n  junk: ["
n = (int(sys.argv[2]) - len(head) - 3) // 2
open(sys.argv[1], "w").write(head + "1," * n + "1]\n")
PY
}
flow_yaml "$TMP/flow-1m.yaml" 1048000
post "YAML flow sequence of 1 MiB (over --yaml-body-limit)" flow-1m.yaml text/yaml 413 awf.http/body-too-large
flow_yaml "$TMP/flow.yaml" 262144
got=$(curl -s -o "$TMP/out" -w '%{http_code}' -m 60 -u "$AUTH" -H 'Content-Type: text/yaml' -H 'Accept: application/json' \
  --data-binary "@$TMP/flow.yaml" "$URL/rpc")
FLOW_HWM=$(status_kb VmHWM)
echo "# 256 KiB YAML flow sequence ($(stat -c %s "$TMP/flow.yaml") bytes): HTTP $got, bridge rss $(mb "$(status_kb VmRSS)") MB, hwm $(mb "$FLOW_HWM") MB"
if [ "$got" = 200 ] && [ -n "$FLOW_HWM" ] && [ "$FLOW_HWM" -lt $((MAX_HWM_MB * 1024)) ]; then
  ok "the largest YAML body allowed (256 KiB, 131,000 values) is answered 200 and keeps the bridge's peak under $MAX_HWM_MB MB ($(mb "$FLOW_HWM") MB)"
else
  not_ok "the largest YAML body allowed: HTTP $got (want 200), the bridge's peak memory $(mb "$FLOW_HWM") MB (want < $MAX_HWM_MB MB)"
fi
# The parse's memory goes back to the system once the request is answered (malloc_trim), not
# kept in the thread's malloc arena.
FLOW_RSS=$(status_kb VmRSS)
if [ -n "$FLOW_RSS" ] && [ "$FLOW_RSS" -lt $((64 * 1024)) ]; then
  ok "after it the bridge's resident memory is back to $(mb "$FLOW_RSS") MB (< 64 MB)"
else
  not_ok "after the largest YAML body the bridge keeps $(mb "$FLOW_RSS") MB resident, want < 64 MB"
fi
kill -0 "$BRIDGE_PID" 2>/dev/null && ok "the bridge is the same process after the YAML flow sequence" ||
  not_ok "the bridge (pid $BRIDGE_PID) is gone after the YAML flow sequence"
finish
