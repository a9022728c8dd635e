/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include <net/if_arp.h>

#include "helpers.h"
#include "strpool.h"
#include "timeline.h"
#include "timeline_read.h"

#define OWN "trace_debug"
#define MS  1000000ull

/* What the emit callback saw, copied: the table reuses the slot. */
struct seen {
	struct timeline tl[8];
	enum timeline_end why[8];
	unsigned int n;
};

static void record(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	struct seen *s = ctx;

	assert_true(s->n < 8);
	s->tl[s->n] = *tl;
	s->why[s->n] = why;
	s->n++;
}

static struct timeline_table *table(struct seen *s, unsigned int max)
{
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = max,
		.idle_ns = 80 * MS,
		.emit = record,
		.emit_ctx = s,
	};
	struct timeline_table *t;

	memset(s, 0, sizeof(*s));
	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	return t;
}

static void add(struct timeline_table *t, struct trace_event ev, uint64_t now)
{
	timeline_add(t, &ev, now);
}

/* Our trace chain: the first events of every traced packet. */
static void own_start(struct timeline_table *t, uint32_t id, const struct test_pkt *p, uint64_t now)
{
	add(t,
	    test_with_pkt(test_rule(id, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), p, 2, 0),
	    now);
	add(t, test_policy(id, OWN, "trace_prerouting", NF_ACCEPT), now);
}

/* The seed scenario: DNAT 1222 -> 203.0.113.10:22, dropped in allowed_dnats. */
static void dnat_then_drop(struct timeline_table *t, uint32_t id, uint64_t now)
{
	struct test_pkt in, fwd;

	test_ipv4_tcp(&in, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	test_ipv4_tcp(&fwd, "198.51.100.2", 44976, "203.0.113.10", 22, 0x02);
	own_start(t, id, &in, now);
	add(t, test_with_pkt(test_rule(id, "nat", "prerouting", 3, NF_ACCEPT, NULL), &in, 2, 0),
	    now);
	add(t,
	    test_with_pkt(test_rule(id, "filter", "forward", 5, NFT_JUMP, "allowed_dnats"), &fwd, 2,
			  3),
	    now);
	add(t, test_rule(id, "filter", "allowed_dnats", 7, NF_DROP, NULL), now);
}

/* The fixed port forward: accepted in forward, then postrouting. */
static void dnat_then_accept(struct timeline_table *t, uint32_t id, uint64_t now)
{
	struct test_pkt in, fwd;

	test_ipv4_tcp(&in, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	test_ipv4_tcp(&fwd, "198.51.100.2", 44976, "203.0.113.10", 22, 0x02);
	own_start(t, id, &in, now);
	add(t, test_with_pkt(test_rule(id, "nat", "prerouting", 3, NF_ACCEPT, NULL), &in, 2, 0),
	    now);
	add(t,
	    test_with_pkt(test_rule(id, "filter", "forward", 5, NFT_JUMP, "allowed_dnats"), &fwd, 2,
			  3),
	    now);
	add(t, test_rule(id, "filter", "allowed_dnats", 6, NF_ACCEPT, NULL), now);
	add(t, test_with_pkt(test_policy(id, "nat", "postrouting", NF_ACCEPT), &fwd, 0, 3), now);
}

static void test_drop_ends_timeline_at_once_with_cause(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 16);
	struct tl_summary sum;
	char from[64], to[64];

	(void)state;
	dnat_then_drop(t, 0x06fed0fb, 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.why[0], TL_END_VERDICT);
	assert_int_equal(timeline_inflight(t), 0);
	assert_true(timeline_complete(&s.tl[0]));
	/* our own chain is bookkeeping, not a step */
	assert_int_equal(s.tl[0].n_steps, 3);
	assert_string_equal(s.tl[0].steps[0].table, "nat");

	timeline_summarize(&s.tl[0], &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_DROP);
	assert_int_equal(sum.cause, 2);
	assert_int_equal(s.tl[0].steps[sum.cause].handle, 7);
	assert_int_equal(sum.n_path, 2);
	assert_string_equal(sum.path[0], "forward");
	assert_string_equal(sum.path[1], "allowed_dnats");
	assert_int_equal(sum.n_nat, 1);
	assert_int_equal(sum.nat[0].type, TL_NAT_DNAT);
	assert_int_equal(sum.nat[0].step, 1);
	packet_endpoint_str(&sum.nat[0].before, false, from, sizeof(from));
	packet_endpoint_str(&sum.nat[0].after, false, to, sizeof(to));
	assert_string_equal(from, "198.51.100.1:1222");
	assert_string_equal(to, "203.0.113.10:22");
	/* the packet as first seen, before DNAT */
	assert_non_null(sum.packet);
	assert_true(sum.packet->own);
	assert_int_equal(sum.packet->pkt.dport, 1222);
	timeline_table_free(t);
}

static void test_accept_ends_on_idle_only(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 16);
	struct tl_summary sum;

	(void)state;
	dnat_then_accept(t, 0x1234, 10 * MS);
	assert_int_equal(s.n, 0);
	assert_int_equal(timeline_next_expiry(t, 10 * MS), 80 * MS);
	timeline_expire(t, 89 * MS);
	assert_int_equal(s.n, 0);
	timeline_expire(t, 90 * MS);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.why[0], TL_END_IDLE);
	assert_int_equal(timeline_next_expiry(t, 90 * MS), -1);

	timeline_summarize(&s.tl[0], &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_ACCEPT);
	/* the last base chain decided: postrouting's policy */
	assert_string_equal(s.tl[0].steps[sum.cause].chain, "postrouting");
	assert_int_equal(s.tl[0].steps[sum.cause].type, TRACE_TYPE_POLICY);
	assert_true(timeline_complete(&s.tl[0]));
	timeline_table_free(t);
}

