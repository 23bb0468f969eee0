#!/usr/bin/env bash
# Regenerate the example traces in samples/ with `shuntscope synth`.
# Usage: samples/make.sh [path/to/shuntscope]   (default: target/release/shuntscope)
# Deterministic: the same seeds give the same files byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/shuntscope}
seed=1
for p in http https mqtt mqtts; do
  # Long captures: 10 s at 10 kS/s of the shunt voltage in mV, 0.625 mV ADC steps, 1 mV rms noise.
  "$bin" synth --preset "$p" --seed "$seed" --force -o "samples/seed/$p.csv"
  # DSO Nano v3 screens: one burst each, 4094 samples of 50 us, 20 mV/div, 0 V at pixel 20.
  "$bin" synth --preset "$p" --seed "$seed" --only connect --dso-nano --sample-interval 50us --force \
    -o "samples/nano/${p}_connect.CSV"
  "$bin" synth --preset "$p" --seed "$seed" --only message --dso-nano --sample-interval 50us --force \
    -o "samples/nano/${p}_message.CSV"
  seed=$((seed + 1))
done
