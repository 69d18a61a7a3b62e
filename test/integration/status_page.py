#!/usr/bin/python3
"""The status page in a real browser (headless Chromium, cdp.py): the
charger card during a session, the live update to Available when it stops
(server-sent events, no reload), no sideways scrolling at 390 px, a bar
of this month in the chart, hostile vendor text shown as text, tags
masked without a password.

usage: status_page.py PORT SIM_FIFO SCREENSHOT_PNG
The simulator reading SIM_FIFO runs a session on connector 1 of CP1 (tag
TAG2, 16 A); this script stops it through the fifo."""
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402
from page_checks import check, sim_command  # noqa: E402

port, fifo, png = sys.argv[1], sys.argv[2], sys.argv[3]
base = f"http://127.0.0.1:{port}"


def sim(cmd):
    sim_command(fifo, cmd)


b = cdp.Browser(width=390, height=844)
try:
    b.navigate(base + "/")
    card = "document.querySelector('[data-charger=\"CP1\"]')"
    conn = card + ".querySelector('[data-connector=\"1\"]')"
    status = conn + ".querySelector('[data-status]').dataset.status"
    field = lambda name: (conn + f".querySelector('[data-field=\"{name}\"]')"
                          ".textContent")
    b.wait_for(card + " !== null")
    check(b.eval(status) == "Charging", f"status is {b.eval(status)}")
    check(b.eval(field("current")) == "16.0 A",
          f"current shows {b.eval(field('current'))!r}")
    check(b.eval(card + ".dataset.online") == "yes", "CP1 not online")

    # the vendor's markup is text, not elements
    meta = b.eval(card + ".querySelector('.meta:nth-of-type(2)').textContent")
    check("<i>ACME</i>" in meta, f"vendor text is {meta!r}")
    check(b.eval(card + ".querySelector('.meta i')") is None,
          "the vendor's <i> became an element")

    # no password: tags are masked, on the page and in its source
    check(b.eval(field("tag")) == "****", f"tag shows {b.eval(field('tag'))!r}")
    html = b.eval("document.documentElement.outerHTML")
    check("TAG2" not in html and "TAG1" not in html, "a tag is on the page")

    # this month has a bar with the first session's 4000 Wh
    month = time.strftime("%Y-%m", time.gmtime())
    bars = b.eval(f"""[].map.call(document.querySelectorAll(
        '#chart-chargers rect.bar[data-month="{month}"]'),
        function(r){{return [r.dataset.series, +r.dataset.wh,
                             +r.getAttribute('height')]}})""")
    check(bars and bars[0][0] == "CP1" and bars[0][1] >= 4000 and
          bars[0][2] > 0, f"chart bars of {month}: {bars}")

    # the offline charger and the refused identity have their places
    check(b.eval("document.querySelector('[data-charger=\"CP2\"]')"
                 ".dataset.online") == "no", "CP2 not shown offline")
    refused = b.eval("document.querySelector('#refused').textContent")
    check("CP-UNKNOWN" in refused and "unknown identity" in refused,
          f"refused section: {refused!r}")

    # 390 px wide, every KNX table open too: nothing sticks out sideways
    width = b.eval("document.documentElement.scrollWidth")
    check(width <= 390, f"page is {width} px wide at 390 px")
    b.screenshot(png)
    b.eval("[].forEach.call(document.querySelectorAll('details'),"
           "function(d){d.open=true})")
    width = b.eval("document.documentElement.scrollWidth")
    check(width <= 390, f"page is {width} px wide at 390 px, tables open")
    check(b.eval("document.querySelectorAll('table.objects tr').length") > 5,
          "the KNX objects table is missing")

    # the session stops: the page follows without a reload
    b.eval("window.__same_document = 42")
    updates = b.eval("+document.body.dataset.updates || 0")
    sim("stop 1 7000 Local")
    sim("unplug 1")
    b.wait_for(status + " === 'Available'", timeout=20)
    check(b.eval("window.__same_document") == 42, "the page was reloaded")
    check(b.eval("+document.body.dataset.updates") > updates,
          "no update event arrived")
    check(b.eval(field("current")) in ("-", "0.0 A"),
          f"current after the stop {b.eval(field('current'))!r}")
    # the KNX tables opened before are still open after the update
    check(b.eval("document.querySelectorAll('details[open]').length") > 0,
          "open KNX tables closed by the update")
    rows = b.eval("document.querySelectorAll('#sessions tr').length")
    check(rows >= 3, f"last sessions table has {rows} rows")
finally:
    b.close()

# no password: the JSON and the CSV download mask the tags too
st = urllib.request.urlopen(base + "/status", timeout=5).read().decode()
check("TAG1" not in st and "TAG2" not in st, "a tag in /status")
check(json.loads(st)["tags_visible"] is False, "tags_visible")
csv = urllib.request.urlopen(base + "/sessions.csv", timeout=5).read().decode()
rows = csv.splitlines()
check(len(rows) == 3 and all(r.split(",")[3] == "****" for r in rows[1:]),
      f"CSV without password: {rows}")
print("page ok; screenshot", png)
