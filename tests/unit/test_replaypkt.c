/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A packet to replay: rebuilt from real --output json lines (fixtures in
 * tests/fixtures/replay, captured by its capture.sh), built from --check
 * lines, and the check report's text, JSON and JUnit. The expected bytes
 * come from tests/fixtures/replay/expected.py (checksums computed there,
 * independently), and from the kernel itself: a ping's ICMP and ICMPv6
 * checksums, which the kernel computed in software.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "checkreport.h"
#include "explain_text.h"
#include "format.h"
#include "helpers.h"
#include "replaypkt.h"

#define REPLAY_DIR FIXTURES "/replay/"

static char *read_file(const char *name)
{
	char path[512], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), REPLAY_DIR "%s", name);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* expected.txt's hex for name, as bytes: the count */
static size_t expected_bytes(const char *name, uint8_t *out, size_t max)
{
	char *text = read_file("expected.txt"), *line, *save = NULL;
	size_t n = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(name);
		const char *hex;

		if (strncmp(line, name, l) != 0 || line[l] != ' ')
			continue;
		hex = line + l + 1;
		for (; hex[0] && hex[1]; hex += 2) {
			unsigned int b;

			assert_true(n < max);
			assert_int_equal(sscanf(hex, "%2x", &b), 1);
			out[n++] = (uint8_t)b;
		}
		free(text);
		return n;
	}
	free(text);
	fail_msg("no %s in expected.txt", name);
	return 0;
}

/*
 * An independent check of the checksums: the ones' complement sum over
 * everything a checksum covers, the checksum included, is 0xffff.
 */
static uint16_t sum_words(uint32_t s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s += i % 2 ? b[i] : (uint32_t)b[i] << 8;
	while (s > 0xffff)
		s = (s >> 16) + (s & 0xffff);
	return (uint16_t)s;
}