static void test_trace_id_reuse_starts_new_timeline(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 16);

	(void)state;
	/* Two packets of one flow, same id, the first accepted. */
	dnat_then_accept(t, 0xabcd, 0);
	dnat_then_accept(t, 0xabcd, 1 * MS);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.why[0], TL_END_REUSED);
	assert_int_equal(s.tl[0].n_steps, 4);
	assert_true(timeline_complete(&s.tl[0]));
	assert_int_equal(timeline_inflight(t), 1);
	timeline_flush(t);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.tl[1].n_steps, 4);
	assert_true(s.tl[0].seq < s.tl[1].seq);
	timeline_table_free(t);
}

static void test_interleaved_events_of_two_cpus_stay_apart(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 16);
	struct test_pkt a, b;
	struct tl_summary sum;

	(void)state;
	test_ipv4_tcp(&a, "198.51.100.2", 1000, "198.51.100.1", 1222, 0x02);
	test_ipv4_tcp(&b, "198.51.100.3", 2000, "198.51.100.1", 1222, 0x02);
	own_start(t, 1, &a, 0);
	own_start(t, 2, &b, 0);
	add(t,
	    test_with_pkt(test_rule(2, "filter", "forward", 5, NFT_JUMP, "allowed_dnats"), &b, 2,
			  3),
	    0);
	add(t,
	    test_with_pkt(test_rule(1, "filter", "forward", 5, NFT_JUMP, "allowed_dnats"), &a, 2,
			  3),
	    0);
	add(t, test_rule(1, "filter", "allowed_dnats", 6, NF_ACCEPT, NULL), 0);
	add(t, test_rule(2, "filter", "allowed_dnats", 7, NF_DROP, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.tl[0].id, 2);
	timeline_summarize(&s.tl[0], &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_DROP);
	assert_int_equal(sum.packet->pkt.sport, 2000);
	timeline_flush(t);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.tl[1].id, 1);
	timeline_summarize(&s.tl[1], &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_ACCEPT);
	assert_int_equal(sum.packet->pkt.sport, 1000);
	timeline_table_free(t);
}

/* Another tracer's packet (a user's nftrace rule, another nattraced). */
static void test_packet_not_selected_by_us_is_foreign(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 16);
	struct test_pkt p;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "203.0.113.10", 22, 0x10);
	add(t,
	    test_with_pkt(test_rule(9, "trace_b", "trace_prerouting", 2, NFT_CONTINUE, NULL), &p, 2,
			  0),
	    0);
	add(t,
	    test_with_pkt(test_rule(9, "filter", "forward", 5, NFT_JUMP, "allowed_dnats"), &p, 2,
			  3),
	    0);
	add(t, test_rule(9, "filter", "allowed_dnats", 7, NF_DROP, NULL), 0);
	/* our chain passed it by (policy only): still not ours */
	add(t,
	    test_with_pkt(test_rule(10, "trace_b", "trace_prerouting", 2, NFT_CONTINUE, NULL), &p,
			  2, 0),
	    0);
	add(t, test_with_pkt(test_policy(10, OWN, "trace_prerouting", NF_ACCEPT), &p, 2, 0), 0);
	timeline_flush(t);
	assert_int_equal(s.n, 0);
	assert_int_equal(timeline_stats(t)->foreign, 2);
	assert_int_equal(timeline_stats(t)->timelines, 0);
	timeline_table_free(t);
}

