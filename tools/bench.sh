#!/usr/bin/env bash
# `make bench`: every benchmark with its floor, in the same process or on the same server, then one table of
# figure / floor / ratio. Sized for a few minutes on a 2-core machine; bigger runs through the variables:
#   make bench QA_MESSAGES=1000000 CARDS=100000 CUSTOMERS=100000 CLIENTS=1000 MESSAGES=5
#   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/shopbee_bench make bench   # campaigns on PostgreSQL too
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
QA_MESSAGES=${QA_MESSAGES:-300000}
CARDS=${CARDS:-10000}
QUESTIONS=${QUESTIONS:-1000}
CUSTOMERS=${CUSTOMERS:-20000}
CLIENTS=${CLIENTS:-200}
MESSAGES=${MESSAGES:-5}
PORT=${BENCH_PORT:-8190}

work=$(mktemp -d)
out="$work/figures.txt"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export DEBUG=true DATABASE_URL="sqlite:///$work/bench.sqlite3" REDIS_URL=""
run() { echo "\$ manage.py $*" >&2; "$BIN/python" manage.py "$@" 2>/dev/null | tee -a "$out"; }

"$BIN/python" manage.py migrate --noinput --verbosity 0
run bench_qa --messages "$QA_MESSAGES"
run bench_answers --cards "$CARDS" --questions "$QUESTIONS"
run bench_campaigns --customers "$CUSTOMERS"
if [ -n "${BENCH_PG_URL:-}" ]; then
  DATABASE_URL="$BENCH_PG_URL" "$BIN/python" manage.py migrate --noinput --verbosity 0
  DATABASE_URL="$BENCH_PG_URL" run bench_campaigns --customers "$CUSTOMERS"
fi

# The chat: a production-mode server (DEBUG off) with the echo floor on and the one-address limits raised.
"$BIN/python" manage.py load_demo >/dev/null
DEBUG=false SECRET_KEY=bench-only SECURE_SSL_REDIRECT=false BENCH_ECHO=true \
  LIMITS="chat.message.socket=1000/s,chat.message.visitor=1000/s,chat.message.ip=100000/s,chat.message.shop=100000/s,chat.connect.ip=100000/min" \
  "$BIN/uvicorn" config.asgi:application --host 127.0.0.1 --port "$PORT" --ws-per-message-deflate false \
  --log-level warning &
server=$!
for _ in $(seq 1 60); do
  (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.5
done
# Warm-up: the first questions build the shop's index and load what a worker loads once.
"$BIN/python" manage.py loadtest_chat --url "ws://127.0.0.1:$PORT" --shop swift-sports --clients 10 --messages 3 \
  --interval-ms 0 >/dev/null 2>&1
run loadtest_chat --url "ws://127.0.0.1:$PORT" --shop swift-sports --clients "$CLIENTS" --messages "$MESSAGES" \
  --interval-ms 0 --server-pid "$server" --floor

echo
echo "Shopbee figures against floors measured in the same run ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
awk '/^bench / {
  split("", f); for (i = 3; i <= NF; i++) {
    if ($i ~ /^goal/) { f["goal"] = substr($i, 5); continue }
    split($i, kv, "="); f[kv[1]] = kv[2]
  }
  printf "%-36s %12s %12s %-12s ratio %6s  goal %s\n", $2, f["figure"], f["floor"], f["unit"], f["ratio"], f["goal"]
}' "$out"