static void assert_checksums(const uint8_t *b, size_t len)
{
	uint8_t pseudo[40];
	size_t nhl, tl, pl;
	uint8_t proto;
	uint32_t s;

	if (b[0] >> 4 == 4) {
		nhl = (size_t)(b[0] & 15) * 4;
		proto = b[9];
		assert_int_equal(sum_words(0, b, nhl), 0xffff);
		assert_int_equal(b[2] << 8 | b[3], len);
		tl = len - nhl;
		memcpy(pseudo, b + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = proto;
		pseudo[10] = (uint8_t)(tl >> 8);
		pseudo[11] = (uint8_t)tl;
		pl = proto == IPPROTO_ICMP ? 0 : 12;
	} else {
		nhl = 40;
		proto = b[6];
		tl = len - nhl;
		assert_int_equal(b[4] << 8 | b[5], tl);
		memcpy(pseudo, b + 8, 32);
		memset(pseudo + 32, 0, 8);
		pseudo[34] = (uint8_t)(tl >> 8);
		pseudo[35] = (uint8_t)tl;
		pseudo[39] = proto;
		pl = 40;
	}
	s = sum_words(0, pseudo, pl);
	assert_int_equal(sum_words(s, b + nhl, tl), 0xffff);
	if (proto == IPPROTO_UDP)
		assert_int_equal(b[nhl + 4] << 8 | b[nhl + 5], tl);
}

/* The verifier above agrees with the kernel: its checksums of a ping. */
static void test_verifier_accepts_kernel_checksums(void **state)
{
	/* ping4.json's raw_headers, as the kernel sent them */
	static const char nh4[] = "45000028289f40004001bdcbc6336402c6336401";
	static const char th4[] = "0800382971d900016e61747472616365642d3132";
	uint8_t b[40];

	(void)state;
	for (size_t i = 0; i < 20; i++) {
		unsigned int x;

		sscanf(nh4 + 2 * i, "%2x", &x);
		b[i] = (uint8_t)x;
		sscanf(th4 + 2 * i, "%2x", &x);
		b[20 + i] = (uint8_t)x;
	}
	assert_checksums(b, sizeof(b));
}

static void from_fixture(const char *name, struct replay_packet *pkt)
{
	char file[64], err[REPLAY_ERR_MAX], *line;
	uint8_t want[REPLAY_PKT_MAX];
	size_t n;

	snprintf(file, sizeof(file), "%s.json", name);
	line = read_file(file);
	assert_int_equal(replay_packet_from_json(line, pkt, err, sizeof(err)), 0);
	free(line);
	n = expected_bytes(name, want, sizeof(want));
	assert_int_equal(pkt->len, n);
	assert_memory_equal(pkt->bytes, want, n);
	assert_checksums(pkt->bytes, pkt->len);
}

static void assert_addr(const struct packet_info *p, bool src, const char *want)
{
	char buf[PACKET_ADDRSTRLEN];

	packet_addr_str(p, src, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_json_syn4(void **state)
{
	struct replay_packet pkt;

	(void)state;
	from_fixture("syn4", &pkt);
	assert_string_equal(pkt.id, "b126cec0");
	assert_int_equal(pkt.origin, REPLAY_FORWARDED_OR_INPUT);
	assert_string_equal(pkt.iif, "wan0");
	assert_int_equal(pkt.mark, 0);
	assert_true(pkt.ct_known);
	assert_false(pkt.established);
	assert_int_equal(pkt.info.l3, 4);
	assert_int_equal(pkt.info.l4proto, IPPROTO_TCP);
	assert_addr(&pkt.info, true, "198.51.100.2");
	assert_addr(&pkt.info, false, "198.51.100.1");
	assert_int_equal(pkt.info.dport, 1222);
	assert_int_equal(pkt.info.sport, 0xd20e);
	assert_int_equal(pkt.info.tcp_flags, 0x02);
	assert_int_equal(pkt.info.length, 40);
	/* the recorded SYN had 20 bytes of options, cut by the kernel */
	assert_string_equal(pkt.notes,
			    "TCP options (20 bytes) were not recorded: replayed without them");
	assert_string_equal(pkt.before,
			    "drop by rule `drop` (handle 11) in inet filter allowed_dnats, reached "
			    "from inet filter forward at hook forward via jump allowed_dnats (handle 8)");
}

/*
 * A packet of an established connection (the server's SYN/ACK through
 * the lab's DNAT, recorded live): the entry to recreate comes from the
 * record's mapping; without a mapping, from the packet's tuple turned.
 */
static void test_json_established_reply(void **state)
{
	char err[REPLAY_ERR_MAX], *line = read_file("synack4_est.json");
	struct replay_packet pkt;
	char ep[PACKET_ADDRSTRLEN];
	json_t *root;

	(void)state;
	assert_int_equal(replay_packet_from_json(line, &pkt, err, sizeof(err)), 0);
	assert_true(pkt.established);
	assert_true(pkt.ct.want);
	assert_true(pkt.ct.reply);
	assert_true(pkt.ct.from_mapping);
	packet_ep_str(4, pkt.ct.orig_dst, true, pkt.ct.orig_dport, ep, sizeof(ep));
	assert_string_equal(ep, "198.51.100.1:1222");
	packet_ep_str(4, pkt.ct.reply_src, true, pkt.ct.reply_sport, ep, sizeof(ep));
	assert_string_equal(ep, "203.0.113.10:22");
	assert_int_equal(pkt.ct.orig_sport, pkt.info.dport);

	/* no mapping: the reply's tuple turned, no NAT */
	root = json_loads(line, 0, NULL);
	assert_non_null(root);
	json_object_del(root, "mapping");
	free(line);
	line = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	assert_int_equal(replay_packet_from_json(line, &pkt, err, sizeof(err)), 0);
	assert_true(pkt.ct.want);
	assert_false(pkt.ct.from_mapping);
	assert_int_equal(pkt.ct.orig_sport, pkt.info.dport);
	assert_memory_equal(pkt.ct.orig_dst, pkt.info.saddr, 4);
	assert_memory_equal(pkt.ct.reply_src, pkt.info.saddr, 4);
	assert_int_equal(pkt.ct.reply_sport, 22);
	free(line);

	/* a first packet wants no entry */
	line = read_file("syn4.json");
	assert_int_equal(replay_packet_from_json(line, &pkt, err, sizeof(err)), 0);
	assert_false(pkt.ct.want);
	free(line);
}

static void test_json_syn6(void **state)
{
	struct replay_packet pkt;

	(void)state;
	from_fixture("syn6", &pkt);
	assert_int_equal(pkt.info.l3, 6);
	assert_int_equal(pkt.info.l4proto, IPPROTO_TCP);
	assert_addr(&pkt.info, false, "2001:db8:1::1");
	assert_int_equal(pkt.info.dport, 1222);
	assert_int_equal(pkt.info.length, 60);
	/* the flow label is kept */
	assert_int_equal(pkt.info.flow_label, 0xf5055);
	assert_string_equal(pkt.iif, "wan0");
}

static void test_json_udp4(void **state)
{
	struct replay_packet pkt;

	(void)state;
	from_fixture("udp4", &pkt);
	assert_int_equal(pkt.info.l4proto, IPPROTO_UDP);
	assert_int_equal(pkt.info.dport, 5353);
	/* the whole datagram was recorded: 8 + "hello\n" */
	assert_int_equal(pkt.len, 20 + 14);
	assert_memory_equal(pkt.bytes + 28, "hello\n", 6);
	assert_string_equal(pkt.notes, "");
	assert_non_null(strstr(pkt.before, "accept by policy in inet filter input"));
}

static void test_json_output_is_local(void **state)
{
	struct replay_packet pkt;

	(void)state;
	from_fixture("out4", &pkt);
	assert_int_equal(pkt.origin, REPLAY_LOCAL_OUT);
	assert_string_equal(pkt.iif, "");
	assert_addr(&pkt.info, true, "203.0.113.1");
	assert_int_equal(pkt.info.dport, 22);
}

/*
 * The kernel's own checksums: the ping's message is whole in the record,
 * so the rebuilt packet is byte for byte the one the kernel sent, also
 * when the line's checksums are zeroed first (they are computed, not kept).
 */
static void known_good(const char *name, const char *csum_hex)
{
	char file[64], err[REPLAY_ERR_MAX], *line, *at;
	struct replay_packet pkt, again;
	json_t *root;
	const char *nh, *th;
	uint8_t raw[REPLAY_PKT_MAX];
	size_t n = 0;

	snprintf(file, sizeof(file), "%s.json", name);
	line = read_file(file);
	assert_int_equal(replay_packet_from_json(line, &pkt, err, sizeof(err)), 0);
	root = json_loads(line, 0, NULL);
	assert_non_null(root);
	nh = json_string_value(json_object_get(json_object_get(root, "raw_headers"), "network"));
	th = json_string_value(json_object_get(json_object_get(root, "raw_headers"), "transport"));
	for (const char *h = nh; h[0]; h += 2) {
		unsigned int b;

		sscanf(h, "%2x", &b);
		raw[n++] = (uint8_t)b;
	}
	for (const char *h = th; h[0]; h += 2) {
		unsigned int b;

		sscanf(h, "%2x", &b);
		raw[n++] = (uint8_t)b;
	}
	json_decref(root);
	assert_int_equal(pkt.len, n);
	assert_memory_equal(pkt.bytes, raw, n);
	/* the whole message was recorded: nothing left out */
	assert_string_equal(pkt.notes, "");

	/* the kernel's checksum in the line, zeroed */
	at = strstr(line, csum_hex);
	assert_non_null(at);
	memset(at + 4, '0', 4);
	assert_int_equal(replay_packet_from_json(line, &again, err, sizeof(err)), 0);
	assert_memory_equal(again.bytes, raw, n);
	free(line);
}

static void test_json_icmp_kernel_checksums(void **state)
{
	(void)state;
	known_good("ping4", "0800382971d9");
	known_good("ping6", "8000646271da");
}

static int from_line(const char *line, char *err)
{
	struct replay_packet pkt;

	return replay_packet_from_json(line, &pkt, err, REPLAY_ERR_MAX);
}

#define TRACE_HEAD "{\"type\":\"trace\",\"id\":\"00000001\",\"verdict\":\"drop\","
#define RAW(iif, net, tr)                                                                    \
	TRACE_HEAD "\"raw_headers\":{\"hook\":\"prerouting\",\"family\":\"ip\",\"iif\":" iif \
		   ",\"oif\":null,\"mark\":7,\"link_type\":null,\"link\":null,\"network\":" net \
		   ",\"transport\":" tr "}}"
#define NET4 "\"45000028000040004006000cc6336402c6336401\""
#define TCP4 "\"905204c6f96f944f00000000a002faf054990000\""

static void assert_err(const char *line, int want, const char *msg)
{
	char err[REPLAY_ERR_MAX];

	assert_int_equal(from_line(line, err), want);
	if (msg && !strstr(err, msg))
		fail_msg("error '%s' does not say '%s'", err, msg);
}

static void test_json_errors(void **state)
{
	(void)state;
	assert_err("{\"type\":\"stats\"}", -ENOENT, NULL);
	assert_err(TRACE_HEAD "\"packet\":null}", -EINVAL,
		   "line has no raw_headers (written by nattraced before 2026-12; record it again)");
	assert_err(TRACE_HEAD "\"raw_headers\":null}", -EINVAL, "kept no headers");
	assert_err("{\"type\":", -EINVAL, "not JSON");
	assert_err("{\"type\"\001", -EINVAL, "not JSON: ':' expected near '?'");
	assert_err("[1]", -EINVAL, "not a JSON object");
	assert_err(RAW("\"wan0\"", "\"4500\"", TCP4), -EINVAL, "too short for IPv4 (20)");
	assert_err(RAW("\"wan0\"", "\"450\"", TCP4), -EINVAL, "odd number of hex digits");
	assert_err(RAW("\"wan0\"", "\"45zz0028000040004006000cc6336402c6336401\"", TCP4), -EINVAL,
		   "'z' at 2 is not a hex digit");
	assert_err(RAW("\"wan0\"",
		       "\"45000028000040004006000cc6336402c6336401"
		       "45000028000040004006000cc6336402c6336401"
		       "45000028000040004006000cc6336402c6336401"
		       "45000028000040004006000cc6336402c6336401\"",
		       TCP4),
		   -EINVAL, "more than the 64 a trace event holds");
	assert_err(RAW("\"wan0\"", "\"45\\u001b00028000040004006000cc6336402c6336401\"", TCP4),
		   -EINVAL, "byte 0x1b at 2 is not a hex digit");
	assert_err(RAW("\"wan0\\u001b[2Jxxxxxxxxxxxxxx\"", NET4, TCP4), -EINVAL,
		   "raw_headers.iif: longer than an interface name (15)");
	assert_err(RAW("\"wan0\"", NET4, "\"9052\""), -EINVAL, "too short for the TCP ports");
	assert_err(RAW("\"wan0\"", NET4, "null"), -EINVAL, "transport is missing");
	assert_err(RAW("null", NET4, TCP4), -EINVAL, "no input interface");
	assert_err(TRACE_HEAD "\"raw_headers\":{\"hook\":\"o\\u007ftput\"}}", -EINVAL,
		   "raw_headers.hook is not a hook name");
	/* a fragment (MF) */
	assert_err(RAW("\"wan0\"", "\"45000028000020004006000cc6336402c6336401\"", TCP4), -EINVAL,
		   "fragment");
	/* IPv6 with a hop-by-hop header */
	assert_err(RAW("\"wan0\"",
		       "\"600000000014004020010db800010000000000000000000220010db8000100000000000000000001\"",
		       TCP4),
		   -EINVAL, "extension header 0");
	assert_err(RAW("\"wan0\"", "\"75000028000040004006000cc6336402c6336401\"", TCP4), -EINVAL,
		   "IP version 7");
	/* and the same line with good headers passes, with its mark */
	{
		struct replay_packet pkt;
		char err[REPLAY_ERR_MAX];

		assert_int_equal(replay_packet_from_json(RAW("\"wan0\"", NET4, TCP4), &pkt, err,
							 sizeof(err)),
				 0);
		assert_int_equal(pkt.mark, 7);
		assert_false(pkt.ct_known);
		assert_string_equal(pkt.before, "unknown: the trace ends without a verdict");
		assert_checksums(pkt.bytes, pkt.len);
	}
}

/* A TCP header the kernel cut short: a minimal one from what is known. */
static void test_json_tcp_cut(void **state)
{
	struct replay_packet pkt;
	char err[REPLAY_ERR_MAX];

	(void)state;
	assert_int_equal(replay_packet_from_json(RAW("\"wan0\"", NET4,
						     "\"905204c6f96f944f000000005012\""),
						 &pkt, err, sizeof(err)),
			 0);
	assert_int_equal(pkt.len, 40);
	assert_int_equal(pkt.bytes[20 + 12], 0x50);
	assert_int_equal(pkt.bytes[20 + 13], 0x12);
	/* the window was cut: a plain one */
	assert_int_equal(pkt.bytes[20 + 14] << 8 | pkt.bytes[20 + 15], 64240);
	assert_int_equal(pkt.info.tcp_seq, 0xf96f944f);
	assert_non_null(strstr(pkt.notes, "cut at 14 bytes"));
	/* the IP header said 40 bytes: nothing more was missing */
	assert_null(strstr(pkt.notes, "payload"));
	assert_checksums(pkt.bytes, pkt.len);
}

/* A packet longer than its recorded headers: sent without the rest, and said. */
static void test_json_payload_not_recorded(void **state)
{
	struct replay_packet pkt;
	char err[REPLAY_ERR_MAX];

	(void)state;
	/* 100 bytes: 20 IP, 40 TCP (20 of options), 40 of payload */
	assert_int_equal(replay_packet_from_json(RAW("\"wan0\"",
						     "\"45000064000040004006000cc6336402c6336401\"",
						     TCP4),
						 &pkt, err, sizeof(err)),
			 0);
	assert_int_equal(pkt.len, 40);
	assert_int_equal(pkt.info.length, 40);
	assert_string_equal(pkt.notes,
			    "TCP options (20 bytes) were not recorded: replayed without them; "
			    "40 bytes of payload were not recorded: replayed without them");
	assert_checksums(pkt.bytes, pkt.len);
}

/* ---- a timeline rendered by json.c, read back ---- */

#define OWN "trace_debug"

static const char *fake_hook(void *ctx, uint8_t family, const char *table, const char *chain)
{
	(void)ctx;
	(void)family;
	(void)table;
	return strcmp(chain, "allowed_dnats") == 0 ? NULL : chain;
}

static const char *fake_ifname(void *ctx, uint32_t ifindex)
{
	(void)ctx;
	return ifindex == 2 ? "wan0" : ifindex == 3 ? "lan0" : NULL;
}

static const struct resolver resolver = {
	.hook = fake_hook,
	.ifname = fake_ifname,
};

static char rendered[16384];

static void render(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	static struct explain ex;
	FILE *f = fmemopen(rendered, sizeof(rendered), "w");

	(void)ctx;
	(void)why;
	explain_timeline(tl, &resolver, &ex);
	assert_int_equal(format_json_line(f, tl, &ex), 0);
	fclose(f);
}

static void test_json_renders_raw_headers(void **state)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00 };
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = render,
	};
	struct timeline_table *t;
	struct replay_packet pkt;
	struct trace_event ev;
	struct test_pkt p;
	char err[REPLAY_ERR_MAX];
	json_t *root, *raw;

	(void)state;
	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	test_ipv4_tcp(&p, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	ev = test_with_pkt(test_rule(1, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &p, 2, 0);
	ev.ll = eth;
	ev.ll_len = sizeof(eth);
	ev.iiftype = 1;
	ev.mark = 0x51;
	ev.present |= TRACE_HAS_LL | TRACE_HAS_IIFTYPE | TRACE_HAS_MARK;
	timeline_add(t, &ev, 0);
	ev = test_with_pkt(test_rule(1, "filter", "forward", 5, NFT_JUMP, "allowed_dnats"), &p, 2,
			   3);
	ev.mark = 0x51;
	ev.present |= TRACE_HAS_MARK;
	timeline_add(t, &ev, 0);
	ev = test_rule(1, "filter", "allowed_dnats", 7, NF_DROP, NULL);
	ev.mark = 0x51;
	ev.present |= TRACE_HAS_MARK;
	timeline_add(t, &ev, 0);
	timeline_flush(t);
	t = timeline_table_free(t);

	root = json_loads(rendered, 0, NULL);
	assert_non_null(root);
	raw = json_object_get(root, "raw_headers");
	assert_string_equal(json_string_value(json_object_get(raw, "hook")), "prerouting");
	assert_string_equal(json_string_value(json_object_get(raw, "family")), "ip");
	assert_string_equal(json_string_value(json_object_get(raw, "iif")), "wan0");
	assert_true(json_is_null(json_object_get(raw, "oif")));
	assert_int_equal(json_integer_value(json_object_get(raw, "link_type")), 1);
	assert_string_equal(json_string_value(json_object_get(raw, "link")),
			    "0200000000010200000000020800");
	assert_string_equal(json_string_value(json_object_get(raw, "network")),
			    "4500003c0000000040060000c6336402c6336401");
	assert_string_equal(json_string_value(json_object_get(raw, "transport")),
			    "afb004c60000000000000000a002000000000000");
	json_decref(root);

	/* and --replay reads it back */
	assert_int_equal(replay_packet_from_json(rendered, &pkt, err, sizeof(err)), 0);
	assert_string_equal(pkt.iif, "wan0");
	assert_int_equal(pkt.info.sport, 44976);
	assert_checksums(pkt.bytes, pkt.len);
}

/* No event with headers: raw_headers is null, and --replay says why. */
static void test_json_raw_headers_null(void **state)
{
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = render,
	};
	struct timeline_table *t;
	struct trace_event ev;
	char err[REPLAY_ERR_MAX];
	json_t *root;

	(void)state;
	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	ev = test_rule(1, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL);
	timeline_add(t, &ev, 0);
	ev = test_rule(1, "filter", "forward", 7, NF_DROP, NULL);
	timeline_add(t, &ev, 0);
	timeline_flush(t);
	t = timeline_table_free(t);
	root = json_loads(rendered, 0, NULL);
	assert_non_null(root);
	assert_true(json_is_null(json_object_get(root, "raw_headers")));
	json_decref(root);
	assert_err(rendered, -EINVAL, "kept no headers");
	(void)err;
}

/* ---- --check lines ---- */

static void parse_ok(const char *line, struct expectation *exp)
{
	char err[REPLAY_ERR_MAX];
	int r = expect_parse_line(line, 3, exp, err, sizeof(err));

	if (r != 1)
		fail_msg("'%s': %d, %s", line, r, err);
	assert_checksums(exp->pkt.bytes, exp->pkt.len);
}

static void assert_bytes(const struct expectation *exp, const char *name)
{
	uint8_t want[REPLAY_PKT_MAX];
	size_t n = expected_bytes(name, want, sizeof(want));

	assert_int_equal(exp->pkt.len, n);
	assert_memory_equal(exp->pkt.bytes, want, n);
}

static void test_expect_issue_examples(void **state)
{
	struct expectation e;

	(void)state;
	parse_ok("tcp 198.51.100.2:40000 -> 198.51.100.1:1222 iif wan0 syn: accept", &e);
	assert_int_equal(e.line, 3);
	assert_string_equal(e.text, "tcp 198.51.100.2:40000 -> 198.51.100.1:1222 iif wan0 syn: accept");
	assert_int_equal(e.verdict, EXPECT_ACCEPT);
	assert_false(e.has_handle);
	assert_false(e.by_policy);
	assert_int_equal(e.pkt.origin, REPLAY_FORWARDED_OR_INPUT);
	assert_string_equal(e.pkt.iif, "wan0");
	assert_int_equal(e.pkt.info.tcp_flags, 0x02);
	assert_bytes(&e, "check_tcp_syn");

	parse_ok("tcp 198.51.100.2:40000 -> 198.51.100.1:22 iif wan0 syn: drop by rule handle 11", &e);
	assert_int_equal(e.verdict, EXPECT_DROP);
	assert_true(e.has_handle);
	assert_int_equal(e.handle, 11);
	assert_int_equal(e.pkt.info.dport, 22);

	parse_ok("udp [2001:db8:1::2]:5353 -> [2001:db8:1::1]:53 iif wan0: reject", &e);
	assert_int_equal(e.verdict, EXPECT_REJECT);
	assert_int_equal(e.pkt.info.l3, 6);
	assert_int_equal(e.pkt.info.l4proto, IPPROTO_UDP);
	assert_int_equal(e.pkt.info.sport, 5353);
	assert_bytes(&e, "check_udp6");
}

static void test_expect_more_forms(void **state)
{
	struct expectation e;

	(void)state;
	/* no iif: sent by the host; flags as given */
	parse_ok("  tcp 203.0.113.1:22 -> 198.51.100.2:40000 syn,ack: accept   # the reply", &e);
	assert_string_equal(e.text, "tcp 203.0.113.1:22 -> 198.51.100.2:40000 syn,ack: accept");
	assert_int_equal(e.pkt.origin, REPLAY_LOCAL_OUT);
	assert_string_equal(e.pkt.iif, "");
	assert_int_equal(e.pkt.info.tcp_flags, 0x12);
	assert_bytes(&e, "check_tcp_synack");

	parse_ok("icmp 198.51.100.2 -> 198.51.100.1 iif wan0: drop by policy", &e);
	assert_true(e.by_policy);
	assert_int_equal(e.pkt.info.icmp_type, 8);
	assert_bytes(&e, "check_icmp");

	parse_ok("icmpv6 2001:db8:1::2 -> [2001:db8:1::1] iif wan0 mark 0x51 echo-reply: accept",
		 &e);
	assert_int_equal(e.pkt.mark, 0x51);
	assert_int_equal(e.pkt.info.icmp_type, 129);
	assert_bytes(&e, "check_icmpv6_reply");

	parse_ok("icmp 198.51.100.2 -> 198.51.100.1 destination-unreachable: accept", &e);
	assert_bytes(&e, "check_icmp_unreach");

	parse_ok("tcp 198.51.100.2:1 -> 198.51.100.1:65535 mark 7 iif wan0 rst: drop", &e);
	assert_int_equal(e.pkt.info.tcp_flags, 0x04);
	assert_int_equal(e.pkt.mark, 7);
}

static void test_expect_blank_and_comments(void **state)
{
	struct expectation e = { .line = 99 };
	char err[REPLAY_ERR_MAX];

	(void)state;
	assert_int_equal(expect_parse_line("", 1, &e, err, sizeof(err)), 0);
	assert_int_equal(expect_parse_line("   \t  \r\n", 2, &e, err, sizeof(err)), 0);
	assert_int_equal(expect_parse_line("# tcp 1.2.3.4:1 -> 1.2.3.5:2: accept", 3, &e, err,
					   sizeof(err)),
			 0);
	assert_int_equal(expect_parse_line("   # indented", 4, &e, err, sizeof(err)), 0);
	/* *ret untouched */
	assert_int_equal(e.line, 99);
}

static void test_expect_errors(void **state)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{ "tcp 198.51.100.2:40000 -> 198.51.100.1:22 syn accept",
		  "expected ': VERDICT' (accept, drop or reject)" },
		{ "tcp 198.51.100.2:40000 -> 198.51.100.1:22:", "expected a verdict after ':'" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2 rst:drop", "expected ': VERDICT'" },
		{ "gre 198.51.100.2 -> 198.51.100.1: accept",
		  "unknown protocol 'gre': expected tcp, udp, icmp or icmpv6" },
		{ "tcp 198.51.100.2:40000 => 198.51.100.1:22: accept",
		  "unknown word '=>': expected '->' between SRC and DST" },
		{ "tcp 198.51.100.2:40000 198.51.100.1:22: accept", "expected PROTO SRC -> DST" },
		{ "tcp 198.51.100.2:40000 -> [2001:db8::1]:22: accept",
		  "one address is IPv4, the other IPv6" },
		{ "tcp 198.51.100.2:70000 -> 198.51.100.1:22: accept",
		  "port '70000' is not a number from 1 to 65535" },
		{ "tcp 198.51.100.2:0 -> 198.51.100.1:22: accept",
		  "port '0' is not a number from 1 to 65535" },
		{ "tcp 198.51.100.2:-1 -> 198.51.100.1:22: accept", "port '-1'" },
		{ "tcp 198.51.100.2 -> 198.51.100.1:22: accept",
		  "'198.51.100.2': expected a port (ADDRESS:PORT)" },
		{ "tcp 2001:db8::2 -> [2001:db8::1]:22: accept", "expected a port: write [2001:db8::2]:PORT" },
		{ "udp 198.51.100.300:53 -> 198.51.100.1:53: accept",
		  "'198.51.100.300:53': expected ADDRESS:PORT, [IPV6]:PORT or an address" },
		{ "udp [2001:db8::zz]:53 -> [2001:db8::1]:53: accept", "'2001:db8::zz' is not an IPv6 address" },
		{ "udp [2001:db8::2:53 -> [2001:db8::1]:53: accept", "expected ']'" },
		{ "icmp 198.51.100.2:5 -> 198.51.100.1: accept", "this protocol has no ports" },
		{ "icmp 2001:db8::2 -> 2001:db8::1: accept", "icmp with IPv6 addresses: expected icmpv6" },
		{ "icmpv6 198.51.100.2 -> 198.51.100.1: accept", "icmpv6 with IPv4 addresses: expected icmp" },
		{ "icmp 198.51.100.2 -> 198.51.100.1 echo-requst: accept",
		  "unknown word 'echo-requst': expected iif NAME, mark N or an icmp type" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2 syn,akc: accept",
		  "unknown word 'akc': expected iif NAME, mark N or TCP flags" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2 syn ack: accept",
		  "unknown word 'ack': expected iif, mark or ':'" },
		{ "udp 198.51.100.2:1 -> 198.51.100.1:2 syn: accept",
		  "unknown word 'syn': expected iif NAME, mark N or ':'" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2 iif: accept", "expected an interface name after iif" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2 iif averyveryverylongname: accept",
		  "longer than an interface name" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2 iif a iif b: accept", "iif given twice" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2 mark x: accept",
		  "mark 'x': expected a number from 0 to 0xffffffff" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2 mark 4294967296: accept", "mark '4294967296'" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2 mark 1 mark 2: accept", "mark given twice" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2: pass",
		  "unknown verdict 'pass': expected accept, drop or reject" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2: drop because", "unknown word 'because' after the verdict: expected 'by'" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2: drop by", "expected 'rule handle N' or 'policy' after 'by'" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2: drop by rule 11", "expected 'by rule handle N'" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2: drop by rule handle x", "handle 'x': expected a number" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2: drop by rule handle 11 12", "unknown word '12' after the handle" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2: drop by chain", "unknown word 'chain' after 'by'" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2: drop by policy now", "unknown word 'now' after 'by policy'" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2: reject by policy", "a chain's policy is accept or drop" },
		{ "tcp 198.51.100.2:1 -> 198.51.100.1:2 iif w\033[2J: accept", "control character 0x1b at column 43" },
	};
	struct expectation e;
	char err[REPLAY_ERR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = expect_parse_line(bad[i].line, 1, &e, err, sizeof(err));

		if (r != -EINVAL || !strstr(err, bad[i].msg))
			fail_msg("'%s': %d '%s', expected '%s'", bad[i].line, r, err, bad[i].msg);
	}
}