/* Our rule's event lost in an overrun: it may be ours, shown incomplete. */
static void test_lost_start_is_emitted_incomplete(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 16);
	struct test_pkt p;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "203.0.113.10", 22, 0x10);
	timeline_loss_begin(t);
	add(t,
	    test_with_pkt(test_rule(9, "filter", "forward", 5, NFT_JUMP, "allowed_dnats"), &p, 2,
			  3),
	    0);
	add(t, test_rule(9, "filter", "allowed_dnats", 7, NF_DROP, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_false(s.tl[0].started);
	assert_false(timeline_complete(&s.tl[0]));
	assert_int_equal(timeline_stats(t)->incomplete, 1);
	timeline_table_free(t);
}

static void test_full_table_evicts_oldest_as_incomplete(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 2);
	struct test_pkt p;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 1222, 0x02);
	own_start(t, 1, &p, 0);
	own_start(t, 2, &p, 1);
	own_start(t, 1, &p, 2); /* 1 is now the newest; reuse emits it */
	assert_int_equal(s.n, 1);
	own_start(t, 3, &p, 3); /* full: 2 is the least recently active */
	assert_int_equal(s.n, 2);
	assert_int_equal(s.tl[1].id, 2);
	assert_int_equal(s.why[1], TL_END_EVICTED);
	assert_false(timeline_complete(&s.tl[1]));
	assert_int_equal(timeline_stats(t)->evicted, 1);
	assert_int_equal(timeline_inflight(t), 2);
	timeline_table_free(t);
}

static void test_too_many_events_truncate_and_count(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 4);
	struct test_pkt p;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 80, 0x02);
	own_start(t, 5, &p, 0);
	add(t, test_with_pkt(test_rule(5, "filter", "input", 1, NFT_CONTINUE, NULL), &p, 2, 0), 0);
	for (int i = 0; i < TIMELINE_MAX_STEPS + 10; i++)
		add(t, test_rule(5, "filter", "input", 100 + i, NFT_CONTINUE, NULL), 0);
	add(t, test_rule(5, "filter", "input", 99, NF_DROP, NULL), 0);
	/* the first half and the last half are kept: the drop among them */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.tl[0].n_steps, TIMELINE_MAX_STEPS);
	assert_int_equal(s.tl[0].steps_dropped, 12);
	assert_int_equal(s.tl[0].gap_at, TIMELINE_MAX_STEPS / 2);
	assert_int_equal(s.tl[0].steps[TIMELINE_MAX_STEPS - 1].handle, 99);
	assert_int_equal(s.tl[0].steps[TIMELINE_MAX_STEPS / 2].handle,
			 100 + TIMELINE_MAX_STEPS / 2 - 1 + 12);
	assert_false(timeline_complete(&s.tl[0]));
	assert_int_equal(timeline_stats(t)->steps_dropped, 12);
	timeline_table_free(t);
}

static void test_lost_events_mark_inflight_incomplete(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 4);
	struct test_pkt p;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 80, 0x02);
	own_start(t, 5, &p, 0);
	timeline_mark_lossy(t);
	own_start(t, 6, &p, 0);
	timeline_flush(t);
	assert_int_equal(s.n, 2);
	assert_false(timeline_complete(&s.tl[0]));
	assert_true(timeline_complete(&s.tl[1]));
	timeline_table_free(t);
}

static void test_policy_drop_is_final(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 4);
	struct test_pkt p;
	struct tl_summary sum;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "203.0.113.10", 22, 0x02);
	own_start(t, 7, &p, 0);
	add(t, test_with_pkt(test_policy(7, "filter", "forward", NF_DROP), &p, 2, 3), 0);
	assert_int_equal(s.n, 1);
	timeline_summarize(&s.tl[0], &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_DROP);
	assert_int_equal(s.tl[0].steps[sum.cause].type, TRACE_TYPE_POLICY);
	assert_int_equal(sum.n_path, 1);
	assert_string_equal(sum.path[0], "forward");
	timeline_table_free(t);
}

static void test_path_forgets_chains_that_returned(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 4);
	struct test_pkt p;
	struct tl_summary sum;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "203.0.113.10", 22, 0x02);
	own_start(t, 8, &p, 0);
	add(t, test_with_pkt(test_rule(8, "filter", "forward", 4, NFT_JUMP, "counters"), &p, 2, 3),
	    0);
	add(t, test_rule(8, "filter", "counters", 0, NFT_CONTINUE, NULL), 0); /* implicit end */
	add(t, test_rule(8, "filter", "forward", 5, NFT_JUMP, "checks"), 0);
	add(t, test_rule(8, "filter", "checks", 9, NFT_RETURN, NULL), 0); /* explicit return */
	add(t, test_rule(8, "filter", "forward", 6, NFT_GOTO, "final"), 0);
	add(t, test_rule(8, "filter", "final", 10, NFT_JUMP, "deny"), 0);
	add(t, test_rule(8, "filter", "deny", 11, NF_DROP, NULL), 0);
	assert_int_equal(s.n, 1);
	timeline_summarize(&s.tl[0], &sum);
	assert_int_equal(sum.n_path, 3);
	assert_string_equal(sum.path[0], "forward");
	assert_string_equal(sum.path[1], "final");
	assert_string_equal(sum.path[2], "deny");
	timeline_table_free(t);
}

