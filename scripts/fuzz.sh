#!/usr/bin/env bash
# Build the libFuzzer harnesses of firmware/fuzz/ (clang, ASan + UBSan, no recovery) and run them
# one after another on their seed corpora (firmware/fuzz/corpus/<parser>/).
#   scripts/fuzz.sh [SECONDS_PER_PARSER] [PARSER...]   run each parser that long (default 60 s)
#   FUZZ_RUNS=N scripts/fuzz.sh [PARSER...]            run each parser for N executions instead
#   scripts/fuzz.sh build                              build only
# Parsers: smp_frame cbor mgmt dut image capture. Output in $FUZZ_OUT (default build/fuzz): binaries,
# logs/<parser>.log, corpus/<parser>/ (new inputs found), artifacts/ (crashing inputs). Prints one
# line per parser: executions, coverage (cov/ft), exec/s, result. Exit 1 when any parser fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${FUZZ_OUT:-$ROOT/build/fuzz}
CC=${CC:-clang}
ALL=(smp_frame cbor mgmt dut image capture)
FW=$ROOT/firmware
FZ=$FW/fuzz

BUILD_ONLY=0 SECONDS_PER=60
if [ "${1:-}" = build ]; then BUILD_ONLY=1; shift; fi
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then SECONDS_PER=$1; shift; fi
PARSERS=("$@")
[ ${#PARSERS[@]} -gt 0 ] || PARSERS=("${ALL[@]}")
for p in "${PARSERS[@]}"; do
  [[ " ${ALL[*]} " == *" $p "* ]] || { echo "fuzz: unknown parser '$p' (one of: ${ALL[*]})" >&2; exit 2; }
done

if ! command -v "$CC" >/dev/null; then
  echo "fuzz: $CC not found: install the Debian packages clang and libclang-rt-14-dev (scripts/bootstrap.sh)" >&2
  exit 1
fi
# Monocypher (fetched into build/monocypher) and the board's generated flash map (ek_layout.h),
# from the same place the firmware build takes them.
PY=${PYTHON:-$ROOT/.venv/bin/python}
{ read -r MONO; read -r LAYOUT; } < <("$PY" -c 'from edgekit.flash.build import layout_dir, monocypher_dir
print(monocypher_dir()); print(layout_dir())')

SAN=(-fsanitize=address,undefined -fno-sanitize-recover=all)
CFLAGS=(-std=c99 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -DEK_MGMT_HOST
        -I"$FZ" -I"$FZ/gen" -I"$FW/mgmt" -I"$FW/crypto" -I"$MONO" -I"$LAYOUT")

build() {
  mkdir -p "$OUT/obj"
  # Crypto under the parsers: sanitized but not coverage-instrumented (not what is fuzzed);
  # Monocypher (third-party, audited) plain -O2 like tests/test_smp_vectors.py does.
  "$CC" -O2 -c "$MONO/monocypher.c" -o "$OUT/obj/monocypher.o"
  for f in ek_sha256 ek_sha512 ek_ed25519; do
    "$CC" "${CFLAGS[@]}" "${SAN[@]}" -c "$FW/crypto/$f.c" -o "$OUT/obj/$f.o"
  done
  local crypto=("$OUT/obj/ek_sha256.o" "$OUT/obj/ek_sha512.o" "$OUT/obj/ek_ed25519.o" "$OUT/obj/monocypher.o")
  local fz=(-fsanitize=fuzzer "${SAN[@]}")
  local server=("$FZ/fuzz_flash.c" "$FW/mgmt/ek_cbor.c" "$FW/mgmt/ek_slots.c" "${crypto[@]}")
  for p in smp_frame cbor mgmt; do
    "$CC" "${CFLAGS[@]}" "${fz[@]}" "$FZ/fuzz_$p.c" "${server[@]}" -o "$OUT/fuzz_$p"
  done
  "$CC" "${CFLAGS[@]}" "${fz[@]}" "$FZ/fuzz_image.c" "$FZ/fuzz_flash.c" "$FW/mgmt/ek_slots.c" "${crypto[@]}" \
    -o "$OUT/fuzz_image"
  # The text parsers count with unsigned ints and never mean to wrap: a wrap is a finding there.
  "$CC" "${CFLAGS[@]}" "${fz[@]}" -fsanitize=unsigned-integer-overflow -I"$FZ/dut" -I"$FW/app" \
    "$FZ/fuzz_dut.c" "$FW/app/ek_line.c" \
    "$FW/app/ek_mgmt_weak.c" -o "$OUT/fuzz_dut"
  # The shadow-mode capture window parser (firmware/app/ek_capture.c), as the board reads its slots.
  "$CC" "${CFLAGS[@]}" "${fz[@]}" -I"$FZ/dut" -I"$FW/app" "$FZ/fuzz_capture.c" -o "$OUT/fuzz_capture"
}

max_len() { case $1 in cbor) echo 1024;; dut) echo 2048;; image) echo 4096;; *) echo 8192;; esac; }

run() {   # run PARSER LIMIT_FLAG
  local p=$1 limit=$2 log=$OUT/logs/$1.log
  mkdir -p "$OUT/logs" "$OUT/corpus/$p" "$OUT/artifacts"
  local dict=()
  [ -f "$FZ/$p.dict" ] && dict=(-dict="$FZ/$p.dict")
  local rc=0
  "$OUT/fuzz_$p" "$limit" -max_len="$(max_len "$p")" -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$p-" \
    "${dict[@]}" "$OUT/corpus/$p" "$FZ/corpus/$p" >"$log" 2>&1 || rc=$?
  local execs cov ft eps
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  local verdict=ok
  if [ "$rc" -ne 0 ]; then
    verdict="FAILED (exit $rc): $(grep -m1 -E 'ERROR: |runtime error|invariant broken' "$log" || tail -1 "$log")"
  fi
  printf '%-10s execs=%s cov=%s ft=%s exec/s=%s %s (log %s)\n' "$p" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${eps:-?}" "$verdict" "$log"
  return "$rc"
}

build
if [ "$BUILD_ONLY" = 1 ]; then echo "fuzz: harnesses in $OUT"; exit 0; fi
limit=-max_total_time=$SECONDS_PER
[ -n "${FUZZ_RUNS:-}" ] && limit=-runs=$FUZZ_RUNS
failed=0
for p in "${PARSERS[@]}"; do run "$p" "$limit" || failed=1; done
exit $failed
