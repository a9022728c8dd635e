#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A 20,000-rule ruleset changing every 50 ms while packets are traced
# (issue 11): the daemon must not spend its time re-listing the ruleset
# before every timeline (it took 17.8 s of CPU). Re-listing on a change is
# bounded to a tenth of the time; rule texts stay right.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
CHURN_PID=
LAB_TRAP_EXTRA='[ -n "$CHURN_PID" ] && kill "$CHURN_PID" 2>/dev/null'
lab_init fch
lab_tmp || exit 1

# 20,000 rules in a chain no packet enters, loaded in one batch
{
	echo "add table inet big"
	echo "add chain inet big unused"
	for i in $(seq 20000); do
		echo "add rule inet big unused ip saddr 192.0.2.$((i % 250 + 1)) udp dport $((i % 60000 + 1024)) counter"
	done
} >"$LAB_TMP/big.nft"
lab_exec_router nft -f "$LAB_TMP/big.nft" || lab_fail "could not load 20,000 rules"
lab_exec_router nft insert rule inet filter forward udp dport 9999 accept

lab_daemon_start --match "udp dport 9999" --output json --rate none \
	--stats-interval 0 --timeout 40
lab_daemon_ready
pid=$(lab_daemon_pid) || lab_fail "no daemon pid"
# a rule added and deleted every 50 ms
(
	while :; do
		ip netns exec "$LAB_ROUTER" nft add rule inet big unused meta mark 0x42 counter
		ip netns exec "$LAB_ROUTER" nft flush chain inet filter input
		sleep 0.05
	done
) >/dev/null 2>&1 &
CHURN_PID=$!
start=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
for _ in $(seq 60); do
	lab_exec_client "$UDPBURST" "$LAB_SERVER4" 9999 5 >/dev/null 2>&1
	sleep 0.1
done
end=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null)
[ -n "$end" ] || lab_fail "the daemon was gone before the churn ended"
kill "$CHURN_PID" 2>/dev/null
wait "$CHURN_PID" 2>/dev/null
CHURN_PID=
kill -INT "$pid"
lab_daemon_wait
lab_expect_rc 0
ticks=$((end - start))
hz=$(getconf CLK_TCK)
echo "daemon CPU over about 6 s of churn: $ticks ticks of 1/$hz s"
# 6 s of wall time: re-listing bounded to a tenth, plus the packets
[ "$ticks" -le $((hz * 3)) ] || lab_fail "the daemon used $ticks/$hz s of CPU in 6 s of churn"
echo "ok: re-listing stays bounded ($ticks/$hz s of CPU)"
lab_expect_json "the forward rule is named in every timeline" '
	length >= 250 and all(.events | any(.rule == "udp dport 9999 accept"))'
echo "PASS"