static void test_queue_verdict_with_number_is_final(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 4);
	struct test_pkt p;
	struct tl_summary sum;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 80, 0x02);
	own_start(t, 9, &p, 0);
	add(t,
	    test_with_pkt(test_rule(9, "filter", "input", 3, NF_QUEUE | (5 << 16), NULL), &p, 2, 0),
	    0);
	assert_int_equal(s.n, 1);
	timeline_summarize(&s.tl[0], &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_QUEUE);
	timeline_table_free(t);
}

static void test_unknown_verdict_when_trace_stops_midway(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 4);
	struct test_pkt p;
	struct tl_summary sum;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 80, 0x02);
	own_start(t, 10, &p, 0);
	add(t, test_with_pkt(test_rule(10, "filter", "input", 3, NFT_JUMP, "x"), &p, 2, 0), 0);
	timeline_flush(t);
	timeline_summarize(&s.tl[0], &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_UNKNOWN);
	assert_int_equal(sum.cause, -1);
	timeline_table_free(t);
}

static void test_own_table_of_other_family_is_not_ours(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 4);
	struct test_pkt p;
	struct trace_event ev;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 80, 0x02);
	ev = test_with_pkt(test_rule(11, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &p, 2, 0);
	ev.family = NFPROTO_IPV4;
	add(t, ev, 0);
	timeline_flush(t);
	assert_int_equal(s.n, 0);
	assert_int_equal(timeline_stats(t)->foreign, 1);
	assert_int_equal(timeline_stats(t)->own_events, 0);
	timeline_table_free(t);
}

static void test_flush_emits_in_order_of_activity(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 8);
	struct test_pkt p;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 80, 0x02);
	own_start(t, 1, &p, 0);
	own_start(t, 2, &p, 1);
	own_start(t, 3, &p, 2);
	timeline_flush(t);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.tl[0].id, 1);
	assert_int_equal(s.tl[2].id, 3);
	assert_int_equal(s.why[2], TL_END_FLUSH);
	assert_int_equal(timeline_stats(t)->timelines, 3);
	timeline_table_free(t);
}

static void test_configured_event_cap_is_honoured(void **state)
{
	struct seen s;
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.max_steps = 5,
		.idle_ns = 80 * MS,
		.emit = record,
		.emit_ctx = &s,
	};
	struct timeline_table *t;
	struct test_pkt p;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 80, 0x02);
	own_start(t, 5, &p, 0);
	for (int i = 0; i < 10; i++)
		add(t, test_rule(5, "filter", "input", 100 + i, NFT_CONTINUE, NULL), 0);
	add(t, test_rule(5, "filter", "input", 99, NF_DROP, NULL), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.tl[0].n_steps, 5);
	assert_int_equal(s.tl[0].steps_dropped, 6); /* own chain events are not steps */
	/* first two, then the last three in order: 108, 109, the drop */
	assert_int_equal(s.tl[0].gap_at, 2);
	assert_int_equal(s.tl[0].steps[0].handle, 100);
	assert_int_equal(s.tl[0].steps[1].handle, 101);
	assert_int_equal(s.tl[0].steps[2].handle, 108);
	assert_int_equal(s.tl[0].steps[3].handle, 109);
	assert_int_equal(s.tl[0].steps[4].handle, 99);
	assert_false(timeline_complete(&s.tl[0]));
	{
		struct tl_summary sum;

		timeline_summarize(&s.tl[0], &sum);
		assert_int_equal(sum.verdict, TL_VERDICT_DROP);
		assert_int_equal(sum.cause, 4);
	}
	timeline_table_free(t);
}

/*
 * A slot used again starts its ring of last events afresh: a packet that
 * outgrew the cap before must not shift the next one's kept tail.
 */
