/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decoding, on messages captured from the kernel (tests/fixtures/NAME.bin,
 * see tests/fixtures/README.md for how) and on hand-built edge cases.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>

#include "helpers.h"
#include "timeline.h"
#include "timeline_read.h"
#include "trace.h"

#define MAX_MSGS 64

struct fixture {
	char *buf;
	size_t len;
	const struct nlmsghdr *msg[MAX_MSGS];
	unsigned int n;
};

static void load(const char *name, struct fixture *f)
{
	char path[512];
	FILE *fp;
	const struct nlmsghdr *nlh;
	size_t off = 0;
	bool bad;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	f->buf = malloc(65536);
	assert_non_null(f->buf);
	f->len = fread(f->buf, 1, 65536, fp);
	fclose(fp);
	assert_true(f->len > 0);
	f->n = 0;
	while ((nlh = trace_msg_next(f->buf, f->len, &off, &bad))) {
		assert_true(f->n < MAX_MSGS);
		f->msg[f->n++] = nlh;
	}
	assert_false(bad);
	assert_int_equal(off, f->len);
}

static void test_fixture_drop_decodes_every_attribute(void **state)
{
	struct fixture f;
	struct trace_event ev;

	(void)state;
	load("trace_drop.bin", &f);
	/*
	 * The 8 lines of trace_drop.monitor are 5 events, 3 with packet; the
	 * kernel also sends the end of our chain (continue, no handle), which
	 * nft monitor trace does not print.
	 */
	assert_int_equal(f.n, 6);

	assert_int_equal(trace_decode(f.msg[0], &ev), 0);
	assert_int_equal(ev.id, 0xa7ccfc69);
	assert_int_equal(ev.family, NFPROTO_INET);
	assert_int_equal(ev.nfproto, NFPROTO_IPV4);
	assert_string_equal(ev.table, "trace_debug");
	assert_string_equal(ev.chain, "trace_prerouting");
	assert_int_equal(ev.type, TRACE_TYPE_RULE);
	assert_true(ev.present & TRACE_HAS_HANDLE);
	assert_int_equal(ev.handle, 3);
	assert_int_equal(ev.verdict, NFT_CONTINUE);
	assert_true(ev.present & TRACE_HAS_IIF);
	assert_false(ev.present & TRACE_HAS_OIF);
	assert_int_equal(ev.iiftype, 1); /* ARPHRD_ETHER */
	assert_int_equal(ev.nh_len, 20);
	assert_int_equal(ev.th_len, 20);
	assert_int_equal(ev.ll_len, 14);
	/* hooked before conntrack: no ct attributes yet */
	assert_false(ev.present & (TRACE_HAS_CT_ID | TRACE_HAS_CT_STATE));

	assert_int_equal(trace_decode(f.msg[1], &ev), 0);
	assert_int_equal(ev.type, TRACE_TYPE_RULE);
	assert_false(ev.present & TRACE_HAS_HANDLE);
	assert_int_equal(ev.verdict, NFT_CONTINUE);

	assert_int_equal(trace_decode(f.msg[2], &ev), 0);
	assert_int_equal(ev.type, TRACE_TYPE_POLICY);
	assert_true(ev.present & TRACE_HAS_POLICY);
	assert_false(ev.present & TRACE_HAS_VERDICT);
	assert_int_equal(ev.policy, NF_ACCEPT);
	assert_false(ev.present & TRACE_HAS_NH);

	assert_int_equal(trace_decode(f.msg[3], &ev), 0);
	assert_string_equal(ev.table, "nat");
	assert_string_equal(ev.chain, "prerouting");
	assert_int_equal(ev.handle, 3);
	assert_int_equal(ev.verdict, NF_ACCEPT);
	/* the conntrack attributes 18-21 of Linux 6.16+ */
	assert_true(ev.present & TRACE_HAS_CT_STATE);
	assert_int_equal(ev.ct_state, 8); /* new */
	assert_true(ev.present & TRACE_HAS_CT_DIRECTION);
	assert_int_equal(ev.ct_direction, 0);
	assert_true(ev.present & TRACE_HAS_CT_ID);
	assert_true(ev.ct_id != 0);

	assert_int_equal(trace_decode(f.msg[4], &ev), 0);
	assert_string_equal(ev.chain, "forward");
	assert_int_equal(ev.handle, 8);
	assert_int_equal(ev.verdict, NFT_JUMP);
	assert_true(ev.present & TRACE_HAS_TARGET);
	assert_string_equal(ev.target, "allowed_dnats");
	assert_true(ev.present & TRACE_HAS_OIF);
	assert_true(ev.present & TRACE_HAS_CT_STATUS);
	assert_true(ev.ct_status & (1u << 5)); /* IPS_DST_NAT */

	assert_int_equal(trace_decode(f.msg[5], &ev), 0);
	assert_string_equal(ev.chain, "allowed_dnats");
	assert_int_equal(ev.handle, 11);
	assert_int_equal(ev.verdict, NF_DROP);
	assert_true(trace_verdict_is_final(ev.verdict));
	assert_false(ev.present & TRACE_HAS_NH);
	free(f.buf);
}

