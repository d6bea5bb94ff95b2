#!/usr/bin/env bash
# Builds, lints and measures the board examples (examples/boards/*): installs the three
# targets, checks the formatting of the four crates, lints board-common on the host, then
# builds and lints each board (`cargo build --release` in its folder, its Cargo.lock as
# committed), and prints each board's flash and static RAM from its ELF's section headers.
#
# Flash: every allocated section with contents (PROGBITS, flag A), which is what is written
# to flash: code, read-only data, the initial values of .data, and on the ESP32-C3 the code
# copied into IRAM at start (.trap, .rwtext*) and the app descriptor; its *_dummy sections
# only reserve address space and are not counted. Static RAM: .data* + .bss* (+ .uninit /
# .noinit), the RAM the firmware's statics take, esp-alloc's heap on the ESP32-C3 included
# (it is a static); the stack, and the ESP32-C3's IRAM code, come on top.
#
# The three crates share one target directory ($CARGO_TARGET_DIR, else
# examples/boards/target), so the host-side build scripts and macros are built once.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
boards=(stm32-eth:thumbv7em-none-eabihf pico-w:thumbv6m-none-eabi esp32c3:riscv32imc-unknown-none-elf)

if command -v rustup >/dev/null; then
  rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi riscv32imc-unknown-none-elf
  rustup component add clippy rustfmt
fi

for crate in common stm32-eth pico-w esp32c3; do
  (cd "$here/$crate" && cargo fmt --check)
done
echo "== board-common: clippy (host)"
(cd "$here/common" && cargo clippy --release --locked -- -D warnings)

# flash and static RAM of an ELF, in bytes: "FLASH RAM".
measure() {
  local flash=0 ram=0 name type addr off size rest
  while read -r name type addr off size rest; do
    # rest: "ES Flg Lk Inf Al"; the flags are the second field (none: a number).
    set -- $rest
    [[ "${2:-}" == *A* ]] || continue
    if [[ "$type" == PROGBITS && "$name" != *_dummy ]]; then flash=$((flash + 0x$size)); fi
    if [[ "$name" =~ ^\.(data|bss|uninit|noinit) ]]; then ram=$((ram + 0x$size)); fi
  done < <(readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] //p')
  echo "$flash $ram"
}

declare -a rows
for entry in "${boards[@]}"; do
  board="${entry%%:*}" target="${entry##*:}"
  echo "== $board ($target): build"
  (cd "$here/$board" && cargo build --release --locked)
  echo "== $board: clippy"
  (cd "$here/$board" && cargo clippy --release --locked -- -D warnings)
  elf="$CARGO_TARGET_DIR/$target/release/$board"
  read -r flash ram < <(measure "$elf")
  rows+=("$(printf '%-10s %-30s %10d %12d' "$board" "$target" "$flash" "$ram")")
done

echo
printf '%-10s %-30s %10s %12s\n' board target "flash B" "static RAM B"
printf '%s\n' "${rows[@]}"
