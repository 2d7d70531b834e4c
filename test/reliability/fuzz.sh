#!/usr/bin/env bash
# Fuzzing of awf-bridge's request handling (issue 8, item 7): libFuzzer with AddressSanitizer and
# UndefinedBehaviorSanitizer (clang++ 14: packages clang, libclang-rt-14-dev). No database.
#
#   AWF_BUILD_DIR=build bash test/reliability/fuzz.sh [--seconds S] [--target codec|http] [--reseed]
#
# Targets (sources test/reliability/fuzz_*.cpp; fuzz_pipeline.cpp mirrors bridge/server.cpp):
#   codec   a body as POST /rpc gets it: Content-Type -> decode (JSON, YAML) -> read_rpc_request
#           (call or batch) -> the response encoded in JSON and YAML (round trip checked), and as
#           the REST surfaces' JSON object reader gets it
#   http    raw bytes of a connection: Beast's request parser with the bridge's header and body
#           limits, keep-alive requests routed as the server does (/rpc with its headers and
#           Authorization, /xina/actions, the NL Flow routes and queries), then as codec
# They are compiled here with clang++ directly from bridge/*.cpp and src/core/*.cpp (the CMake
# build uses gcc), into ${AWF_BUILD_DIR:-build}/fuzz/. Each target first runs its committed
# corpus (test/reliability/fuzz_corpus/TARGET/: the seed documents' examples, /work/shared/seeds,
# and reproducers of bugs found), then fuzzes for S seconds (--seconds, $AWF_FUZZ_SECONDS, else
# 15: ~30 s in all for CI). New inputs go to build/fuzz/corpus/TARGET (not committed); a crash,
# leak, timeout or sanitizer report is saved in build/fuzz/artifacts/ and fails the run: add it
# to the committed corpus once fixed.
#
# A long run (an hour per target, on both cores):
#   AWF_FUZZ_SECONDS=3600 bash test/reliability/fuzz.sh
# or one target directly, after a first run has built it:
#   build/fuzz/fuzz_http -max_len=8192 -timeout=10 -dict=test/reliability/fuzz_corpus/bridge.dict \
#     -jobs=2 -workers=2 -max_total_time=3600 build/fuzz/corpus/http test/reliability/fuzz_corpus/http
#
# --reseed rewrites test/reliability/fuzz_corpus/{codec,http}/ from the seed documents
# ($AWF_SEEDS_DIR, else /work/shared/seeds; needs python3 with PyYAML) and exits.
#
# Output: "ok - ..." / "not ok - ..." lines, per target
#   fuzz: TARGET runs=N crashes=N cov=N corpus=N peak_rss_mb=N seconds=N
# and as the last line "fuzz: N passed, N failed"; exit 0 iff nothing failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${AWF_BUILD_DIR:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
OUT=$BUILD/fuzz
CORPUS=$ROOT/test/reliability/fuzz_corpus
DICT=$CORPUS/bridge.dict
SECONDS_PER_TARGET=${AWF_FUZZ_SECONDS:-15}
MAX_LEN=${AWF_FUZZ_MAX_LEN:-8192}
TARGETS=(codec http)
RESEED=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_TARGET=${2:?--seconds needs a value}; shift 2 ;;
    --target) TARGETS=("${2:?--target needs codec or http}"); shift 2 ;;
    --reseed) RESEED=1; shift ;;
    *) echo "fuzz.sh: unknown argument $1 (--seconds S, --target codec|http, --reseed)" >&2; exit 2 ;;
  esac
done

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
finish() {
  echo "fuzz: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# --- the corpus from the seed documents ------------------------------------------------------
reseed() {
  local seeds=${AWF_SEEDS_DIR:-/work/shared/seeds}
  python3 - "$seeds" "$CORPUS" <<'PY'
import json, os, re, sys, glob
import yaml  # PyYAML: only to write the JSON twins of the seeds' YAML examples

seeds, corpus = sys.argv[1], sys.argv[2]
codec, http = os.path.join(corpus, "codec"), os.path.join(corpus, "http")
for d in (codec, http):
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "seed-*")):
        os.remove(f)

def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)

def as_json(text):
    return json.dumps(yaml.safe_load(text), default=str, ensure_ascii=False)

def http_request(verb, target, headers, body=""):
    body_bytes = body.encode()
    lines = [f"{verb} {target} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers]
    if body_bytes or verb in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body_bytes)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body_bytes

def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")

def seed(prefix):
    found = sorted(glob.glob(os.path.join(seeds, prefix + "_*")))
    return open(found[0], encoding="utf-8").read() if found else ""