struct one {
	struct timeline tl;
	unsigned int n;
	struct timeline_table *t; /* owns the names tl points to */
};

static void keep(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	struct one *o = ctx;

	(void)why;
	o->tl = *tl;
	o->n++;
}

static struct one replay(const char *name)
{
	struct timeline_config cfg = {
		.own_table = "trace_debug",
		.own_family = NFPROTO_INET,
		.max_inflight = 16,
		.idle_ns = 80000000,
		.emit = keep,
	};
	struct timeline_table *t;
	struct fixture f;
	struct one o = {};

	cfg.emit_ctx = &o;
	load(name, &f);
	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	for (unsigned int i = 0; i < f.n; i++) {
		struct trace_event ev;

		assert_int_equal(trace_decode(f.msg[i], &ev), 0);
		timeline_add(t, &ev, 0);
	}
	timeline_expire(t, 1000000000);
	assert_int_equal(timeline_inflight(t), 0);
	o.t = t;
	free(f.buf);
	return o;
}

static void test_fixture_drop_makes_one_timeline_with_dnat_and_cause(void **state)
{
	struct one o = replay("trace_drop.bin");
	struct tl_summary sum;
	char from[64], to[64];

	(void)state;
	assert_int_equal(o.n, 1);
	assert_true(timeline_complete(&o.tl));
	timeline_summarize(&o.tl, &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_DROP);
	assert_int_equal(o.tl.steps[sum.cause].handle, 11);
	assert_int_equal(sum.n_path, 2);
	assert_string_equal(sum.path[0], "forward");
	assert_string_equal(sum.path[1], "allowed_dnats");
	assert_int_equal(sum.n_nat, 1);
	packet_endpoint_str(&sum.nat[0].before, false, from, sizeof(from));
	packet_endpoint_str(&sum.nat[0].after, false, to, sizeof(to));
	assert_string_equal(from, "198.51.100.1:1222");
	assert_string_equal(to, "203.0.113.10:22");
	timeline_table_free(o.t);
}

static void test_fixture_accept_passes_postrouting(void **state)
{
	struct one o = replay("trace_accept.bin");
	struct tl_summary sum;

	(void)state;
	assert_int_equal(o.n, 1);
	assert_true(timeline_complete(&o.tl));
	timeline_summarize(&o.tl, &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_ACCEPT);
	assert_string_equal(o.tl.steps[sum.cause].chain, "postrouting");
	assert_int_equal(sum.n_nat, 1);
	timeline_table_free(o.t);
}

static void test_fixture_ipv6_dnat(void **state)
{
	struct one o = replay("trace_ipv6.bin");
	struct tl_summary sum;
	char to[64];

	(void)state;
	assert_int_equal(o.n, 1);
	timeline_summarize(&o.tl, &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_DROP);
	assert_int_equal(sum.packet->pkt.l3, 6);
	assert_int_equal(sum.n_nat, 1);
	packet_endpoint_str(&sum.nat[0].after, false, to, sizeof(to));
	assert_string_equal(to, "[2001:db8:2::10]:22");
	timeline_table_free(o.t);
}

static void test_fixture_output_hook_starts_in_own_output_chain(void **state)
{
	struct one o = replay("trace_output.bin");
	struct tl_summary sum;

	(void)state;
	assert_int_equal(o.n, 1);
	assert_true(o.tl.started);
	assert_string_equal(o.tl.hdrs[0].chain, "trace_output");
	timeline_summarize(&o.tl, &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_ACCEPT);
	assert_false(sum.packet->present & TRACE_HAS_IIF);
	timeline_table_free(o.t);
}

