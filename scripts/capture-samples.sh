#!/usr/bin/env bash
# Record real packet captures of the seed experiment on loopback, and synthesise current traces
# whose bursts follow the captured packet times: samples/paired/.
#
# What runs (all from Debian's packages: `apt-get install mosquitto mosquitto-clients nginx-light
# tcpdump curl openssl`; tshark is optional and only writes the independent reference counts):
#   - mosquitto 2 with a plain (1883) and a TLS (8883) listener;
#   - nginx with a plain (80) and a TLS (443) server that answers every request (POST too) with 200;
#   - clients: mosquitto_pub -l (one connection, one PUBLISH per line read) and curl --rate 1/s
#     (one connection, reused for ten POSTs);
#   - tcpdump -i lo, one capture per protocol; certificates self-signed, made on the fly.
# Each protocol sends ten tiny JSON messages at 1 s intervals, as the seed did.
#
# Needs root (tcpdump, ports below 1024) and no network. Takes about a minute.
# Usage: scripts/capture-samples.sh [OUT_DIR]   (default samples/paired)
# Afterwards: cargo run --release -- batch samples/paired --out report-paired --force
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/samples/paired}
mkdir -p "$out"
for tool in mosquitto mosquitto_pub nginx tcpdump curl openssl; do
    command -v "$tool" >/dev/null || {
        echo "capture-samples: $tool not found (apt-get install mosquitto mosquitto-clients nginx-light tcpdump curl openssl)" >&2
        exit 2
    }