/* ---- the report ---- */

/* open_memstream()'s, not on the stack: gcc took its address for a local's */
static char *mem_buf;
static size_t mem_len;

static char *capture(void (*write)(FILE *, void *), void *arg)
{
	FILE *f = open_memstream(&mem_buf, &mem_len);

	assert_non_null(f);
	write(f, arg);
	fclose(f);
	return mem_buf;
}

struct two {
	struct check_result r[2];
};

static void setup_results(struct two *t, struct expectation *e)
{
	parse_ok("tcp 198.51.100.2:40000 -> 198.51.100.1:22 iif wan0 syn: drop by rule handle 11",
		 &e[0]);
	e[0].line = 3;
	parse_ok("tcp 198.51.100.2:40000 -> 198.51.100.1:1222 iif wan0 syn: accept", &e[1]);
	e[1].line = 4;
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < 2; i++) {
		t->r[i].exp = &e[i];
		t->r[i].known = true;
		t->r[i].verdict = EXPECT_DROP;
		t->r[i].has_handle = true;
		t->r[i].handle = 11;
		snprintf(t->r[i].actual, sizeof(t->r[i].actual),
			 "drop by rule `drop` (handle 11) in inet filter allowed_dnats");
		t->r[i].seconds = 0.0125;
		check_judge(&t->r[i]);
	}
}

