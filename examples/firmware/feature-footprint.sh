#!/usr/bin/env bash
# What each application-layer feature of the library costs in flash, in a firmware that uses
# it: the `features` firmware (src/bin/features.rs, the `uart` firmware plus one route per
# cargo feature `fp-*`, for `fp-cors` a layer over the router) built bare, with each feature alone, and with all of them; printed as
# a Markdown table of flash (text+rodata+data, as footprint.sh sums it) and the difference
# to the bare build. Also checks that the bare build is the `uart` firmware's size (exits 1
# if not). Needs readelf (binutils).
#   feature-footprint.sh
set -euo pipefail
cd "$(dirname "$0")"
out=target/feature-footprint
mkdir -p "$out"

# Sum of the named sections' sizes (as in footprint.sh).
sections() {
  local file=$1; shift
  readelf -S -W "$file" | sed 's/^ *\[ *[0-9]*\] *//' | awk -v want=" $* " '
    index(want, " " $1 " ") { total += strtonum_hex($5) }
    function strtonum_hex(h,   i, c, v) { v = 0; h = tolower(h)
      for (i = 1; i <= length(h); i++) { c = index("0123456789abcdef", substr(h, i, 1)) - 1; v = v * 16 + c }
      return v }
    END { print total + 0 }'
}
flash() { sections "$1" .vector_table .text .rodata .data; }

# Build the `features` firmware with these cargo features; keep its image as $out/$name.
build() {
  local name=$1 features=$2
  cargo build --release --quiet --features "$features" --bin features
  cp target/thumbv7m-none-eabi/release/features "$out/$name"
}

all=fp-params,fp-json,fp-assets,fp-auth,fp-form,fp-cookie,fp-multipart,fp-cors
cargo build --release --quiet --bin uart
cp target/thumbv7m-none-eabi/release/uart "$out/uart"
build bare features
for f in ${all//,/ }; do build "$f" "$f"; done
build all "$all"

# 12345 -> 12,345
commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
bare=$(flash "$out/bare")
rx=$(sed -n 's/^const RX: usize = \([0-9_]*\);.*/\1/p' src/bin/features.rs | tr -d _)
webui=$(find ../webui -type f ! -name '.*' -exec cat {} + | wc -c)
row() { # name, what it adds
  local size
  size=$(flash "$out/$1")
  echo "| $2 | $(commas "$size") B | +$(commas $((size - bare))) B |"
}
echo "| \`features\` firmware with | flash (text+rodata+data) | over the bare build |"
echo "|---|---|---|"
echo "| nothing (the \`uart\` firmware: \`/\`, \`/echo\`, \`/stats\`, 404) | $(commas "$bare") B | |"
row fp-params "\`fp-params\`: \`GET /led/{id:u8}\` (feature \`params\`: a parameter pattern, the router's precedence pass, \`req.param::<u8>\`)"
row fp-json "\`fp-json\`: \`PUT /api/led\` (\`req.json\` of \`{\"on\":true}\`, \`res.json\` of a struct, the JSON error answers; serde-json-core)"
row fp-assets "\`fp-assets\`: \`/ui/\` and \`/static/*\`: \`examples/webui\` (3 files of $(commas "$webui") B and their gzip copies; ETag, 304, ranges, \`Accept-Encoding\` q-values)"
row fp-auth "\`fp-auth\`: \`GET /admin\` (\`BasicAuth::check\` / \`challenge\`: base64, constant-time comparison, 401)"
row fp-form "\`fp-form\`: \`POST /config\` (\`Form\`: two fields decoded and checked, 303 redirect, 422 naming the field)"
row fp-cookie "\`fp-cookie\`: \`GET /session\` (\`cookie\` read, \`SetCookie\` with \`Path\`, \`Max-Age\`, \`HttpOnly\`, \`SameSite\`)"
row fp-multipart "\`fp-multipart\`: \`POST /fw\` (\`Multipart\` over the buffered body: \`serve_buffered\` does not stream, so the request, head and body, must fit the $(commas "$rx") B receive buffer, 413 beyond; delimiters and part heads parsed and checked, the \`firmware\` part's length and CRC-32 answered as JSON, other parts skipped, 422 / 415 / 400 / 431 answers; the CRC is a bitwise one in the firmware, no table)"
row fp-cors "\`fp-cors\`: the router behind \`Cors\` (feature \`layers\`: preflight \`OPTIONS\` answered 204 with \`Access-Control-Allow-Origin\`, \`-Allow-Methods\`, \`-Allow-Headers\`, \`-Max-Age\`; \`Access-Control-Allow-Origin\` and \`Vary: Origin\` on every answer to an allowed origin, 404 and 405 included)"
count=$(echo ${all//,/ } | wc -w)
words=(none one two three four five six seven eight nine ten eleven twelve)
row all "all ${words[$count]:-$count}"

uart=$(flash "$out/uart")
if [ "$uart" -ne "$bare" ]; then
  echo "the bare \`features\` firmware ($bare B) is not the \`uart\` firmware ($uart B)" >&2
  exit 1
fi
