#!/usr/bin/env bash
# Speed and memory of `shuntscope analyze` on a 20-million-row trace, and, when Python is
# available, the same job in pandas+numpy and a Python polars read_csv, with the ratios.
#
#   benches/bench.sh            # generates target/bench/trace-ROWS.csv (~350 MB) on first use
#   ROWS=2000000 benches/bench.sh   # a smaller trace
#   RUNS=9 benches/bench.sh         # more runs per job (best and median are printed)
#
# The trace: `time_s,voltage_v` at 100 kS/s, 170 mA idle on 0.47 ohm, 1.5 mV rms noise, a
# 64 mA x 6 ms burst every second, the first one 80 ms. Needs GNU time (Debian package `time`)
# for peak RSS. Besides `analyze` it times the scalar parser (--no-simd), reading
# instead of memory-mapping (--no-mmap) and one core (taskset), for comparison. LAYOUTS=1 also
# times other layouts (benches/layouts.py: PPK2, scientific notation, Rigol-like, shortest form);
# NATIVE=1 a generated 1 GB PPK2 session file (benches/ppk2.py).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/time ]; then
  echo "bench.sh needs GNU time for peak RSS: apt-get install time" >&2
  exit 2
fi
rows=${ROWS:-20000000}
dir=target/bench
mkdir -p "$dir"
cargo build --release --quiet
bin=target/release/shuntscope
trace="$dir/trace-$rows.csv"
if [ ! -s "$trace" ]; then
  secs=$(python3 -c "print($rows / 100000)" 2>/dev/null || echo $((rows / 100000)))
  echo "generating $trace ($rows rows)..."
  "$bin" synth --every 1s --at 0.5 --on-ms 6 --first-on-ms 80 --duration "${secs}s" \
    --sample-interval 10us --noise 1.5 --adc-step 0.05 --si -o "$trace"
fi
bytes=$(stat -L -c %s "$trace")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "trace:   $trace, $rows rows, $mb MB"
cat "$trace" > /dev/null   # into the page cache, as for every contender

