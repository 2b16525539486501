#!/usr/bin/env bash
# Bench/run.sh — runs the six benchmark scenarios (Bench/README.md) on loopback and rewrites the
# results table in Bench/README.md. `make bench` builds the release binaries first and calls this.
#
# Environment: BIN (default .build/release), REPEAT (runs per scenario, default 3), DUR (seconds
# of load per run, default 10), S4_CONNECTIONS (default 100000), NO_README=1 to leave the README,
# SCENARIOS (default "S1 S2 S3 S4 S5 S7 S8"; S6 comes from the S1 runs) to run a subset, e.g. while
# profiling one of them (a subset never rewrites the README: its table would be partial).
#
# Everything it starts — two redis-servers (one for the broker, one for the Baseline), the broker,
# the Baseline — listens on 127.0.0.1 on free ports under a temporary directory, and is stopped on
# exit. Exit status 1 if any run FAILED (loss, duplicates, errors).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${BIN:-.build/release}
REPEAT=${REPEAT:-3}
DUR=${DUR:-10}
S4_CONNECTIONS=${S4_CONNECTIONS:-100000}
SCENARIOS=${SCENARIOS:-S1 S2 S3 S4 S5 S7 S8}
[ "$SCENARIOS" = "S1 S2 S3 S4 S5 S7 S8" ] || NO_README=1
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
WORK=$(mktemp -d /tmp/switchboard-bench.XXXXXX)
RESULTS=$WORK/results.jsonl
COMMANDS=$WORK/commands.txt
: >"$RESULTS"; : >"$COMMANDS"
START=$(date +%s)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
FAILED=0

for b in switchboard LoadGen Baseline; do
  [ -x "$BIN/$b" ] || { echo "bench: $BIN/$b is missing (swift build -c release)"; exit 2; }
done
command -v redis-server >/dev/null || { echo "bench: redis-server is not installed"; exit 2; }

# S4 needs one descriptor per socket on both ends: lift the soft open-files limit to the hard one.
# Raising the hard limit itself needs CAP_SYS_RESOURCE; where it is missing (containers, this VM)
# the hard limit caps S4, and the LoadGen says so in its row.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "bench: work dir $WORK; open files limit $(ulimit -n) (hard $(ulimit -Hn))"

# Server ports come from below the ephemeral range (32768–60999 here): the LoadGen opens thousands
# of client sockets, and a port it used moments ago can still be in TIME_WAIT when the broker is
# restarted on it (EADDRINUSE).
free_port() {
  python3 - <<'PY'
import random, socket
low, high = 20000, 32000
try:
    low_eph = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    high = min(high, low_eph - 1)
except OSError:
    pass
for _ in range(1000):
    port = random.randrange(low, high)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(port)
        break
    except OSError:
        continue
    finally:
        s.close()
PY
}
wait_http() {  # url, seconds
  local i=0
  until python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" 2>/dev/null; do
    i=$((i+1)); [ $i -gt $(( $2 * 20 )) ] && return 1; sleep 0.05
  done
}

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT

# Redis: no persistence for either side (an fsync per write would measure the disk, not the stack);
# the broker's own default for a managed Redis is AOF with appendfsync always.
start_redis() {  # port dir
  mkdir -p "$2"
  redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --dir "$2" --daemonize no \
    --loglevel warning >"$2/redis.log" 2>&1 &
  PIDS+=($!)
  local i=0
  until redis-cli -p "$1" ping >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 100 ] && return 1; sleep 0.05; done
}
RPORT=$(free_port); start_redis "$RPORT" "$WORK/redis-broker" || { echo "bench: redis did not start"; exit 2; }
BRPORT=$(free_port); start_redis "$BRPORT" "$WORK/redis-baseline" || { echo "bench: redis did not start"; exit 2; }

BROKER_PID=""
BPORT=$(free_port)
start_broker() {  # name, config args…
  local name=$1; shift
  stop_broker
  redis-cli -p "$RPORT" flushall >/dev/null
  mkdir -p "$WORK/$name"
  "$BIN/LoadGen" config --server "127.0.0.1:$BPORT" --redis-url "redis://127.0.0.1:$RPORT" --data-dir "$WORK/$name" \
    --out "$WORK/$name/config.yaml" "$@" || return 1
  "$BIN/switchboard" serve --config "$WORK/$name/config.yaml" >"$WORK/$name/broker.log" 2>&1 &
  BROKER_PID=$!
  PIDS+=($BROKER_PID)
  wait_http "http://127.0.0.1:$BPORT/readyz" 30 || { echo "bench: broker not ready"; tail "$WORK/$name/broker.log"; return 1; }
}
stop_broker() {
  [ -n "$BROKER_PID" ] || return 0
  kill "$BROKER_PID" 2>/dev/null; wait "$BROKER_PID" 2>/dev/null; BROKER_PID=""
}

