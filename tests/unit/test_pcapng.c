/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcapng blocks as the specification lays them out, read back by a small
 * reader here: block lengths at both ends, 32-bit padding, options, and
 * what a timeline puts in them (link header or raw IP, lengths, interface,
 * comment).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "explain_text.h"
#include "helpers.h"
#include "pcapng.h"

#define OWN "trace_debug"

static const char *fake_rule(void *ctx, uint8_t family, const char *table, const char *chain,
			     uint64_t handle, bool *ret_deleted)
{
	(void)ctx;
	(void)chain;
	(void)family;
	*ret_deleted = false;
	if (strcmp(table, "filter") == 0 && handle == 7)
		return "drop";
	return NULL;
}

static const char *fake_hook(void *ctx, uint8_t family, const char *table, const char *chain)
{
	(void)ctx;
	(void)family;
	(void)table;
	return strcmp(chain, "allowed_dnats") == 0 ? NULL : chain;
}

static char ifname_buf[IF_NAMESIZE];

static const char *fake_ifname(void *ctx, uint32_t ifindex)
{
	(void)ctx;
	if (ifindex == 2)
		return "wan0";
	if (ifindex >= 100) {
		snprintf(ifname_buf, sizeof(ifname_buf), "veth%u", ifindex);
		return ifname_buf;
	}
	return NULL;
}

static const struct resolver resolver = {
	.rule = fake_rule,
	.hook = fake_hook,
	.ifname = fake_ifname,
};

static const uint8_t eth[14] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00 };

/* What the tests render: every emitted timeline's record, appended. */
struct sink_buf {
	struct pcapng_ifaces ifs;
	uint8_t data[1 << 20];
	size_t len;
	char cause[PCAPNG_COMMENT_MAX];
	unsigned int records;
};

static struct explain ex;

static void record(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	struct sink_buf *b = ctx;
	size_t n;

	(void)why;
	explain_timeline(tl, &resolver, &ex);
	explain_cause_str(tl, &ex, b->cause, sizeof(b->cause));
	n = pcapng_record(&b->ifs, tl, &ex, 1700000000123456789ull, b->data + b->len,
			  sizeof(b->data) - b->len);
	assert_true(n > 0);
	b->len += n;
	b->records++;
}

static struct timeline_table *table(struct sink_buf *b)
{
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = record,
		.emit_ctx = b,
	};
	struct timeline_table *t;

	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	return t;
}

static void add(struct timeline_table *t, struct trace_event ev)
{
	timeline_add(t, &ev, 0);
}