done
[ "$(id -u)" = 0 ] || { echo "capture-samples: needs root (tcpdump on lo, ports 80/443)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- certificates: a CA and a server certificate for localhost / 127.0.0.1 ---
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=shuntscope test CA" \
    -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
    -CAcreateserial -days 2 -extfile "$work/san.ext" -out "$work/server.crt" 2>/dev/null
# mosquitto and nginx workers drop root: let them read the (throw-away) keys.
chmod 755 "$work" && chmod 644 "$work"/*

# --- servers ---
cat >"$work/mosquitto.conf" <<EOF
per_listener_settings false
allow_anonymous true
persistence false
log_dest none
listener 1883 127.0.0.1
listener 8883 127.0.0.1
cafile $work/ca.crt
certfile $work/server.crt
keyfile $work/server.key
EOF
mosquitto -c "$work/mosquitto.conf" &
pids+=($!)

mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:80;
        location / { default_type text/plain; return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:443 ssl;
        ssl_certificate $work/server.crt;
        ssl_certificate_key $work/server.key;
        location / { default_type text/plain; return 200 "ok\n"; }
    }
}
EOF
nginx -c "$work/nginx.conf" &
pids+=($!)
sleep 1

# --- one capture per protocol ---
payload() { printf '{"sensor":"t1","seq":%d,"t_c":21.%d}' "$1" "$1"; }
capture() { # NAME PORT COMMAND...
    local name=$1 port=$2
    shift 2
    tcpdump -Z root -i lo -s 0 -U --immediate-mode -n --time-stamp-precision=nano -w "$out/$name.pcap" "tcp port $port" 2>/dev/null &
    local dump=$!
    pids+=("$dump")
    sleep 1
    "$@"
    sleep 1.5
    kill -INT "$dump"
    wait "$dump" || true
    echo "captured $out/$name.pcap"
}
mqtt_lines() { for i in $(seq 1 10); do payload "$i"; echo; sleep 1; done; }
http_post() { # URL [curl options]
    local url=$1
    shift
    # One connection for all ten (curl reuses it), one POST per second (--rate).
    curl -s --rate 1/s -H 'Content-Type: application/json' -d "$(payload 1)" "$@" \
        "$url/data/[1-10]" >/dev/null
}

capture mqtt 1883 bash -c "$(declare -f payload mqtt_lines); mqtt_lines | mosquitto_pub -h 127.0.0.1 -p 1883 -t sensors/t1 -q 0 -l"
capture mqtts 8883 bash -c "$(declare -f payload mqtt_lines); mqtt_lines | mosquitto_pub -h localhost -p 8883 --cafile $work/ca.crt -t sensors/t1 -q 0 -l"
capture http 80 http_post http://127.0.0.1
capture https 443 http_post https://localhost --cacert "$work/ca.crt" --resolve localhost:443:127.0.0.1

# --- traces whose bursts follow the packets ---
# Packets closer than 50 ms form one burst; the trace's clock runs OFFSET seconds ahead of the
# capture's (trace time = packet time since the capture's first packet + OFFSET). On-times follow
# the seed: set-up 80 ms (HTTP, HTTPS) or 70 ms (MQTT, MQTTS); later messages 6 ms (HTTP),
# 5-30 ms (HTTPS), 2 ms (MQTT: "close to nothing", but long enough to see at 10 kS/s), 5 ms (MQTTS).
bin=(cargo run --release --quiet --manifest-path "$here/Cargo.toml" --)
manifest="$out/manifest.csv"
{
    echo "# Paired captures and traces: scripts/capture-samples.sh recorded the .pcap files on loopback"
    echo "# and synthesised each trace with its bursts at the capture's packet times + offset_s."
    echo "file,group,supply_v,shunt_ohms,pcap,payload,options"
} >"$manifest.new"
offsets="$out/offsets.csv.new"
echo "file,pcap,offset_s" >"$offsets"
i=0
for proto in http https mqtt mqtts; do
    offset=$(awk -v i=$i 'BEGIN { printf "%.4f", 0.3137 + 0.2113 * i }')
    case $proto in
    http) first=80 on=6 ;;
    https) first=80 on=15 ;;
    mqtt) first=70 on=2 ;;
    mqtts) first=70 on=5 ;;
    esac
    # tcpdump's own reading of the capture (not shuntscope's) gives the packet times.
    mapfile -t bursts < <(tcpdump -r "$out/$proto.pcap" -nn -tt --time-stamp-precision=nano 2>/dev/null |
        awk -v off="$offset" -v first="$first" -v on="$on" -v seed=$i '
            BEGIN { srand(seed + 7) }
            { t = $1 + 0; if (NR == 1) t0 = t; rel = t - t0
              if (NR == 1 || rel - last > 0.05) starts[n++] = rel
              last = rel }
            END { for (k = 0; k < n; k++) {
                      d = (k == 0) ? first : on
                      if (k > 0 && on == 15) d = 5 + 25 * rand()   # HTTPS: 5 to 30 ms
                      printf "%.6f:%.2f:64\n", starts[k] + off, d } }')
    args=()
    for b in "${bursts[@]}"; do args+=(--burst "$b"); done
    last=${bursts[-1]%%:*}
    duration=$(awk -v l="$last" 'BEGIN { printf "%.3f", l + 0.8 }')
    "${bin[@]}" synth -o "$out/$proto.csv" --si --sample-interval 100us --duration "${duration}s" \
        --noise 1.0 --seed $((i + 11)) --force "${args[@]}"
    group=$(echo "$proto" | tr a-z A-Z)
    echo "$proto.csv,$group,5.0,0.47,$proto.pcap,tiny JSON," >>"$manifest.new"
    echo "$proto.csv,$proto.pcap,$offset" >>"$offsets"
    i=$((i + 1))
done
mv "$manifest.new" "$manifest"
mv "$offsets" "$out/offsets.csv"

# --- independent reference counts (tshark's dissectors), when tshark is installed ---
if command -v tshark >/dev/null; then
    for proto in http https mqtt mqtts; do
        # Non-standard ports for tshark's dissectors: MQTTS is TLS on 8883.
        tshark -r "$out/$proto.pcap" -d tcp.port==8883,tls -T fields -E header=y -E separator=/t \
            -e frame.number -e frame.time_relative -e frame.len -e tcp.stream -e tcp.srcport \
            -e tcp.dstport -e tcp.flags.syn -e tcp.flags.fin -e tcp.flags.reset -e tcp.len \
            -e mqtt.msgtype -e tls.record.content_type -e tls.record.opaque_type -e http.request.method \
            -e http.response.code >"$out/$proto.tshark.tsv" 2>/dev/null
    done
    echo "wrote tshark reference fields: $out/*.tshark.tsv"
fi
echo "done: $out"