BASELINE_PID=""
LPORT=$(free_port)
start_baseline() {
  stop_baseline
  redis-cli -p "$BRPORT" flushall >/dev/null
  "$BIN/Baseline" --listen "127.0.0.1:$LPORT" --redis "127.0.0.1:$BRPORT" >"$WORK/baseline.log" 2>&1 &
  BASELINE_PID=$!
  PIDS+=($BASELINE_PID)
  wait_http "http://127.0.0.1:$LPORT/healthz" 10 || { echo "bench: baseline not ready"; return 1; }
}
stop_baseline() {
  [ -n "$BASELINE_PID" ] || return 0
  kill "$BASELINE_PID" 2>/dev/null; wait "$BASELINE_PID" 2>/dev/null; BASELINE_PID=""
}

# run_lg SCENARIO RUN LoadGen-args… : one LoadGen run; its RESULT line goes to results.jsonl with
# the scenario and the command (ports and pids replaced by placeholders) attached.
run_lg() {
  local scenario=$1 run=$2; shift 2
  local out="$WORK/$scenario-$run.log"
  echo "bench: $scenario run $run: LoadGen $*"
  "$BIN/LoadGen" "$@" >"$out" 2>&1
  local rc=$?
  grep -v '^RESULT ' "$out" | grep -v '^\[loadgen\]' | sed 's/^/    /'
  [ $rc -ne 0 ] && FAILED=1
  local cmd="LoadGen $*"
  cmd=${cmd//127.0.0.1:$BPORT/127.0.0.1:\$BROKER_PORT}
  cmd=${cmd//127.0.0.1:$LPORT/127.0.0.1:\$BASELINE_PORT}
  cmd=${cmd//127.0.0.1:$RPORT/127.0.0.1:\$REDIS_PORT}
  cmd=${cmd//127.0.0.1:$BRPORT/127.0.0.1:\$BASELINE_REDIS_PORT}
  [ -n "$BROKER_PID" ] && cmd=${cmd//--server-pid $BROKER_PID/--server-pid \$BROKER_PID}
  [ -n "$BASELINE_PID" ] && cmd=${cmd//--server-pid $BASELINE_PID/--server-pid \$BASELINE_PID}
  local line
  line=$(grep '^RESULT ' "$out" | tail -1 | cut -c8-)
  [ -z "$line" ] && line="{\"failed\":true,\"exit\":$rc}"
  python3 - "$scenario" "$run" "$rc" "$cmd" "$line" >>"$RESULTS" <<'PY'
import json, sys
scenario, run, rc, cmd, line = sys.argv[1:6]
r = json.loads(line)
r.update({"scenario": scenario, "run": int(run), "exit": int(rc), "command": cmd})
print(json.dumps(r))
PY
}

# ---------------------------------------------------------------------------------------------
# S1 throughput + S6 round trips + S2 latency: 100 agents, 1,000 conversations, already assigned.
S1_ARGS=(--agents 100 --contacts 1000 --connections 64 --rate 0 --duration "$DUR" --channel sms-s00)
# S7 (WeChat safe mode) runs in the same loop as S1, alternating, so its ratio to S1 is taken
# from runs on the same machine state: the same harness, an encrypted WeChat callback instead of
# a Twilio SMS.
S7_ARGS=(--agents 100 --contacts 1000 --connections 64 --rate 0 --duration "$DUR" --channel wx-s00)
if want S1 || want S7; then for r in $(seq 1 "$REPEAT"); do
  if want S1; then
    start_baseline
    run_lg S1-baseline "$r" messages --target baseline --server "127.0.0.1:$LPORT" "${S1_ARGS[@]}" \
      --server-pid "$BASELINE_PID" --redis "127.0.0.1:$BRPORT" --label S1-baseline --run-id "b$r$START"
    start_broker s1 --agents 100 --skills 1 --capacity 20
    run_lg S1-broker "$r" messages --target broker --server "127.0.0.1:$BPORT" "${S1_ARGS[@]}" \
      --server-pid "$BROKER_PID" --redis "127.0.0.1:$RPORT" --label S1-broker --run-id "s$r$START"
  fi
  if want S7; then
    start_broker s7 --agents 100 --skills 1 --capacity 20
    run_lg S7-broker "$r" messages --target broker --server "127.0.0.1:$BPORT" "${S7_ARGS[@]}" \
      --server-pid "$BROKER_PID" --redis "127.0.0.1:$RPORT" --label S7-broker --run-id "w$r$START"
  fi
done; fi
stop_baseline

S2_ARGS=(--agents 100 --contacts 1000 --connections 64 --rate 5000 --duration "$DUR" --warmup 1 --channel sms-s00)
if want S2; then
  for r in $(seq 1 "$REPEAT"); do
    start_broker s2 --agents 100 --skills 1 --capacity 20
    run_lg S2-broker "$r" messages --target broker --server "127.0.0.1:$BPORT" "${S2_ARGS[@]}" \
      --server-pid "$BROKER_PID" --redis "127.0.0.1:$RPORT" --label S2-broker --run-id "l$r$START"
  done
  start_baseline
  run_lg S2-baseline 1 messages --target baseline --server "127.0.0.1:$LPORT" "${S2_ARGS[@]}" \
    --server-pid "$BASELINE_PID" --label S2-baseline --run-id "m$START"
  stop_baseline
fi

# S3 routing: 1,000 agents over 20 skills, capacities 1–5; accept then close (wrap-up 0).
want S3 && for r in $(seq 1 "$REPEAT"); do
  start_broker s3 --agents 1000 --skills 20 --capacity-min 1 --capacity-max 5
  run_lg S3 "$r" routing --server "127.0.0.1:$BPORT" --agents 1000 --skills 20 --connections 64 --duration "$DUR" \
    --server-pid "$BROKER_PID" --redis "127.0.0.1:$RPORT" --label S3 --run-id "r$r$START"
done

# S8 call storm: 200 agents (one call each) over 10 skills; 500 incoming calls a second, each
# queued, offered, accepted (the bridge queued) and closed; offer latency and zero lost calls.
want S8 && for r in $(seq 1 "$REPEAT"); do
  start_broker s8 --agents 200 --skills 10 --capacity 1
  run_lg S8 "$r" routing --voice 1 --rate 500 --server "127.0.0.1:$BPORT" --agents 200 --skills 10 --connections 64 \
    --duration "$DUR" --server-pid "$BROKER_PID" --redis "127.0.0.1:$RPORT" --label S8 --run-id "v$r$START"
done

# S5 fan-out: 10 agents × 100 consoles each; every message reaches 100 sockets.
if want S5; then
  for r in $(seq 1 "$REPEAT"); do
    start_broker s5 --agents 10 --skills 1 --capacity 20
    run_lg S5-broker "$r" messages --target broker --server "127.0.0.1:$BPORT" --agents 10 --consoles 100 --contacts 100 \
      --connections 16 --rate 300 --duration "$DUR" --channel sms-s00 --server-pid "$BROKER_PID" --label S5-broker --run-id "f$r$START"
  done
  start_baseline
  run_lg S5-baseline 1 messages --target baseline --server "127.0.0.1:$LPORT" --agents 10 --consoles 100 --contacts 100 \
    --connections 16 --rate 300 --duration "$DUR" --channel sms-s00 --server-pid "$BASELINE_PID" --label S5-baseline --run-id "g$START"
  stop_baseline
fi

# S4 connections: idle visitors (hello → ready) plus 100 authenticated agents, from 127.0.0.2…
if want S4; then
  start_broker s4 --agents 100 --skills 1 --capacity 5
  run_lg S4 1 idle --server "127.0.0.1:$BPORT" --connections "$S4_CONNECTIONS" --agents 100 --source-ips 8 \
    --server-pid "$BROKER_PID" --label S4
  stop_broker
fi

ELAPSED=$(( $(date +%s) - START ))
echo "bench: all scenarios in ${ELAPSED}s; results in $RESULTS"
if [ "${NO_README:-0}" != 1 ]; then
  python3 Bench/report.py "$RESULTS" Bench/README.md --elapsed "$ELAPSED" --load "$LOAD_AT_START" --repeat "$REPEAT" --duration "$DUR" || FAILED=1
fi
[ $FAILED -eq 0 ] || echo "bench: FAILED (see the runs above)"
exit $FAILED