static void test_reused_slot_keeps_the_last_events_in_order(void **state)
{
	struct seen s;
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 1, /* every packet gets the same slot */
		.max_steps = 5,
		.idle_ns = 80 * MS,
		.emit = record,
		.emit_ctx = &s,
	};
	struct timeline_table *t;
	struct test_pkt p;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 80, 0x02);
	for (uint32_t id = 1; id <= 2; id++) {
		/*
		 * 9 rules and a drop, then 5 and a drop: the second packet
		 * overwrites one of its last three, which must be the oldest.
		 */
		unsigned int rules = id == 1 ? 9 : 5;

		own_start(t, id, &p, 0);
		for (unsigned int i = 0; i < rules; i++)
			add(t, test_rule(id, "filter", "input", 100 + i, NFT_CONTINUE, NULL), 0);
		add(t, test_rule(id, "filter", "input", 99, NF_DROP, NULL), 0);
	}
	assert_int_equal(s.n, 2);
	assert_int_equal(s.tl[0].steps_dropped, 5);
	assert_int_equal(s.tl[1].steps_dropped, 1);
	for (unsigned int k = 0; k < 2; k++) {
		const struct timeline *tl = &s.tl[k];
		uint64_t last = k == 0 ? 108 : 104; /* the last counter rule */

		assert_int_equal(tl->n_steps, 5);
		assert_int_equal(tl->gap_at, 2);
		assert_int_equal(tl->steps[0].handle, 100);
		assert_int_equal(tl->steps[1].handle, 101);
		assert_int_equal(tl->steps[2].handle, last - 1);
		assert_int_equal(tl->steps[3].handle, last);
		assert_int_equal(tl->steps[4].handle, 99);
	}
	timeline_table_free(t);
}

/*
 * The kernel sends the mark with every event, as it is after the event's
 * rule. A chain's entry mark is the previous event's; the change belongs
 * to the event that first shows it, a policy too (a rule's statement ran,
 * then the rule did not match).
 */
static void test_mark_on_entry_is_the_previous_events(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 4);
	struct test_pkt p;
	struct trace_event ev;
	uint32_t from;
	bool known;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 80, 0x02);
	/* arrived with mark 5 */
	ev = test_with_pkt(test_rule(1, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &p, 2, 0);
	ev.present |= TRACE_HAS_MARK;
	ev.mark = 5;
	add(t, ev, 0);
	/* mangle's first rule sets 7 */
	ev = test_with_pkt(test_rule(1, "mangle", "pre", 3, NFT_CONTINUE, NULL), &p, 2, 0);
	ev.present |= TRACE_HAS_MARK;
	ev.mark = 7;
	add(t, ev, 0);
	/* mark cleared by a rule that then did not match: seen at the policy */
	ev = test_policy(1, "mangle", "pre", NF_ACCEPT);
	add(t, ev, 0);
	ev = test_with_pkt(test_rule(1, "filter", "input", 4, NF_DROP, NULL), &p, 2, 0);
	add(t, ev, 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.tl[0].n_steps, 3);
	/* the packet as first seen, and mangle's entry: mark 5 */
	assert_int_equal(s.tl[0].hdrs[0].mark, 5);
	assert_true(s.tl[0].hdrs[0].present & TRACE_HAS_MARK);
	assert_int_equal(s.tl[0].hdrs[s.tl[0].steps[0].hdr].mark, 5);
	assert_true(timeline_mark_change(&s.tl[0], 0, &from, &known));
	assert_true(known);
	assert_int_equal(from, 5);
	assert_int_equal(s.tl[0].steps[0].mark, 7);
	assert_true(timeline_mark_change(&s.tl[0], 1, &from, &known));
	assert_int_equal(from, 7);
	assert_int_equal(s.tl[0].steps[1].mark, 0);
	/* filter input entered unmarked, and its drop changed nothing */
	assert_int_equal(s.tl[0].hdrs[s.tl[0].steps[2].hdr].mark, 0);
	assert_false(s.tl[0].hdrs[s.tl[0].steps[2].hdr].present & TRACE_HAS_MARK);
	assert_false(timeline_mark_change(&s.tl[0], 2, &from, &known));
	timeline_table_free(t);
}

/*
 * After an overrun report, packets seen before the socket is empty may
 * miss events even if they end with a verdict; packets after it do not.
 */
static void test_overrun_window_marks_packets_until_socket_empty(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 8);
	struct test_pkt p;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 80, 0x02);
	own_start(t, 1, &p, 0); /* in flight at the report */
	timeline_loss_begin(t);
	own_start(t, 2, &p, 0); /* read after the report */
	add(t, test_rule(2, "filter", "input", 7, NF_DROP, NULL), 0);
	timeline_loss_end(t);
	own_start(t, 3, &p, 0); /* after the socket was empty */
	add(t, test_rule(3, "filter", "input", 7, NF_DROP, NULL), 0);
	add(t, test_rule(1, "filter", "input", 7, NF_DROP, NULL), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.tl[0].id, 2);
	assert_false(timeline_complete(&s.tl[0]));
	assert_int_equal(s.tl[1].id, 3);
	assert_true(timeline_complete(&s.tl[1]));
	assert_int_equal(s.tl[2].id, 1);
	assert_false(timeline_complete(&s.tl[2]));
	/* a second end without a begin changes nothing */
	timeline_loss_end(t);
	timeline_table_free(t);
}