static void write_text(FILE *f, void *arg)
{
	struct two *t = arg;

	for (int i = 0; i < 2; i++)
		assert_int_equal(check_text_line(f, &t->r[i]), 0);
}

static void test_check_judge(void **state)
{
	struct expectation e[2];
	struct two t;
	struct check_result r;

	(void)state;
	setup_results(&t, e);
	assert_true(t.r[0].passed);
	assert_false(t.r[1].passed);
	assert_string_equal(t.r[1].detail, "expected accept, got drop");

	r = t.r[0];
	r.handle = 12;
	check_judge(&r);
	assert_false(r.passed);
	assert_string_equal(r.detail, "drop as expected, but by rule handle 12, not rule handle 11");
	r.has_handle = false;
	r.by_policy = true;
	check_judge(&r);
	assert_string_equal(r.detail,
			    "drop as expected, but by the chain's policy, not rule handle 11");
	r.known = false;
	check_judge(&r);
	assert_false(r.passed);
	assert_string_equal(r.detail, "the replay gave no verdict");
}

static void test_check_text(void **state)
{
	struct expectation e[2];
	struct two t;
	char *out;

	(void)state;
	setup_results(&t, e);
	out = capture(write_text, &t);
	assert_string_equal(
		out,
		"PASS  line 3:    tcp 198.51.100.2:40000 -> 198.51.100.1:22 iif wan0 syn: drop by rule handle 11\n"
		"FAIL  line 4:    tcp 198.51.100.2:40000 -> 198.51.100.1:1222 iif wan0 syn: accept\n"
		"      expected: accept\n"
		"      got:      drop by rule `drop` (handle 11) in inet filter allowed_dnats\n"
		"      (expected accept, got drop)\n");
	free(out);
}

