#!/usr/bin/env bash
# Load of `shuntscope record` keeping up with a PPK2's 100 kS/s: a simulated PPK2
# (examples/ppk2_sim.rs, on a pseudo-terminal, streaming in real time) is recorded for SECS
# seconds (default 60; SECS=3600 for the hour). Prints the recorder's CPU time as a share of
# one core, its peak RSS, its RSS every 10 s (flat memory), samples lost and the file's size.
# Needs GNU time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${SECS:-60}
cargo build --release --quiet --example ppk2_sim
cargo build --release --quiet
dir=target/bench
mkdir -p "$dir"
out="$dir/record-$secs.ppk2"
rm -f "$out"
target/release/examples/ppk2_sim > "$dir/sim.port" &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$dir/sim.port" ] && break; sleep 0.1; done
port=$(cat "$dir/sim.port")
/usr/bin/time -f '%U %S %e %M' -o "$dir/record.time" \
  target/release/shuntscope record --ppk2 "$port" --source-mv 3000 --duration "${secs}s" \
  -o "$out" -q &
rec=$!
sleep 1
rss=""
while kill -0 $rec 2>/dev/null; do
  pid=$(pgrep -P $rec shuntscope || echo $rec)
  r=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$r" ] && rss="$rss $((r / 1024))"
  sleep 10
done
wait $rec
read -r user sys wall peak < "$dir/record.time"
python3 - "$out" "$user" "$sys" "$wall" "$peak" "$rss" <<'PY'
import json, sys, zipfile, os
path, user, sys_, wall, peak, rss = sys.argv[1:]
m = json.loads(zipfile.ZipFile(path).read("metadata.json"))["recording"]
cpu = float(user) + float(sys_)
print(f"recorded {m['duration_s']:.1f} s ({m['samples']} samples) in {float(wall):.1f} s of wall time")
print(f"cpu: {cpu:.2f} s = {100 * cpu / float(wall):.2f}% of one core (user {user} s, sys {sys_} s)")
print(f"peak RSS: {int(peak) / 1024:.1f} MB; RSS every 10 s (MB):{rss}")
print(f"lost samples: {m['lost_samples']} in {m['gap_count']} gaps; file {os.path.getsize(path) / 1e6:.1f} MB")
PY
