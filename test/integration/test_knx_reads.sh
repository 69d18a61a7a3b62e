#!/bin/bash
# GroupValue_Read of every state object is answered with the value last
# sent; an object whose value was never known, a command object and an
# unconfigured address get no answer.
source "$TEST_SRC/lib.sh"

export TZ=UTC
start_bus
write_config
write_charger CP1
start_gateway
start_monitor

# no_answer GA...: reads in parallel, none may be answered within 1.5 s
no_answer() {
  local ga pids=() out
  for ga in "$@"; do
    knx_read "$ga" 1.5 >"$T/read-${ga//\//_}" &
    pids+=($!)
  done
  wait "${pids[@]}"
  for ga in "$@"; do
    out=$(cat "$T/read-${ga//\//_}")
    [ -z "$out" ] || fail "read of $ga answered with '$out'"
  done
}

# answers GA EXPECTED: a read of GA returns EXPECTED (monitor notation),
# which is also the value last written to GA
answers() {
  local got last
  got=$(knx_read "$1")
  [ "$got" = "$2" ] || fail "read of $1: got '$got', want '$2'"
  last=$(bus_last "$1")
  [ "$last" = "$2" ] || fail "read of $1 answered '$got' but the last write was '$last'"
}

# before any charger: nothing is known, nothing is answered
no_answer 9/7/52 9/7/0 9/7/1

printf 'plug 1\nstart 1 TAG-1 1500000\nmeter 1 energy=1502000 current=16 power=11040\n' >"$T/a.sim"
start_sim a CP1 "$T/a.sim"
expect_bus " to 9/7/45: $(knx_dpt f14 11040)$"
knx_write 9/7/42 $(knx_dpt f14 13)
expect_bus " to 9/7/41: $(knx_dpt f14 13)$"

ts=$(ocpp_get a sent StartTransaction 'p["timestamp"]')
answers 9/7/0 "02 "
answers 9/7/100 "00 "
answers 9/7/1 "01"
answers 9/7/4 "01"
answers 9/7/11 "$(knx_dpt i13 2000)"
answers 9/7/20 "$(knx_dpt time10 "$ts")"
answers 9/7/40 "$(knx_dpt f14 16)"
answers 9/7/41 "$(knx_dpt f14 13)"
answers 9/7/45 "$(knx_dpt f14 11040)"
answers 9/7/46 "$(knx_dpt i13 1502)"
answers 9/7/50 "$(knx_dpt text16 TAG-1)"
answers 9/7/51 "01"
answers 9/7/52 "01"

# knxtool as the panel: its read prints the same notation
got=$(timeout 5 knxtool read "$KNX_URL" 9/7/0) || fail "knxtool read of 9/7/0 timed out"
[ "$got" = "02 " ] || fail "knxtool read of 9/7/0: '$got'"
got=$(timeout 5 knxtool read "$KNX_URL" 9/7/52) || fail "knxtool read of 9/7/52 timed out"
[ "$got" = "01" ] || fail "knxtool read of 9/7/52: '$got'"

# never known (no transaction ended, fast charging never set), a command
# object, an address of no object
no_answer 9/7/10 9/7/30 9/7/43 9/7/2 9/7/42 9/7/200

# the answers are GroupValue_Response telegrams from the gateway
gw_src=$(grep -E ' to 9/7/52: ' "$BUS_LOG" | head -n 1 | sed -E 's/^.* from ([0-9.]+) to.*$/\1/')
[ "$(grep -c "^Response from $gw_src to 9/7/" "$BUS_LOG")" -ge 15 ] ||
  fail "fewer responses from the gateway than reads answered"

# after the stop: the new values are what a read returns
sim_cmd a "stop 1 1504000 Local"
expect_bus " to 9/7/10: $(knx_dpt i13 4000)$"
ts=$(ocpp_get a sent StopTransaction 'p["timestamp"]')
answers 9/7/10 "$(knx_dpt i13 4000)"
answers 9/7/30 "$(knx_dpt time10 "$ts")"
answers 9/7/1 "00"
answers 9/7/40 "00 00 00 00 "
answers 9/7/0 "05 "

# offline: online reads 0
sim_cmd a "disconnect"
expect_bus " to 9/7/52: 00$"
answers 9/7/52 "00"
note "knx_reads passed"