static void test_bad_config_refused(void **state)
{
	struct timeline_config cfg = { .max_inflight = 0, .emit = record };
	struct timeline_table *t = NULL;

	(void)state;
	assert_int_equal(timeline_table_new(&cfg, &t), -EINVAL);
	cfg.max_inflight = 4;
	cfg.max_steps = TIMELINE_STEPS_CEILING + 1;
	assert_int_equal(timeline_table_new(&cfg, &t), -EINVAL);
	cfg.max_steps = 0;
	cfg.emit = NULL;
	assert_int_equal(timeline_table_new(&cfg, &t), -EINVAL);
	assert_null(timeline_table_free(NULL));
}

static void set_ip_id(struct test_pkt *p, uint16_t id)
{
	p->nh[4] = id >> 8;
	p->nh[5] = id & 0xff;
}

/*
 * A bridged packet (br_netfilter) gets a new trace id between prerouting
 * and forward: the two halves are one packet, one timeline.
 */
static void test_trace_id_change_joins_one_packet(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 16);
	struct test_pkt in, fwd, other;
	struct tl_summary sum;

	(void)state;
	test_ipv4_tcp(&in, "192.0.2.2", 40000, "198.51.100.2", 80, 0x02);
	test_ipv4_tcp(&fwd, "192.0.2.2", 40000, "198.51.100.2", 80, 0x02);
	test_ipv4_tcp(&other, "192.0.2.2", 40000, "198.51.100.2", 80, 0x02);
	set_ip_id(&in, 4242);
	set_ip_id(&fwd, 4242);
	set_ip_id(&other, 4243); /* the next packet of the flow */
	own_start(t, 0xa, &in, 0);
	add(t, test_with_pkt(test_policy(0xa, "filter", "PREROUTING", NF_ACCEPT), &in, 5, 0), 1);
	/* a different packet under another id is not joined */
	add(t,
	    test_with_pkt(test_rule(0xc, "filter", "FORWARD", 7, NFT_JUMP, "DOCKER-USER"), &other,
			  5, 6),
	    2);
	add(t,
	    test_with_pkt(test_rule(0xb, "filter", "FORWARD", 7, NFT_JUMP, "DOCKER-USER"), &fwd, 5,
			  6),
	    2);
	add(t, test_rule(0xb, "filter", "DOCKER-USER", 0, NFT_CONTINUE, NULL), 2);
	add(t, test_rule(0xb, "filter", "FORWARD", 9, NF_ACCEPT, NULL), 2);
	add(t, test_with_pkt(test_policy(0xb, "nat", "POSTROUTING", NF_ACCEPT), &fwd, 0, 6), 3);
	timeline_flush(t);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.tl[0].n_ids, 2);
	assert_int_equal(s.tl[0].ids[0], 0xa);
	assert_int_equal(s.tl[0].ids[1], 0xb);
	assert_int_equal(s.tl[0].n_steps, 5);
	assert_true(timeline_complete(&s.tl[0]));
	timeline_summarize(&s.tl[0], &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_ACCEPT);
	assert_string_equal(s.tl[0].steps[sum.cause].chain, "POSTROUTING");
	assert_int_equal(timeline_stats(t)->joined, 1);
	/* 0xc matched nothing of ours and was never selected by our rule */
	assert_int_equal(timeline_stats(t)->foreign, 1);
	timeline_table_free(t);
}

/* An unmatched id after an accept: the accept may not be the end. */
static void test_unjoined_id_after_accept_is_marked(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 16);
	struct test_pkt in, other;

	(void)state;
	test_ipv4_tcp(&in, "192.0.2.2", 40000, "198.51.100.2", 80, 0x02);
	test_ipv4_tcp(&other, "192.0.2.9", 1, "198.51.100.2", 80, 0x02);
	own_start(t, 0xa, &in, 0);
	add(t, test_with_pkt(test_policy(0xa, "filter", "PREROUTING", NF_ACCEPT), &in, 5, 0), 1);
	add(t, test_with_pkt(test_rule(0xb, "filter", "FORWARD", 7, NF_ACCEPT, NULL), &other, 5, 6),
	    2);
	timeline_flush(t);
	assert_int_equal(s.n, 1);
	assert_true(s.tl[0].unjoined_after);
	timeline_table_free(t);
}