n = 0
# 002: the Task Executor API in markdown: ```yaml blocks, requests (with "POST /rpc" and headers)
# and responses, under "### `awf.task/...`" headings.
text = seed("002")
method = "none"
for m in re.finditer(r"### `([^`]+)`|```yaml\n(.*?)```", text, re.S):
    if m.group(1):
        method = slug(m.group(1))
        continue
    block = m.group(2)
    if block.startswith("POST "):
        head, _, body = block.partition("\n\n")
        hlines = head.split("\n")
        verb, target = hlines[0].split()[:2]
        headers = [tuple(x.strip() for x in l.split(":", 1)) for l in hlines[1:] if ":" in l]
        write(codec, f"seed-002-{method}-request.yaml", body)
        write(codec, f"seed-002-{method}-request.json", as_json(body))
        write(http, f"seed-002-{method}-yaml.http", http_request(verb, target, headers, body))
        jheaders = [("content-type", "application/json"), ("accept", "application/json")]
        write(http, f"seed-002-{method}-json.http", http_request(verb, target, jheaders, as_json(body)))
        write(http, f"seed-002-{method}-yaml-to-json.http",
              http_request(verb, target, [("content-type", "text/yaml; charset=utf-8"), ("accept", "application/json")], body))
    else:
        write(codec, f"seed-002-{method}-response.yaml", block)
        write(codec, f"seed-002-{method}-response.json", as_json(block))
    n += 1

# 001: the same API as flattened text: "POST /rpc", two header lines, then body lines up to the
# next heading.
text = seed("001")
for i, m in enumerate(re.finditer(r"POST /rpc\ncontent-type: ([^\n]+)\naccept: ([^\n]+)\n((?:[^\n]*:[^\n]*\n)+)", text)):
    lines = [l for l in m.group(3).split("\n") if l and not l.startswith("Last updated")]
    body = "\n".join(lines) + "\n"
    write(codec, f"seed-001-{i}-request.yaml", body)
    write(http, f"seed-001-{i}.http", http_request("POST", "/rpc", [("content-type", m.group(1)), ("accept", m.group(2))], body))
    n += 1

# 003: NL Flow: indented JSON examples, and the endpoints with their verbs.
text = seed("003")
lines = text.split("\n")
i = k = 0
jsons = []
while i < len(lines):
    if lines[i].strip() == "{":
        depth, block = 0, []
        while i < len(lines):
            block.append(lines[i])
            depth += lines[i].count("{") - lines[i].count("}")
            i += 1
            if depth <= 0:
                break
        indent = min(len(l) - len(l.lstrip()) for l in block if l.strip())
        doc = "\n".join(l[indent:] for l in block) + "\n"
        write(codec, f"seed-003-{k}.json", doc)
        jsons.append(doc)
        k += 1
    else:
        i += 1
task1, task2 = "6c3bb18c-acdc-4407-b4f4-5a0f4701bd38", "5941302d-c109-4b20-aa1a-3370e1d91ce6"
key = [("X-API-KEY", "key1.c2VjcmV0"), ("X-Correlation-Id", "corr-1")]
for j, m in enumerate(re.finditer(r"Verb: (\w+)\n.*?Endpoint:\s*\n\s*(https://host(\S+))", text, re.S)):
    verb, path = m.group(1), m.group(3)
    path = (path.replace("[?verboseErrorOutput=true]", "?verboseErrorOutput=true")
                .replace("task1Id[,task2Id[,...]]", task1 + "," + task2)
                .replace("status1[,status2[,...]]", "RUNNING,ERROR")
                .replace("workflowId", "wf-1").replace("taskId", task1))
    body, headers = "", key
    if verb == "POST":
        body = jsons[0] if jsons else "{}"
        headers = key + [("Content-type", "application/json; charset=utf-8")]
    write(http, f"seed-003-{j}-{verb.lower()}.http", http_request(verb, path, headers, body))
    n += 1

# 004: XINA task actions: ``` blocks with <placeholders>; as they are, and made valid.
text = seed("004")
subs = [(r"\[\s*<ref_id[^>]*>\s*\]", "[1]"), (r"<task definition or reference>", '{"type": "ref", "ref": [1]}'),
        (r"<task reference>", "7"), (r"<task ID>", "7"), (r"<string[^>]*>", '"t"'), (r"<JSON object[^>]*>", "{}"),
        (r"<boolean[^>]*>", "false"), (r"<(?:long|int|number)[^>]*>", "1"), (r",\s*\.\.\.", "")]