static void write_json(FILE *f, void *arg)
{
	struct two *t = arg;

	for (int i = 0; i < 2; i++)
		assert_int_equal(check_json_line(f, &t->r[i]), 0);
}

static void test_check_json(void **state)
{
	struct expectation e[2];
	struct two t;
	const char *second;
	char *out;
	json_t *a, *b;

	(void)state;
	setup_results(&t, e);
	out = capture(write_json, &t);
	second = strchr(out, '\n');
	assert_non_null(second);
	a = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
	b = json_loads(second + 1, 0, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(json_string_value(json_object_get(a, "type")), "check");
	assert_int_equal(json_integer_value(json_object_get(a, "line")), 3);
	assert_true(json_is_true(json_object_get(a, "passed")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "expected"), "handle")),
			 11);
	assert_true(json_is_false(json_object_get(json_object_get(a, "expected"), "by_policy")));
	assert_true(json_is_null(json_object_get(a, "detail")));
	assert_true(json_is_false(json_object_get(b, "passed")));
	assert_string_equal(json_string_value(json_object_get(b, "expectation")),
			    "tcp 198.51.100.2:40000 -> 198.51.100.1:1222 iif wan0 syn: accept");
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "expected"), "verdict")),
			    "accept");
	assert_true(json_is_null(json_object_get(json_object_get(b, "expected"), "handle")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "actual"), "verdict")),
			    "drop");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "actual"), "handle")),
			 11);
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "actual"), "cause")),
			    "drop by rule `drop` (handle 11) in inet filter allowed_dnats");
	assert_string_equal(json_string_value(json_object_get(b, "detail")),
			    "expected accept, got drop");
	json_decref(a);
	json_decref(b);
	free(out);
}