/* Events lost while in flight: the last accept seen is not a verdict. */
static void test_accept_with_lost_events_is_unknown(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 16);
	struct test_pkt p;
	struct tl_summary sum;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 22, 0x02);
	own_start(t, 3, &p, 0);
	add(t, test_with_pkt(test_policy(3, "firewalld", "filter_PREROUTING", NF_ACCEPT), &p, 2, 0),
	    0);
	timeline_mark_lossy(t);
	timeline_flush(t);
	assert_int_equal(s.n, 1);
	timeline_summarize(&s.tl[0], &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_UNKNOWN);
	assert_int_equal(sum.cause, -1);
	assert_int_equal(sum.last_seen, 0);
	timeline_table_free(t);
}

/* Past TIMELINE_MAX_HDRS base chain entries the latest one is kept. */
static void test_base_chain_bound_keeps_the_latest(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 4);
	struct test_pkt p;
	char names[TIMELINE_MAX_HDRS + 8][16];
	struct tl_summary sum;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 22, 0x02);
	own_start(t, 3, &p, 0);
	for (int i = 0; i < TIMELINE_MAX_HDRS + 8; i++) {
		snprintf(names[i], sizeof(names[i]), "chain%d", i);
		add(t,
		    test_with_pkt(test_policy(3, "filter", names[i],
					      i == TIMELINE_MAX_HDRS + 7 ? NF_DROP : NF_ACCEPT),
				  &p, 2, 0),
		    0);
	}
	assert_int_equal(s.n, 1);
	assert_int_equal(s.tl[0].n_hdrs, TIMELINE_MAX_HDRS);
	/* our own chain's entry was the first; 9 entries did not fit */
	assert_int_equal(s.tl[0].hdrs_dropped, 9);
	assert_string_equal(s.tl[0].hdrs[TIMELINE_MAX_HDRS - 1].chain, "chain39");
	assert_false(timeline_complete(&s.tl[0]));
	timeline_summarize(&s.tl[0], &sum);
	assert_int_equal(sum.verdict, TL_VERDICT_DROP);
	assert_string_equal(s.tl[0].steps[sum.cause].chain, "chain39");
	assert_non_null(timeline_entry_hdr(&s.tl[0], sum.cause));
	assert_int_equal(timeline_stats(t)->hdrs_dropped, 9);
	timeline_table_free(t);
}

static bool postrouting_is_last(void *ctx, uint8_t family, const char *table, const char *chain,
				bool first_packet)
{
	(void)ctx;
	(void)family;
	(void)first_packet;
	return strcmp(table, "nat") == 0 && strcmp(chain, "postrouting") == 0;
}

/*
 * An accept in the last chain of the last hook ends the timeline at once:
 * accepted floods do not wait out the idle time in the table.
 */
static void test_final_accept_ends_at_once_unless_looped_back(void **state)
{
	struct seen s;
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.idle_ns = 80 * MS,
		.emit = record,
		.emit_ctx = &s,
		.final_accept = postrouting_is_last,
	};
	struct timeline_table *t;
	struct trace_event ev;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	dnat_then_accept(t, 0x11, 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.why[0], TL_END_ACCEPTED);
	assert_true(timeline_complete(&s.tl[0]));
	assert_int_equal(timeline_inflight(t), 0);
	/* accepted in forward: postrouting is still to come */
	{
		struct test_pkt in;

		test_ipv4_tcp(&in, "198.51.100.2", 1, "198.51.100.1", 22, 0x02);
		own_start(t, 0x12, &in, 0);
		add(t,
		    test_with_pkt(test_rule(0x12, "filter", "forward", 5, NF_ACCEPT, NULL), &in, 2,
				  3),
		    0);
		assert_int_equal(s.n, 1);
		/* out through loopback: it comes back under a new id */
		ev = test_with_pkt(test_policy(0x12, "nat", "postrouting", NF_ACCEPT), &in, 0, 1);
		ev.present |= TRACE_HAS_OIFTYPE;
		ev.oiftype = ARPHRD_LOOPBACK;
		add(t, ev, 0);
		assert_int_equal(s.n, 1);
		assert_int_equal(timeline_inflight(t), 1);
	}
	timeline_table_free(t);
}

/*
 * Several --hooks: our rule in a later trace chain selects the packet
 * again, and its counter counts it again; the chain's end is no selection.
 */