for j, m in enumerate(re.finditer(r"```\n(.*?)```", text, re.S)):
    raw = m.group(1)
    write(codec, f"seed-004-{j}-raw.txt", raw)
    valid = raw
    for pattern, repl in subs:
        valid = re.sub(pattern, repl, valid)
    try:
        json.loads(valid)
    except ValueError:
        continue
    write(codec, f"seed-004-{j}.json", valid)
    write(http, f"seed-004-{j}.http", http_request("POST", "/xina/actions",
          [("Content-Type", "application/json"), ("Authorization", "Basic Y2xpZW50OnNlY3JldA==")], valid))
    n += 1

# A few shapes the seeds do not show: a batch, the hostile inputs of issue 8 in small, HTTP forms.
def laughs(levels, fanout):
    doc = 'l0: &l0 "lol"\n'
    for lvl in range(1, levels + 1):
        doc += f"l{lvl}: &l{lvl} [" + ", ".join([f"*l{lvl-1}"] * fanout) + "]\n"
    return doc
batch_yaml = "- method: awf.task/poll\n  params: {taskDefinitions: [a]}\n- method: awf.task/long-poll\n  params: {timeout: 5}\n- 17\n"
extras = {
    "seed-extra-batch.yaml": batch_yaml,
    "seed-extra-batch.json": as_json(batch_yaml),
    "seed-extra-laughs.yaml": laughs(4, 4),
    "seed-extra-nested.json": "[" * 130 + "1" + "]" * 130,
    "seed-extra-nested.yaml": "- " * 130 + "x\n",
    "seed-extra-invalid-utf8.yaml": b"method: awf.task/notify\nparams: {message: \"\xff\xfe\xc0\xaf\"}\n",
    "seed-extra-escapes.json": json.dumps({"method": "awf.task/notify", "params": {"message": "a\u0000b\u0085c\u2028d\ufeffe\ud7ff", "x": [1.5e300, -0.0, 18446744073709551615, -9223372036854775808]}}),
    "seed-extra-yaml11.yaml": "method: awf.task/create\nparams: {a: yes, b: 'no', c: 0x1F, d: 1_000, e: 2023-05-04, f: .inf, g: ~, h: '<<', i: 1e3, j: !!str 12}\n",
}
for name, data in extras.items():
    write(codec, name, data)
write(http, "seed-extra-chunked.http", b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      b"10\r\n{\"method\": \"awf.\r\n0f\r\ntask/poll\"}    \r\n0\r\n\r\n")
write(http, "seed-extra-pipelined.http", http_request("POST", "/rpc", [("Content-Type", "text/yaml"), ("Authorization", "Bearer id.secret")], batch_yaml)
      + http_request("GET", "/health", []) + http_request("POST", "/rpc", [("Content-Type", "application/json"), ("Expect", "100-continue")], '{"method":"awf.task/status","params":{"id":"x"}}'))
write(http, "seed-extra-short-body.http", b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{\"method\":")
print(f"reseed: {n} seed examples, {len(os.listdir(codec))} codec and {len(os.listdir(http))} http corpus files")
PY
}

if [ "$RESEED" = 1 ]; then
  reseed || exit 1
  exit 0
fi

# --- build -----------------------------------------------------------------------------------
CXX=${AWF_FUZZ_CXX:-}
if [ -z "$CXX" ]; then
  for c in clang++ clang++-14; do command -v "$c" >/dev/null && { CXX=$c; break; }; done
fi
if [ -z "$CXX" ]; then
  not_ok "clang++ not found (install clang and libclang-rt-14-dev)"
  finish
fi
mkdir -p "$OUT/obj" "$OUT/corpus" "$OUT/artifacts" "$OUT/logs"
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
CXXFLAGS=(-std=c++17 -g -O1 -D_GLIBCXX_ASSERTIONS "${SAN[@]}" -I"$ROOT/bridge" -I"$ROOT/src"
          -I"$ROOT/test/reliability" $(pkg-config --cflags yaml-0.1 libpqxx))
LIBS=($(pkg-config --libs yaml-0.1 libpqxx) -lpq -lcrypto -lcrypt)
BRIDGE_SOURCES=(bridge/codec.cpp bridge/rpc_request.cpp bridge/http_errors.cpp bridge/nlflow.cpp bridge/xina.cpp
                bridge/config.cpp bridge/auth.cpp src/core/errors.cpp src/core/methods.cpp src/core/wakeup_slots.cpp
                test/reliability/fuzz_pipeline.cpp)
