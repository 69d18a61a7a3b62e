#!/bin/bash
# A refused identity on the status page: its row links a drafted charger
# file, GET /draft.conf?id=... serves that file, and the file put into the
# chargers directory is accepted by --check-config and then by the daemon.
source "$TEST_SRC/lib.sh"

start_bus
write_config
write_charger CP1
start_gateway

r=$(ocpp_ws upgrade --path "/ocpp/NEW%20BOX-7" | head -n 1)
[ "$r" = "HTTP 404" ] || fail "unknown identity: $r (want HTTP 404)"

/usr/bin/python3 - "$PORT" "$T/draft.conf" <<'PY' || fail "the drafted file is not served"
import sys, urllib.request, urllib.error
port, out = sys.argv[1], sys.argv[2]
page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
link = 'href="/draft.conf?id=NEW%20BOX-7">charger file</a>'
assert link in page, page[page.find('id="refused"'):][:800]
r = urllib.request.urlopen(f"http://127.0.0.1:{port}/draft.conf?id=NEW%20BOX-7", timeout=5)
assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain"), r.headers
assert 'filename="NEW_BOX-7.conf"' in r.headers["Content-Disposition"], r.headers
body = r.read().decode()
assert "\nid = NEW BOX-7" in body and "\n;status = " in body, body
open(out, "w").write(body)
for bad in ("", "?id=", "?id=a%2Fb", "?id=%00"):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/draft.conf{bad}", timeout=5)
        raise SystemExit(f"{bad!r} was answered 200")
    except urllib.error.HTTPError as e:
        assert e.code == 400, (bad, e.code)
PY

cp "$T/draft.conf" "$T/chargers.d/new.conf"
"$OCPPKNXD" -c "$T/ocppknxd.conf" --check-config >"$T/check.out" 2>&1 \
  || { cat "$T/check.out" >&2; fail "--check-config refuses the drafted file"; }
kill -HUP "$GW_PID"
expect_log 'NEW BOX-7|2 chargers'
r=$(ocpp_ws upgrade --path "/ocpp/NEW%20BOX-7" | head -n 1)
[ "$r" = "HTTP 101" ] || fail "drafted charger after SIGHUP: $r (want HTTP 101)"
note "status_draft passed"
