# Sourced by the interop tests: install_ocpp_rpc puts ocpp-rpc at the
# version pinned in package.json into $NPM_DIR once and reuses it; it exits
# 77 (skip) without node/npm or when the registry cannot be reached.
# Needs INTEROP_SRC and NPM_DIR.

skip() { echo "SKIP: $*"; exit 77; }

command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"

PINNED=$(node -p 'require(process.argv[1]).dependencies["ocpp-rpc"]' \
  "$INTEROP_SRC/package.json")

installed_version() {
  node -p 'require(process.argv[1]).version' \
    "$NPM_DIR/node_modules/ocpp-rpc/package.json" 2>/dev/null || true
}

# ocpp-rpc at the pinned version in $NPM_DIR, installed on the first run and
# reused after; the lock keeps parallel runs from installing at once.
install_ocpp_rpc() {
  mkdir -p "$NPM_DIR" || skip "cannot create $NPM_DIR"
  exec {lock_fd}>"$NPM_DIR/.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 300 "$lock_fd" || skip "could not lock $NPM_DIR"
  fi
  if [ "$(installed_version)" != "$PINNED" ]; then
    cp "$INTEROP_SRC/package.json" "$NPM_DIR/package.json"
    echo "# installing ocpp-rpc $PINNED into $NPM_DIR"
    timeout 240 npm install --prefix "$NPM_DIR" --no-audit --no-fund \
      --loglevel=error >"$NPM_DIR/install.log" 2>&1 || {
      tail -n 20 "$NPM_DIR/install.log"
      skip "npm could not install ocpp-rpc $PINNED (see $NPM_DIR/install.log)"
    }
  fi
  [ "$(installed_version)" = "$PINNED" ] ||
    skip "ocpp-rpc $PINNED not found in $NPM_DIR after npm install"
  exec {lock_fd}>&-
}
