#!/usr/bin/env bash
# Development setup for ocppknx on Debian 12.
#
#   packaging/dev-setup.sh run    install what is missing, build, and run the
#                                 gateway on the example config with a local
#                                 knxd test bus and a simulated charger
#   packaging/dev-setup.sh test   install what is missing, build with
#                                 AddressSanitizer/UBSan, run every test
#   packaging/dev-setup.sh deps   only install the build and test packages
#   packaging/dev-setup.sh build  only build (into ./build)
#
# Packages come from Debian's archive with apt-get (as root, or through
# sudo). Environment: DEMO_PORT (default 8016), DEMO_SECONDS (stop the demo
# after that many seconds; default: run until Ctrl-C), DEMO_FRAMES=1 (also
# show the simulated charger's OCPP frames).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PACKAGES=(
  gcc libc6-dev pkg-config meson ninja-build
  libuv1-dev libwslay-dev libwolfssl-dev libjansson-dev libyajl-dev libinih-dev
  libsqlite3-dev libexpat1-dev libcriterion-dev
  knxd knxd-tools knxd-dev
  python3 python3-jsonschema openssl procps ca-certificates
  # the package test: dpkg-buildpackage wants build-essential and every
  # Build-Depends of packaging/debian/control (systemd for systemd.pc)
  build-essential dpkg-dev debhelper lintian fakeroot systemd
  # the status page test: headless Chromium
  chromium
)

say() { printf '==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "need root to run: $*" >&2
    exit 1
  fi
}

install_deps() {
  local missing=() p
  # The interop tests run an ocpp-rpc charger on Node.js. A machine that has
  # node and npm from elsewhere keeps them: Debian's npm conflicts with other
  # builds of nodejs.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
  fi
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "all build and test packages are installed"
    return
  fi
  say "installing: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # knxd's package tries to start its service; without systemd (containers,
  # chroots) that start is refused, which is fine: tests run their own knxd.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
}

# build DIR [meson options...]
build() {
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$SRC" "$@"
  fi
  ninja -C "$dir"
}

run_tests() {
  local dir=$SRC/build-test log rc=0
  build "$dir" -Db_sanitize=address,undefined
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
  log=$dir/meson-logs/testlog.json
  if [ -f "$log" ]; then
    /usr/bin/python3 - "$log" <<'PY'
import json, sys
ok = fail = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif r == "SKIP":
        skip += 1
    else:
        fail += 1
print(f"tests: {ok} passed, {fail} failed, {skip} skipped")
PY
  fi
  return "$rc"
}

# ---- the demo ---------------------------------------------------------------

demo_config() {
  local demo=$1 port=$2
  mkdir -p "$demo/store" "$demo/chargers.d"
  cp "$SRC/config/chargers.d/"*.conf "$demo/chargers.d/"
  # the example config, pointed at the demo's bus, store and port, logging
  # the gateway's events (info level)
  awk -v port="$port" -v sock="$demo/knx.sock" -v store="$demo/store" '
    /^\[/ { section = $0 }
    section == "[ocpp]" && /^listen *=/ { print "listen = 127.0.0.1:" port; next }
    section == "[knx]" && /^url *=/ { print "url = local:" sock; next }
    section == "[store]" && /^dir *=/ { print "dir = " store; next }
    section == "[log]" && /^level *=/ { print "level = info"; next }
    { print }
  ' "$SRC/config/ocppknxd.conf" >"$demo/ocppknxd.conf"
}

DEMO_PIDS=()
DEMO_DIR=

stop_demo() {
  # a second Ctrl-C must not cut the cleanup short, and processes that are
  # already gone are no error
  trap '' INT TERM
  # newest first: the charger and the gateway go before the bus they use,
  # so the gateway does not log a lost knxd link on the way out
  local i
  for ((i = ${#DEMO_PIDS[@]} - 1; i >= 0; i--)); do
    kill "${DEMO_PIDS[i]}" 2>/dev/null || true
    wait "${DEMO_PIDS[i]}" 2>/dev/null || true
  done
  if [ -n "$DEMO_DIR" ]; then rm -rf "$DEMO_DIR"; fi
  return 0
}

run_demo() {
  local bin=$SRC/build port=${DEMO_PORT:-8016} demo
  build "$bin"
  demo=$(mktemp -d "${TMPDIR:-/tmp}/ocppknx-demo.XXXXXX")
  DEMO_DIR=$demo
  trap stop_demo EXIT
  trap 'exit 0' INT TERM
  demo_config "$demo" "$port"

  say "status page: http://127.0.0.1:$port/  (JSON: http://127.0.0.1:$port/status)"
  say "knxd test bus on $demo/knx.sock"
  knxd -e 0.0.1 -E 0.0.2:30 -u "$demo/knx.sock" -b dummy: >"$demo/knxd.log" 2>&1 &
  DEMO_PIDS+=($!)
  local i rc
  for i in $(seq 1 100); do
    rc=0; timeout 0.3 knxtool groupsocketlisten "local:$demo/knx.sock" >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 124 ] && break
    sleep 0.05
  done
  # every telegram decoded: group address, object, value and unit
  /usr/bin/python3 "$SRC/packaging/demo_bus.py" "local:$demo/knx.sock" \
    "$demo/chargers.d" "$SRC" > >(sed -u 's/^/bus      | /') 2>&1 &
  DEMO_PIDS+=($!)

  say "ocppknxd on ws://127.0.0.1:$port (config $demo/ocppknxd.conf)"
  "$bin/gateway/ocppknxd" -c "$demo/ocppknxd.conf" > >(sed -u 's/^/gateway  | /') 2>&1 &
  DEMO_PIDS+=($!)
  sleep 1

  local id
  id=$(awk -F= '/^id *=/ { gsub(/[ \t]|;.*/, "", $2); print $2; exit }' \
        "$demo/chargers.d/"*.conf)
  say "simulated charger $id: a 60 s session at 16 A, again and again"
  local frames=(--quiet)
  [ "${DEMO_FRAMES:-0}" = 1 ] && frames=()
  "$bin/test/sim/ocpp-charger-sim" --url "ws://127.0.0.1:$port/ocpp/$id" \
    --script "$SRC/test/sim/scenarios/demo.sim" "${frames[@]}" \
    > >(sed -u 's/^/charger  | /') 2>&1 &
  DEMO_PIDS+=($!)

  cat <<EOF

  KNX telegrams appear decoded as "bus |" lines, the gateway's events as
  "gateway |" lines (DEMO_FRAMES=1 adds the charger's OCPP frames as
  "charger |" lines). Play KNX switch from another terminal:
    knxtool groupswrite local:$demo/knx.sock 9/7/2 0              # stop charging
    knxtool groupswrite local:$demo/knx.sock 9/7/2 1              # start charging
    knxtool groupwrite  local:$demo/knx.sock 9/7/42 41 20 00 00   # max current 10 A
    timeout 5 knxtool read local:$demo/knx.sock 9/7/0             # read the status
  Status page: http://127.0.0.1:$port/  (JSON: /status)
  Ctrl-C stops everything.

EOF
  if [ -n "${DEMO_SECONDS:-}" ]; then
    sleep "$DEMO_SECONDS"
  else
    wait
  fi
}

case "${1:-}" in
  deps) install_deps ;;
  build) install_deps; build "$SRC/build" ;;
  run) install_deps; run_demo ;;
  test) install_deps; run_tests ;;
  *)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