measure() { # name, command...: best and median wall time of RUNS runs (default 3), peak RSS
  local name=$1; shift
  local rss=0 walls=()
  for _ in $(seq "${RUNS:-3}"); do
    local out
    out=$( { /usr/bin/time -f "%e %M" "$@" > /dev/null; } 2>&1 | tail -1 )
    walls+=("${out% *}")
    local kb=${out#* }
    [ "$kb" -gt "$rss" ] && rss=$kb
  done
  local best median
  best=$(printf '%s\n' "${walls[@]}" | sort -g | head -1)
  median=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  printf '%-28s %7.3f s (median %.3f)  %8.1f MB/s  %6.1f M rows/s  peak RSS %6.1f MB\n' "$name" \
    "$best" "$median" \
    "$(awk -v b="$bytes" -v t="$best" 'BEGIN { print b / 1e6 / t }')" \
    "$(awk -v r="$rows" -v t="$best" 'BEGIN { print r / 1e6 / t }')" \
    "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
  eval "t_$name=$best"
}

measure analyze "$bin" analyze "$trace" -q -f json
# The same job by slower routes, to show what each part of the fast path buys.
measure analyze_scalar "$bin" analyze "$trace" -q -f json --no-simd
measure analyze_no_mmap "$bin" analyze "$trace" -q -f json --no-mmap
if command -v taskset > /dev/null; then
  measure analyze_one_core taskset -c 0 "$bin" analyze "$trace" -q -f json
fi
measure plot "$bin" plot "$trace" -o "$dir/trace.png" --force
awk -v a="$t_analyze" -v p="$t_plot" 'BEGIN { printf "plot takes %.2fx the time of analyze (target at most 1.5x)\n", p / a }'

# batch over 1000 small files: one job against two.
small="$dir/small"
if [ ! -d "$small/g" ] || [ "$(ls "$small/g" | wc -l)" -lt 1000 ]; then
  echo "generating 1000 small traces in $small/g..."
  mkdir -p "$small/g"
  for k in $(seq 1 1000); do
    "$bin" synth --every 0.25s --at 0.05 --on-ms 6 --first-on-ms 40 --duration 1s --sample-interval 100us \
      --seed "$k" -o "$small/g/t$k.csv"
    rm -f "$small/g/t$k.csv.truth.json"
  done
fi
trace_bytes=$bytes trace_rows=$rows
bytes=$(du -sb "$small/g" | cut -f1) rows=$((1000 * 10001))
measure batch_jobs1 "$bin" batch "$small" --out "$dir/report-j1" --force -q --period 0.25s --jobs 1
measure batch_jobs2 "$bin" batch "$small" --out "$dir/report-j2" --force -q --period 0.25s --jobs 2
awk -v a="$t_batch_jobs1" -v b="$t_batch_jobs2" 'BEGIN { printf "batch of 1000 files: 2 jobs are %.2fx faster than 1 (target 1.7x)\n", a / b }'
bytes=$trace_bytes rows=$trace_rows
# Other layouts (LAYOUTS=1): analyze with and without the shape reader.
if [ -n "${LAYOUTS:-}" ] && command -v python3 > /dev/null; then
  lrows=3000000
  python3 benches/layouts.py "$dir/layouts" "$lrows"
  for name in ppk2 sci rigol short; do
    f="$dir/layouts/$name.csv"
    cat "$f" > /dev/null
    bytes=$(stat -L -c %s "$f") rows=$lrows
    extra=()
    [ "$name" = rigol ] && extra=(--value-col 2)
    measure "layout_$name" "$bin" analyze "$f" -q -f json "${extra[@]}"
    measure "layout_${name}_scalar" "$bin" analyze "$f" -q -f json --no-simd "${extra[@]}"
  done
  bytes=$trace_bytes rows=$trace_rows
fi
# A PPK2 session of 350 M samples (a 1.0 GB file, 2.1 GB of session.raw; NATIVE=1;
# PPK2_SAMPLES=N for another length), made with numpy in the bench venv: analyze's and
# inspect's MB/s, samples/s and peak RSS on a native file. analyze inflates once (its second
# pass reads an inflated copy in $TMPDIR: 6 bytes a sample of disk while it runs).
if [ -n "${NATIVE:-}" ]; then
  venv_py="$dir/venv/bin/python"
  [ -x "$venv_py" ] || { python3 -m venv "$dir/venv" && "$dir/venv/bin/pip" install -q -r benches/requirements.txt; }
  n=${PPK2_SAMPLES:-350000000}
  ppk="$dir/session-$n.ppk2"
  [ -s "$ppk" ] || { echo "generating $ppk ($n samples)..."; "$venv_py" benches/ppk2.py "$ppk" "$n" > /dev/null; }
  cat "$ppk" > /dev/null
  trace_bytes=$bytes trace_rows=$rows
  bytes=$(stat -L -c %s "$ppk") rows=$n
  measure ppk2_analyze "$bin" analyze "$ppk" -q -f json
  measure ppk2_inspect "$bin" inspect "$ppk" -f json
  # The zoomable page of the same recording (issue 26: at most 12 MB, at most 1.3x analyze's
  # time, peak RSS at most 64 MB).
  measure ppk2_view "$bin" view "$ppk" -o "$dir/view.html" --force -q
  awk -v v="$t_ppk2_view" -v a="$t_ppk2_analyze" -v mb="$(stat -c %s "$dir/view.html")" 'BEGIN {
    printf "ppk2 view: page %.1f MB, %.2fx analyze'"'"'s time\n", mb / 1e6, v / a }'
  awk -v t="$t_ppk2_analyze" -v i="$t_ppk2_inspect" -v a="$t_analyze" -v o="$t_analyze_one_core" \
    -v r="$rows" -v tr="$trace_rows" 'BEGIN {
    printf "ppk2: analyze %.1f ns a sample, inspect (one pass: inflate) %.1f ns a sample; analyze of the CSV trace: %.1f ns a sample (one core: %.1f)\n",
      t / r * 1e9, i / r * 1e9, a / tr * 1e9, o / tr * 1e9 }'
  # A Joulescope JLS file of 50 M samples (current and voltage, 414 MB; JLS_SAMPLES=N), made
  # with pyjls: not compressed, so read at the speed of its chunks.
  nj=${JLS_SAMPLES:-50000000}
  jls="$dir/recording-$nj.jls"
  "$venv_py" -c "import pyjls" 2> /dev/null || "$dir/venv/bin/pip" install -q -r benches/requirements.txt
  [ -s "$jls" ] || { echo "generating $jls ($nj samples)..."; "$venv_py" benches/jls.py "$jls" "$nj"; }
  cat "$jls" > /dev/null
  bytes=$(stat -L -c %s "$jls") rows=$nj
  measure jls_analyze "$bin" analyze "$jls" -q -f json
  measure jls_inspect "$bin" inspect "$jls" -f json
  awk -v t="$t_jls_analyze" -v i="$t_jls_inspect" -v r="$rows" 'BEGIN {
    printf "jls: analyze %.1f ns a sample, inspect %.1f ns a sample\n", t / r * 1e9, i / r * 1e9 }'
  bytes=$trace_bytes rows=$trace_rows
fi
py=""
if command -v python3 > /dev/null; then
  if python3 -c "import pandas, numpy, polars" 2> /dev/null; then
    py=python3
  elif [ -x "$dir/venv/bin/python" ] || { python3 -m venv "$dir/venv" && "$dir/venv/bin/pip" install -q -r benches/requirements.txt; }; then
    py="$dir/venv/bin/python"
  fi
fi
if [ -n "$py" ]; then
  measure pandas_numpy "$py" benches/pandas_equivalent.py "$trace"
  measure polars_read_csv "$py" -c "import polars, sys; polars.read_csv(sys.argv[1])" "$trace"
  awk -v a="$t_analyze" -v p="$t_pandas_numpy" -v l="$t_polars_read_csv" 'BEGIN {
    printf "analyze is %.1fx faster than pandas+numpy (target 8x), %.1fx faster than polars read_csv (target 2x)\n", p / a, l / a }'
else
  echo "python3 with pandas, numpy and polars not available: comparison skipped"
fi
