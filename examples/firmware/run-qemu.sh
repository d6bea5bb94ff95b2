#!/usr/bin/env bash
# Build the release firmware and run it under QEMU (lm3s6965evb) in the foreground, reachable
# at http://127.0.0.1:PORT/ until killed.
#   uart:     UART0 is bridged to a TCP server socket on PORT (one client at a time).
#   ethernet: the Stellaris MAC on QEMU's user network; host PORT is forwarded to guest :80.
#   embassy:  the same network, served by the embassy firmware (tasks, embassy-net); its log
#             lines (UART0) go to standard output. Its OTA partitions are the file
#             target/ota-flash.bin, through semihosting (src/hostflash.rs).
set -euo pipefail
usage() { echo "usage: $0 uart|ethernet|embassy PORT" >&2; exit 2; }
[ $# -eq 2 ] || usage
kind=$1 port=$2
cd "$(dirname "$0")"
case "$kind" in
  uart) io=(-serial "tcp:127.0.0.1:$port,server=on,wait=off" -nic none) ;;
  ethernet) io=(-serial null -nic "user,model=stellaris,restrict=on,hostfwd=tcp:127.0.0.1:$port-:80") ;;
  embassy) io=(-serial stdio -nic "user,model=stellaris,restrict=on,hostfwd=tcp:127.0.0.1:$port-:80"
           -semihosting-config enable=on,target=native) ;;
  *) usage ;;
esac
case "$kind" in uart) features=() ;; ethernet) features=(--features ws) ;; embassy) features=(--features embassy) ;; esac
cargo build --release --quiet "${features[@]}" --bin "$kind"
exec qemu-system-arm -machine lm3s6965evb -cpu cortex-m3 -nographic -monitor none \
  "${io[@]}" -kernel "target/thumbv7m-none-eabi/release/$kind"