HEADERS=(bridge/*.hpp src/core/*.hpp test/reliability/fuzz_pipeline.hpp)

build_start=$(date +%s)
# compile SOURCE: an object in $OUT/obj, rebuilt when the source or any header is newer.
compile() {
  local src=$1 obj=$OUT/obj/$(echo "$1" | tr / _).o extra=-fsanitize=fuzzer-no-link h stale=0
  [ -f "$obj" ] || stale=1
  if [ "$stale" = 0 ]; then
    for h in "$src" "${HEADERS[@]}"; do [ "$h" -nt "$obj" ] && { stale=1; break; }; done
  fi
  [ "$stale" = 1 ] || return 0
  "$CXX" "${CXXFLAGS[@]}" "$extra" -c "$ROOT/$src" -o "$obj.tmp" 2>"$OUT/logs/$(basename "$obj").log" &&
    mv "$obj.tmp" "$obj"
}
SOURCES=("${BRIDGE_SOURCES[@]}")
for t in "${TARGETS[@]}"; do SOURCES+=("test/reliability/fuzz_$t.cpp"); done
build_ok=1
running=0
for src in "${SOURCES[@]}"; do
  compile "$src" &
  running=$((running + 1))
  if [ "$running" -ge 2 ]; then wait -n || build_ok=0; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do wait -n || build_ok=0; running=$((running - 1)); done
if [ "$build_ok" = 1 ]; then
  objs=()
  for src in "${BRIDGE_SOURCES[@]}"; do objs+=("$OUT/obj/$(echo "$src" | tr / _).o"); done
  for t in "${TARGETS[@]}"; do
    if ! "$CXX" "${SAN[@]}" -fsanitize=fuzzer "${objs[@]}" "$OUT/obj/test_reliability_fuzz_$t.cpp.o" "${LIBS[@]}" \
         -o "$OUT/fuzz_$t" 2>"$OUT/logs/link_$t.log"; then
      build_ok=0
      cat "$OUT/logs/link_$t.log" | head -20
    fi
  done
else
  for l in "$OUT"/logs/*.o.log; do [ -s "$l" ] && grep -m 10 -E "error" "$l"; done
fi
build_seconds=$(( $(date +%s) - build_start ))
if [ "$build_ok" = 1 ]; then
  ok "built ${TARGETS[*]} with $CXX -fsanitize=fuzzer,address,undefined into $OUT (${build_seconds}s)"
else
  not_ok "building the fuzz targets with $CXX (logs in $OUT/logs)"
  finish
fi

# --- run -------------------------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "${TARGETS[@]}"; do
  bin=$OUT/fuzz_$t
  seeds=$CORPUS/$t
  n_seeds=$(find "$seeds" -type f | wc -l)
  # 1. The committed corpus, every file once: the seeds and the reproducers of past bugs.
  if "$bin" -runs=0 -max_len="$MAX_LEN" -timeout=30 -artifact_prefix="$OUT/artifacts/regress-$t-" "$seeds" \
       >"$OUT/logs/regress_$t.log" 2>&1; then
    ok "$t: the committed corpus ($n_seeds inputs) runs clean"
  else
    not_ok "$t: the committed corpus fails (log $OUT/logs/regress_$t.log)"
    grep -E "ERROR|SUMMARY|fuzz check failed|runtime error" "$OUT/logs/regress_$t.log" | head -5 | sed 's/^/#   /'
  fi
  # 2. Fuzzing, S seconds, from the committed corpus and what earlier runs found.
  mkdir -p "$OUT/corpus/$t"
  rm -f "$OUT/artifacts/$t-"*
  start=$(date +%s)
  "$bin" -max_total_time="$SECONDS_PER_TARGET" -max_len="$MAX_LEN" -timeout=10 -rss_limit_mb=2048 \
    -dict="$DICT" -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t-" \
    "$OUT/corpus/$t" "$seeds" >"$OUT/logs/fuzz_$t.log" 2>&1
  rc=$?
  seconds=$(( $(date +%s) - start ))
  log=$OUT/logs/fuzz_$t.log
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  crashes=$(find "$OUT/artifacts" -name "$t-*" -type f | wc -l)
  echo "fuzz: $t runs=${runs:-0} crashes=$crashes cov=${cov:-?} corpus=${corp:-?} peak_rss_mb=${rss:-?} seconds=$seconds"
  if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ] && [ "${runs:-0}" -gt 0 ]; then
    ok "$t: ${runs} runs in ${seconds}s, no crash, leak, timeout or sanitizer report"
  else
    not_ok "$t: fuzzing found a problem (exit $rc; log $log; artifacts: $(ls "$OUT/artifacts/$t-"* 2>/dev/null | tr '\n' ' '))"
    grep -E "ERROR|SUMMARY|fuzz check failed|runtime error|\*\*\* data" "$log" | head -8 | sed 's/^/#   /'
  fi
done
finish