static void test_reselection_by_a_later_trace_chain_is_counted(void **state)
{
	struct seen s;
	struct timeline_table *t = table(&s, 4);
	struct test_pkt p;

	(void)state;
	test_ipv4_tcp(&p, "198.51.100.2", 1, "203.0.113.10", 22, 0x02);
	own_start(t, 4, &p, 0);
	add(t, test_rule(4, OWN, "trace_prerouting", 0, NFT_CONTINUE, NULL), 0);
	add(t, test_with_pkt(test_rule(4, OWN, "trace_forward", 3, NFT_CONTINUE, NULL), &p, 2, 3),
	    0);
	add(t, test_rule(4, OWN, "trace_forward", 0, NFT_CONTINUE, NULL), 0);
	add(t, test_with_pkt(test_policy(4, "filter", "forward", NF_ACCEPT), &p, 2, 3), 0);
	timeline_flush(t);
	assert_int_equal(s.n, 1);
	assert_int_equal(timeline_stats(t)->reselected, 1);
	timeline_table_free(t);
}

/* What a name-churn test sees of each timeline. */
struct churn {
	unsigned int n, lost, lost_but_complete, wrong;
	char want[32];
};

static void churn_record(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	struct churn *c = ctx;

	(void)why;
	c->n++;
	if (strcmp(tl->steps[0].chain, "?") == 0) {
		c->lost++;
		if (timeline_complete(tl))
			c->lost_but_complete++;
	} else if (strcmp(tl->steps[0].chain, c->want) != 0) {
		c->wrong++;
	}
}

/*
 * A long run with churning chain names never runs out of names: the pool
 * is recycled, and a timeline whose name did not fit is incomplete.
 */
static void test_name_pool_recycles_and_marks_lost_names(void **state)
{
	struct churn c = {};
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = churn_record,
		.emit_ctx = &c,
	};
	struct timeline_table *t;
	struct test_pkt p;
	const unsigned int rounds = 3 * STRPOOL_MAX + 100;

	(void)state;
	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	test_ipv4_tcp(&p, "198.51.100.2", 1, "198.51.100.1", 22, 0x02);
	for (unsigned int i = 0; i < rounds; i++) {
		snprintf(c.want, sizeof(c.want), "chain%u", i);
		own_start(t, i, &p, i);
		add(t, test_with_pkt(test_policy(i, "filter", c.want, NF_DROP), &p, 2, 0), i);
	}
	assert_int_equal(c.n, rounds);
	assert_int_equal(c.wrong, 0);
	assert_int_equal(c.lost_but_complete, 0);
	/* one timeline per refill meets the full pool: at most one per round */
	assert_true(c.lost <= 4);
	assert_int_equal(timeline_stats(t)->names_dropped, c.lost);
	timeline_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_ends_timeline_at_once_with_cause),
		cmocka_unit_test(test_accept_ends_on_idle_only),
		cmocka_unit_test(test_trace_id_reuse_starts_new_timeline),
		cmocka_unit_test(test_interleaved_events_of_two_cpus_stay_apart),
		cmocka_unit_test(test_packet_not_selected_by_us_is_foreign),
		cmocka_unit_test(test_lost_start_is_emitted_incomplete),
		cmocka_unit_test(test_trace_id_change_joins_one_packet),
		cmocka_unit_test(test_unjoined_id_after_accept_is_marked),
		cmocka_unit_test(test_accept_with_lost_events_is_unknown),
		cmocka_unit_test(test_base_chain_bound_keeps_the_latest),
		cmocka_unit_test(test_name_pool_recycles_and_marks_lost_names),
		cmocka_unit_test(test_reselection_by_a_later_trace_chain_is_counted),
		cmocka_unit_test(test_final_accept_ends_at_once_unless_looped_back),
		cmocka_unit_test(test_full_table_evicts_oldest_as_incomplete),
		cmocka_unit_test(test_too_many_events_truncate_and_count),
		cmocka_unit_test(test_lost_events_mark_inflight_incomplete),
		cmocka_unit_test(test_policy_drop_is_final),
		cmocka_unit_test(test_path_forgets_chains_that_returned),
		cmocka_unit_test(test_queue_verdict_with_number_is_final),
		cmocka_unit_test(test_unknown_verdict_when_trace_stops_midway),
		cmocka_unit_test(test_own_table_of_other_family_is_not_ours),
		cmocka_unit_test(test_flush_emits_in_order_of_activity),
		cmocka_unit_test(test_configured_event_cap_is_honoured),
		cmocka_unit_test(test_reused_slot_keeps_the_last_events_in_order),
		cmocka_unit_test(test_mark_on_entry_is_the_previous_events),
		cmocka_unit_test(test_overrun_window_marks_packets_until_socket_empty),
		cmocka_unit_test(test_bad_config_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
