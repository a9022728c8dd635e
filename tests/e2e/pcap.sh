#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --pcap FILE: a dropped SYN (IPv4 and IPv6) and, after lab_fix, an
# accepted one, written as pcapng next to the text output. tshark must
# read every packet's headers (addresses, ports, flags) without an error,
# and each packet's comment must be its timeline's verdict line, word for
# word as the text output prints it.
set -u
# shellcheck source=../lib/lab.sh
. "$(dirname "$0")/../lib/lab.sh"
lab_init pcap tshark
lab_tmp || exit 1
pcap=$LAB_TMP/trace.pcapng
# tshark warns when run as root; its own messages are not what is tested
tshark() { command tshark "$@" 2>>"$LAB_TMP/tshark.err"; }

lab_daemon_start --match "tcp dport 1222 tcp flags syn" --rate none \
	--count 3 --timeout 20 --pcap "$pcap"
lab_daemon_ready
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_syn "$LAB_WAN6" "$LAB_PORT"
lab_wait_lines 2 5
lab_fix
lab_syn "$LAB_WAN4" "$LAB_PORT"
lab_daemon_wait
lab_expect_rc 0
[ -s "$pcap" ] || lab_fail "--pcap wrote no file"
echo "pcap: $(stat -c %s "$pcap") bytes for 3 packets"

# the whole file, every header dissected
tshark -r "$pcap" >"$LAB_TMP/summary" || lab_fail "tshark cannot read the file: $(cat "$LAB_TMP/tshark.err")"
cat "$LAB_TMP/summary"
[ "$(wc -l <"$LAB_TMP/summary")" -eq 3 ] || lab_fail "tshark shows $(wc -l <"$LAB_TMP/summary") packets, not 3"
grep -qiE 'malformed|exception' "$LAB_TMP/summary" && lab_fail "tshark found malformed packets"
tshark -r "$pcap" -V | grep -qiE 'malformed|expert info \(error' &&
	lab_fail "tshark's full dissection has errors"
echo "ok: tshark reads 3 packets, no malformed header"

fields=(-T fields -E 'separator=,' -e frame.interface_name -e eth.type -e ip.src -e ip.dst
	-e ipv6.src -e ipv6.dst -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack)
tshark -r "$pcap" "${fields[@]}" >"$LAB_TMP/fields"
cat "$LAB_TMP/fields"
want4="wan0,0x0800,$LAB_CLIENT4,$LAB_WAN4,,,1222,1,0"
want6="wan0,0x86dd,,,$LAB_CLIENT6,$LAB_WAN6,1222,1,0"
for n in 1 3; do
	sed -n "${n}p" "$LAB_TMP/fields" | grep -qixF -e "$want4" -e "${want4%,1,0},True,False" ||
		lab_fail "packet $n: headers are not '$want4'"
done
sed -n 2p "$LAB_TMP/fields" | grep -qixF -e "$want6" -e "${want6%,1,0},True,False" ||
	lab_fail "packet 2: headers are not '$want6'"
echo "ok: interface wan0, Ethernet, addresses, port 1222 and the SYN flag as sent"

# the comments: the text output's verdict lines, in order
sed -n 's/^  verdict //p' "$LAB_OUT" >"$LAB_TMP/verdicts"
[ "$(wc -l <"$LAB_TMP/verdicts")" -eq 3 ] || lab_fail "the text output has not 3 verdict lines"
tshark -r "$pcap" -T fields -e frame.comment >"$LAB_TMP/comments"
cat "$LAB_TMP/comments"
n=0
while IFS= read -r verdict; do
	n=$((n + 1))
	sed -n "${n}p" "$LAB_TMP/comments" | grep -qF -- "$verdict" ||
		lab_fail "packet $n's comment lacks its verdict line '$verdict'"
done <"$LAB_TMP/verdicts"
# shellcheck disable=SC2016 # the backquotes are the rule text's, as printed
head -2 "$LAB_TMP/verdicts" | grep -c '^drop by rule `drop` (handle [0-9]*) in inet filter allowed_dnats' |
	grep -qx 2 || lab_fail "the first two verdicts are not the drop in allowed_dnats"
sed -n 3p "$LAB_TMP/verdicts" | grep -q '^accept' || lab_fail "the third verdict is not an accept"
grep -c 'nattraced trace [0-9a-f]\{8\}' "$LAB_TMP/comments" | grep -qx 3 ||
	lab_fail "not every packet names its trace id"
echo "ok: each packet's comment is its verdict line"

# the trace's time, not the file's
now=$(date +%s)
tshark -r "$pcap" -T fields -e frame.time_epoch | while read -r t; do
	t=${t%%.*}
	[ $((now - t)) -ge 0 ] && [ $((now - t)) -lt 60 ] || { echo "time $t, now $now"; exit 1; }
done || lab_fail "packet times are not the trace's"
echo "ok: packet times within the last minute"

# A file that cannot be created: said, and a runtime error before tracing.
lab_run --match "tcp dport 1222" --count 1 --timeout 2 --pcap /nonexistent/dir/x.pcapng
lab_expect_rc 1
grep -q -- '--pcap /nonexistent/dir/x.pcapng: cannot create it' "$LAB_ERR" ||
	lab_fail "no message for a --pcap file that cannot be created"
echo "ok: an unwritable --pcap is a runtime error, said"
echo "PASS"
