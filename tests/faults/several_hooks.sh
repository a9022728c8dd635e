#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Several hooks (issue 11 item 5): 20 forwarded packets traced from
# prerouting, forward and postrouting pass all three trace chains. The
# stats must count 20 packets selected and none lost (it said 60 and 40).
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init fhk
# forwarded UDP to the server, accepted
lab_exec_router nft insert rule inet filter forward udp dport 9999 accept
lab_daemon_start --match "udp dport 9999" --hooks prerouting,forward,postrouting \
	--output json --rate none --stats-interval 0 --timeout 5
lab_daemon_ready
sleep 0.5
lab_exec_client "$UDPBURST" "$LAB_SERVER4" 9999 20 >/dev/null
lab_daemon_wait
lab_expect_rc 0
lab_expect_json "20 timelines, one per packet" 'length == 20'
lab_expect_stats "20 selected, none lost" '.selected == 20 and .lost == 0 and .emitted == 20'
echo "PASS"