static void write_junit(FILE *f, void *arg)
{
	struct two *t = arg;

	assert_int_equal(junit_write(f, "lab<&\">'", t->r, 2, 1.5), 0);
}

static void test_junit(void **state)
{
	struct expectation e[2];
	struct two t;
	char *out, path[] = "/tmp/test_replaypkt.XXXXXX", cmd[256];
	int fd;

	(void)state;
	setup_results(&t, e);
	/* a line with every character XML treats specially, and a control one */
	snprintf(e[1].text, sizeof(e[1].text), "tcp <&\"> \x01'x': accept");
	snprintf(t.r[1].actual, sizeof(t.r[1].actual), "drop by rule `meta mark 0x1 <drop>` & co");
	out = capture(write_junit, &t);
	assert_non_null(strstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
	assert_non_null(strstr(out, "tests=\"2\" failures=\"1\""));
	assert_non_null(strstr(out, "<testsuite name=\"lab&lt;&amp;&quot;&gt;&apos;\""));
	assert_non_null(strstr(out, "name=\"line 4: tcp &lt;&amp;&quot;&gt; &apos;x&apos;: accept\""));
	assert_non_null(strstr(out, "got: drop by rule `meta mark 0x1 &lt;drop&gt;` &amp; co</failure>"));
	assert_non_null(strstr(out, "time=\"0.013\"/>"));
	assert_null(strchr(out, '\x01'));

	/* well-formed, as a parser sees it, when python3 is there */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, out, strlen(out)), (ssize_t)strlen(out));
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "command -v python3 >/dev/null || exit 0; python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' %s",
		 path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier_accepts_kernel_checksums),
		cmocka_unit_test(test_json_syn4),
		cmocka_unit_test(test_json_established_reply),
		cmocka_unit_test(test_json_syn6),
		cmocka_unit_test(test_json_udp4),
		cmocka_unit_test(test_json_output_is_local),
		cmocka_unit_test(test_json_icmp_kernel_checksums),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_json_tcp_cut),
		cmocka_unit_test(test_json_payload_not_recorded),
		cmocka_unit_test(test_json_renders_raw_headers),
		cmocka_unit_test(test_json_raw_headers_null),
		cmocka_unit_test(test_expect_issue_examples),
		cmocka_unit_test(test_expect_more_forms),
		cmocka_unit_test(test_expect_blank_and_comments),
		cmocka_unit_test(test_expect_errors),
		cmocka_unit_test(test_check_judge),
		cmocka_unit_test(test_check_text),
		cmocka_unit_test(test_check_json),
		cmocka_unit_test(test_junit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
