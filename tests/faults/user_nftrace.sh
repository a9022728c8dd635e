#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A user's own `meta nftrace set 1` rule (issue 11 item 1): its packets are
# not ours and must not become our timelines, count toward --count or the
# capture statistics.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init fusr
lab_exec_router nft -f - <<'NFT' || lab_fail "cannot add the user's trace rule"
table inet usertrace {
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		udp dport 9997 meta nftrace set 1
	}
}
NFT
lab_exec_router nft add rule inet filter input udp dport '{ 9997, 9999 }' drop
lab_daemon_start --match "udp dport 9999" --output json --rate none --stats-interval 0 \
	--count 3 --timeout 6
lab_daemon_ready
sleep 0.5
lab_exec_client "$UDPBURST" "$LAB_WAN4" 9997 5 >/dev/null
sleep 0.5
lab_exec_client "$UDPBURST" "$LAB_WAN4" 9999 3 >/dev/null
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "only our three 9999 packets, none of the user's 9997" \
	'length == 3 and all(.packet.dport == 9999)'
lab_expect_stats "3 selected, 3 emitted, none lost" '.selected == 3 and .emitted == 3 and .lost == 0'
echo "PASS"