/* A SYN in on wan0 (Ethernet) dropped in allowed_dnats. */
static void dropped_syn(struct timeline_table *t, uint32_t id, uint32_t iif, bool with_ll)
{
	struct test_pkt p;
	struct trace_event ev;

	test_ipv4_tcp(&p, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	ev = test_with_pkt(test_rule(id, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &p, iif,
			   0);
	if (with_ll) {
		ev.ll = eth;
		ev.ll_len = sizeof(eth);
		ev.iiftype = 1; /* ARPHRD_ETHER */
		ev.present |= TRACE_HAS_LL | TRACE_HAS_IIFTYPE;
	}
	add(t, ev);
	add(t, test_with_pkt(test_rule(id, "filter", "forward", 5, NFT_JUMP, "allowed_dnats"), &p,
			     iif, 3));
	add(t, test_rule(id, "filter", "allowed_dnats", 7, NF_DROP, NULL));
}

/* ---- a reader, as the specification says ---- */

struct block {
	uint32_t type, len;
	const uint8_t *body; /* after type and length */
	size_t body_len;     /* without the trailing length */
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* The block at *off; checks the lengths agree and are 32-bit aligned. */
static struct block next_block(const uint8_t *buf, size_t len, size_t *off)
{
	struct block b;

	assert_true(*off + 12 <= len);
	b.type = rd32(buf + *off);
	b.len = rd32(buf + *off + 4);
	assert_int_equal(b.len % 4, 0);
	assert_true(b.len >= 12 && *off + b.len <= len);
	assert_int_equal(rd32(buf + *off + b.len - 4), b.len);
	b.body = buf + *off + 8;
	b.body_len = b.len - 12;
	*off += b.len;
	return b;
}

/* The n-th option with code in the options at opts, NULL if none; its length in *ret_len. */
static const uint8_t *option(const uint8_t *opts, size_t len, uint16_t code, int nth,
			     uint16_t *ret_len)
{
	size_t off = 0;

	while (off + 4 <= len) {
		uint16_t c = rd16(opts + off), l = rd16(opts + off + 2);

		if (c == 0) {
			assert_int_equal(l, 0);
			assert_int_equal(off + 4, len); /* opt_endofopt ends them */
			return NULL;
		}
		assert_true(off + 4 + l <= len);
		if (c == code && nth-- == 0) {
			*ret_len = l;
			return opts + off + 4;
		}
		off += 4 + ((l + 3u) & ~3u);
	}
	fail_msg("options without opt_endofopt");
	return NULL;
}

static void assert_str_option(const uint8_t *opts, size_t len, uint16_t code, int nth,
			      const char *want)
{
	uint16_t l = 0;
	const uint8_t *v = option(opts, len, code, nth, &l);

	assert_non_null(v);
	assert_int_equal(l, strlen(want));
	assert_memory_equal(v, want, l);
}

/* ---- tests ---- */

static void test_section_header(void **state)
{
	uint8_t buf[256];
	size_t n, off = 0;
	struct block b;

	(void)state;
	/* too small: nothing written, the size needed said */
	n = pcapng_shb(buf, 8, "nattraced 1.0");
	assert_true(n > 8);
	assert_int_equal(pcapng_shb(buf, sizeof(buf), "nattraced 1.0"), n);
	b = next_block(buf, n, &off);
	assert_int_equal(b.type, 0x0A0D0D0A);
	assert_int_equal(rd32(b.body), 0x1A2B3C4D);
	assert_int_equal(rd16(b.body + 4), 1);
	assert_int_equal(rd16(b.body + 6), 0);
	assert_memory_equal(b.body + 8, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	assert_str_option(b.body + 16, b.body_len - 16, 4, 0, "nattraced 1.0");
}

static void test_dropped_syn_ethernet(void **state)
{
	struct sink_buf *b = calloc(1, sizeof(*b));
	struct timeline_table *t = table(b);
	struct test_pkt p;
	const uint8_t *epb, *opts;
	uint16_t l;
	size_t off = 0;
	struct block idb, blk;

	(void)state;
	dropped_syn(t, 0x11, 2, true);
	timeline_table_free(t);
	assert_int_equal(b->records, 1);
	assert_string_equal(b->cause,
			    "drop by rule `drop` (handle 7) in inet filter allowed_dnats, "
			    "reached from inet filter forward at hook forward via jump "
			    "allowed_dnats (handle 5)");

	idb = next_block(b->data, b->len, &off);
	assert_int_equal(idb.type, 1);
	assert_int_equal(rd16(idb.body), PCAPNG_LINKTYPE_ETHERNET);
	assert_int_equal(rd32(idb.body + 4), PCAPNG_SNAPLEN);
	assert_str_option(idb.body + 8, idb.body_len - 8, 2, 0, "wan0");
	assert_non_null(option(idb.body + 8, idb.body_len - 8, 9, 0, &l));
	assert_int_equal(l, 1);
	assert_int_equal(*option(idb.body + 8, idb.body_len - 8, 9, 0, &l), 9);

	blk = next_block(b->data, b->len, &off);
	assert_int_equal(off, b->len);
	assert_int_equal(blk.type, 6);
	epb = blk.body;
	assert_int_equal(rd32(epb), 0); /* the IDB above */
	assert_int_equal(((uint64_t)rd32(epb + 4) << 32 | rd32(epb + 8)), 1700000000123456789ull);
	/* link, IP and TCP header as the trace carried them; the IP header says 60 */
	assert_int_equal(rd32(epb + 12), 14 + 20 + 20);
	assert_int_equal(rd32(epb + 16), 14 + 60);
	test_ipv4_tcp(&p, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	assert_memory_equal(epb + 20, eth, 14);
	assert_memory_equal(epb + 34, p.nh, 20);
	assert_memory_equal(epb + 54, p.th, 20);
	opts = epb + 20 + 56; /* 54 bytes padded to 56 */
	assert_str_option(opts, blk.body_len - 76, 1, 0, b->cause);
	assert_str_option(opts, blk.body_len - 76, 1, 1, "nattraced trace 00000011");
	assert_non_null(option(opts, blk.body_len - 76, 2, 0, &l));
	assert_int_equal(l, 4);
	assert_int_equal(rd32(option(opts, blk.body_len - 76, 2, 0, &l)), 1); /* inbound */
	free(b);
}

/* Without a link header: raw IP, and the interface block is one of its own. */
static void test_raw_ip_and_one_idb_per_interface(void **state)
{
	struct sink_buf *b = calloc(1, sizeof(*b));
	struct timeline_table *t = table(b);
	size_t off = 0;
	struct block blk;
	unsigned int idbs = 0, epbs = 0;
	uint32_t ids[3];

	(void)state;
	dropped_syn(t, 0x11, 2, true);
	dropped_syn(t, 0x12, 2, true);
	dropped_syn(t, 0x13, 2, false);
	timeline_table_free(t);
	assert_int_equal(b->records, 3);
	while (off < b->len) {
		blk = next_block(b->data, b->len, &off);
		if (blk.type == 1) {
			assert_int_equal(rd16(blk.body),
					 idbs ? PCAPNG_LINKTYPE_RAW : PCAPNG_LINKTYPE_ETHERNET);
			assert_str_option(blk.body + 8, blk.body_len - 8, 2, 0, "wan0");
			idbs++;
		} else {
			assert_int_equal(blk.type, 6);
			ids[epbs++] = rd32(blk.body);
		}
	}
	assert_int_equal(idbs, 2);
	assert_int_equal(epbs, 3);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 0);
	assert_int_equal(ids[2], 1);
	free(b);
}

/* IPv4 options past the kernel's 40 bytes: the TCP bytes do not follow, so not captured. */
static void test_cut_network_header(void **state)
{
	struct sink_buf *b = calloc(1, sizeof(*b));
	struct timeline_table *t = table(b);
	struct test_pkt p;
	struct trace_event ev;
	size_t off = 0;
	struct block blk;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	p.nh[0] = 0x4f; /* 60 bytes of IP header */
	p.nh[3] = 80;
	p.nh_len = 40;
	ev = test_with_pkt(test_rule(0x21, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &p, 2,
			   0);
	add(t, ev);
	add(t, test_with_pkt(test_rule(0x21, "filter", "input", 7, NF_DROP, NULL), &p, 2, 0));
	timeline_table_free(t);
	next_block(b->data, b->len, &off); /* IDB */
	blk = next_block(b->data, b->len, &off);
	assert_int_equal(rd32(blk.body + 12), 40);
	assert_int_equal(rd32(blk.body + 16), 80);
	free(b);
}

/* More interface names than PCAPNG_MAX_IFACES: the rest share "other". */
static void test_interface_bound(void **state)
{
	struct sink_buf *b = calloc(1, sizeof(*b));
	struct timeline_table *t = table(b);
	size_t off = 0;
	struct block blk;
	unsigned int idbs = 0, other = 0;
	uint16_t l;

	(void)state;
	for (uint32_t i = 0; i < PCAPNG_MAX_IFACES + 40; i++)
		dropped_syn(t, 0x1000 + i, 100 + i, false);
	timeline_table_free(t);
	assert_int_equal(b->records, PCAPNG_MAX_IFACES + 40);
	assert_true(b->ifs.full);
	while (off < b->len) {
		blk = next_block(b->data, b->len, &off);
		if (blk.type != 1)
			continue;
		idbs++;
		if (option(blk.body + 8, blk.body_len - 8, 2, 0, &l) && l == 5 &&
		    !memcmp(option(blk.body + 8, blk.body_len - 8, 2, 0, &l), "other", 5))
			other++;
	}
	assert_int_equal(idbs, PCAPNG_MAX_IFACES + 1);
	assert_int_equal(other, 1);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_section_header),
		cmocka_unit_test(test_dropped_syn_ethernet),
		cmocka_unit_test(test_raw_ip_and_one_idb_per_interface),
		cmocka_unit_test(test_cut_network_header),
		cmocka_unit_test(test_interface_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