/* Every prefix and every single-byte corruption: decode or refuse, never crash. */
static void test_truncated_and_corrupted_messages_never_crash(void **state)
{
	static const char *const names[] = {
		"trace_drop.bin",   "trace_accept.bin", "trace_ipv6.bin",
		"trace_output.bin", "trace_mark.bin",
	};
	unsigned int refused = 0;

	(void)state;
	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		struct fixture f;

		load(names[n], &f);
		for (unsigned int m = 0; m < f.n; m++) {
			const struct nlmsghdr *orig = f.msg[m];
			uint32_t len = orig->nlmsg_len;
			uint8_t *copy = malloc(len);
			struct trace_event ev;

			assert_non_null(copy);
			for (uint32_t cut = 0; cut < len; cut++) {
				memcpy(copy, orig, len);
				((struct nlmsghdr *)copy)->nlmsg_len = cut;
				if (trace_decode((struct nlmsghdr *)copy, &ev) < 0)
					refused++;
			}
			for (uint32_t pos = sizeof(struct nlmsghdr); pos < len; pos++) {
				memcpy(copy, orig, len);
				copy[pos] ^= 0xff;
				if (trace_decode((struct nlmsghdr *)copy, &ev) == 0 &&
				    (ev.present & TRACE_HAS_TARGET))
					assert_non_null(ev.target);
			}
			free(copy);
		}
		free(f.buf);
	}
	assert_true(refused > 0);
}

/* ---- hand-built messages ---- */

static struct nlmsghdr *start(char *buf, uint16_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_IPV4;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

#define TRACE_MSG ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE)

static struct nlmsghdr *minimal(char *buf)
{
	struct nlmsghdr *nlh = start(buf, TRACE_MSG);

	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(0xdeadbeef));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(TRACE_TYPE_RULE));
	mnl_attr_put_strz(nlh, NFTA_TRACE_TABLE, "filter");
	mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, "input");
	return nlh;
}

static void test_minimal_message(void **state)
{
	char buf[1024];
	struct trace_event ev;

	(void)state;
	assert_int_equal(trace_decode(minimal(buf), &ev), 0);
	assert_int_equal(ev.id, 0xdeadbeef);
	assert_int_equal(ev.family, NFPROTO_IPV4);
	assert_int_equal(ev.present, 0);
}

static void test_not_a_trace_message_is_enomsg(void **state)
{
	char buf[1024];
	struct trace_event ev;

	(void)state;
	assert_int_equal(
		trace_decode(start(buf, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE), &ev),
		-ENOMSG);
	assert_int_equal(trace_decode(start(buf, NLMSG_ERROR), &ev), -ENOMSG);
}

static void test_missing_required_attribute_is_einval(void **state)
{
	char buf[1024];
	struct nlmsghdr *nlh;
	struct trace_event ev;

	(void)state;
	nlh = start(buf, TRACE_MSG);
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(TRACE_TYPE_RULE));
	mnl_attr_put_strz(nlh, NFTA_TRACE_TABLE, "filter");
	mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, "input");
	assert_int_equal(trace_decode(nlh, &ev), -EINVAL);
	/* no room even for the nfgenmsg */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = TRACE_MSG;
	assert_int_equal(trace_decode(nlh, &ev), -EINVAL);
}

static void test_wrong_attribute_sizes_are_einval(void **state)
{
	char buf[1024];
	struct nlmsghdr *nlh;
	struct trace_event ev;
	uint16_t two = 0;

	(void)state;
	nlh = minimal(buf);
	mnl_attr_put(nlh, NFTA_TRACE_IIF, sizeof(two), &two);
	assert_int_equal(trace_decode(nlh, &ev), -EINVAL);

	nlh = minimal(buf);
	mnl_attr_put(nlh, NFTA_TRACE_RULE_HANDLE, 4, "abcd");
	assert_int_equal(trace_decode(nlh, &ev), -EINVAL);

	/* a table name without its NUL */
	nlh = start(buf, TRACE_MSG);
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, 1);
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(TRACE_TYPE_RULE));
	mnl_attr_put(nlh, NFTA_TRACE_TABLE, 6, "filter");
	mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, "input");
	assert_int_equal(trace_decode(nlh, &ev), -EINVAL);

	/* a conntrack id that is not 32 bits */
	nlh = minimal(buf);
	mnl_attr_put_u8(nlh, TRACE_ATTR_CT_ID, 1);
	assert_int_equal(trace_decode(nlh, &ev), -EINVAL);
}

static void test_conntrack_attributes_decoded(void **state)
{
	char buf[1024];
	struct nlmsghdr *nlh;
	struct trace_event ev;

	(void)state;
	nlh = minimal(buf);
	mnl_attr_put_u32(nlh, TRACE_ATTR_CT_ID, htonl(4242));
	mnl_attr_put_u8(nlh, TRACE_ATTR_CT_DIRECTION, 1);
	mnl_attr_put_u32(nlh, TRACE_ATTR_CT_STATUS, htonl(0x1a));
	mnl_attr_put_u32(nlh, TRACE_ATTR_CT_STATE, htonl(2));
	assert_int_equal(trace_decode(nlh, &ev), 0);
	assert_int_equal(ev.ct_id, 4242);
	assert_int_equal(ev.ct_direction, 1);
	assert_int_equal(ev.ct_status, 0x1a);
	assert_int_equal(ev.ct_state, 2);
	assert_int_equal(ev.present, TRACE_HAS_CT_ID | TRACE_HAS_CT_DIRECTION |
					     TRACE_HAS_CT_STATUS | TRACE_HAS_CT_STATE);
}

