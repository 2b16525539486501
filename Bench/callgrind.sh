#!/usr/bin/env bash
# Bench/callgrind.sh TREE CHANNEL LABEL — broker instructions per inbound message, exactly (callgrind),
# as Bench/README.md "How the profiles were taken" describes: a stripped copy of TREE/.build/release/switchboard
# under valgrind, 10 agents, 20 contacts, 100 msgs/s for 10 s on CHANNEL (sms-s00 for S1, wx-s00 for S7),
# counters zeroed at the hot phase and dumped at its end. Everything listens on 127.0.0.1.
set -u
TREE=$1; CH=$2; LABEL=$3
W=$(mktemp -d /tmp/cg.$LABEL.XXXX)
RP=$((24000 + RANDOM % 1000)); BP=$((25000 + RANDOM % 1000))
cp $TREE/.build/release/switchboard $W/sb && strip --strip-debug $W/sb
redis-server --port $RP --bind 127.0.0.1 --save "" --appendonly no --dir $W --daemonize yes --loglevel warning >/dev/null
sleep 0.3
$TREE/.build/release/LoadGen config --server 127.0.0.1:$BP --redis-url redis://127.0.0.1:$RP --data-dir $W/d --out $W/c.yaml --agents 10 --skills 1 --capacity 20 >/dev/null
valgrind --tool=callgrind --callgrind-out-file=$W/cg.%p $W/sb serve --config $W/c.yaml > $W/b.log 2>&1 &
VPID=$!
for i in $(seq 1 600); do curl -s -o /dev/null http://127.0.0.1:$BP/readyz && break; sleep 0.2; done
sleep 2
$TREE/.build/release/LoadGen messages --target broker --server 127.0.0.1:$BP --agents 10 --contacts 20 --connections 8 --rate 100 --duration 10 --drain 30 --channel $CH --label CG --run-id $LABEL$$ > $W/lg.log 2>&1 &
LG=$!
for i in $(seq 1 900); do grep -q "hot phase" $W/lg.log && break; sleep 0.1; done
callgrind_control -z $VPID >/dev/null 2>&1
wait $LG
callgrind_control -d $VPID >/dev/null 2>&1
sleep 1
N=$(grep -o 'acked [0-9]*' $W/lg.log | head -1 | awk '{print $2}')
kill -INT $VPID; wait $VPID 2>/dev/null
redis-cli -p $RP shutdown nosave >/dev/null 2>&1
F=$(ls -t $W/cg.*.1 2>/dev/null | head -1)
TOTAL=$(callgrind_annotate $F 2>/dev/null | grep "PROGRAM TOTALS" | awk '{print $1}' | tr -d ,)
echo "$LABEL channel=$CH messages=$N instructions=$TOTAL per_message=$(( TOTAL / (N>0?N:1) ))  $(grep -v RESULT $W/lg.log | tail -1 | cut -c1-100)"