static void test_attributes_of_newer_kernels_are_skipped(void **state)
{
	char buf[1024];
	struct nlmsghdr *nlh;
	struct trace_event ev;

	(void)state;
	nlh = minimal(buf);
	mnl_attr_put_u64(nlh, 40, 7);
	mnl_attr_put_u32(nlh, TRACE_ATTR_CT_STATE, htonl(8));
	assert_int_equal(trace_decode(nlh, &ev), 0);
	assert_int_equal(ev.ct_state, 8);
}

static void test_verdict_nest(void **state)
{
	char buf[1024];
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct trace_event ev;

	(void)state;
	nlh = minimal(buf);
	nest = mnl_attr_nest_start(nlh, NFTA_TRACE_VERDICT);
	mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)NFT_GOTO));
	mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, "deny");
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(trace_decode(nlh, &ev), 0);
	assert_int_equal(ev.verdict, NFT_GOTO);
	assert_string_equal(ev.target, "deny");
	assert_string_equal(trace_verdict_name(ev.verdict), "goto");

	/* a verdict without its code */
	nlh = minimal(buf);
	nest = mnl_attr_nest_start(nlh, NFTA_TRACE_VERDICT);
	mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, "deny");
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(trace_decode(nlh, &ev), -EINVAL);
}

static void test_datagram_walk_refuses_lengths_past_the_end(void **state)
{
	uint32_t buf[64] = {};
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	size_t off = 0;
	bool bad;

	(void)state;
	/* the length that libmnl 1.0.4 casts to a negative int */
	nlh->nlmsg_len = 0x8000004c;
	assert_null(trace_msg_next(buf, 76, &off, &bad));
	assert_true(bad);
	nlh->nlmsg_len = 8; /* shorter than its own header */
	assert_null(trace_msg_next(buf, 76, &off, &bad));
	assert_true(bad);
	nlh->nlmsg_len = 18; /* two messages, the first padded to 20 */
	((struct nlmsghdr *)((char *)buf + 20))->nlmsg_len = 16;
	assert_ptr_equal(trace_msg_next(buf, 36, &off, &bad), nlh);
	assert_int_equal(off, 20);
	assert_non_null(trace_msg_next(buf, 36, &off, &bad));
	assert_null(trace_msg_next(buf, 36, &off, &bad));
	assert_false(bad);
	off = 0;
	assert_non_null(trace_msg_next(buf, 18, &off, &bad)); /* unpadded tail */
	assert_null(trace_msg_next(buf, 18, &off, &bad));
	assert_false(bad);
	off = 0;
	assert_null(trace_msg_next(buf, 10, &off, &bad)); /* a torn header */
	assert_true(bad);
}

static void test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(trace_verdict_name(NF_ACCEPT), "accept");
	assert_string_equal(trace_verdict_name(NF_DROP), "drop");
	assert_string_equal(trace_verdict_name(NF_QUEUE | (3 << 16)), "queue");
	assert_string_equal(trace_verdict_name(NFT_CONTINUE), "continue");
	assert_string_equal(trace_verdict_name(NFT_RETURN), "return");
	assert_string_equal(trace_verdict_name(-99), "unknown");
	assert_true(trace_verdict_is_final(NF_STOLEN));
	assert_false(trace_verdict_is_final(NF_ACCEPT));
	assert_false(trace_verdict_is_final(NFT_JUMP));
	assert_string_equal(trace_family_name(NFPROTO_IPV6), "ip6");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_drop_decodes_every_attribute),
		cmocka_unit_test(test_fixture_drop_makes_one_timeline_with_dnat_and_cause),
		cmocka_unit_test(test_fixture_accept_passes_postrouting),
		cmocka_unit_test(test_fixture_ipv6_dnat),
		cmocka_unit_test(test_fixture_output_hook_starts_in_own_output_chain),
		cmocka_unit_test(test_truncated_and_corrupted_messages_never_crash),
		cmocka_unit_test(test_minimal_message),
		cmocka_unit_test(test_not_a_trace_message_is_enomsg),
		cmocka_unit_test(test_missing_required_attribute_is_einval),
		cmocka_unit_test(test_wrong_attribute_sizes_are_einval),
		cmocka_unit_test(test_conntrack_attributes_decoded),
		cmocka_unit_test(test_attributes_of_newer_kernels_are_skipped),
		cmocka_unit_test(test_verdict_nest),
		cmocka_unit_test(test_datagram_walk_refuses_lengths_past_the_end),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
