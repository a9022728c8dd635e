/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "follow.h"
#include "options.h"

#define SEC	1000000000ull
#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define TCP_FIN 0x01
#define TCP_RST 0x04

struct ended {
	uint32_t ids[16];
	enum follow_end why[16];
	bool reply[16];
	char text[16][64];
	unsigned int n;
};

static void on_end(void *ctx, const struct follow_conn *c, enum follow_end why)
{
	struct ended *e = ctx;

	assert_true(e->n < 16);
	e->ids[e->n] = c->ct_id;
	e->why[e->n] = why;
	e->reply[e->n] = follow_reply_seen(c);
	snprintf(e->text[e->n], sizeof(e->text[0]), "%.*s", (int)c->text_len,
		 c->text ? c->text : "");
	e->n++;
}

static struct follow_table *table(unsigned int max, unsigned int packets)
{
	struct follow_config cfg = { .max = max, .packets = packets, .timeout_ns = 3 * SEC };
	struct follow_table *t = NULL;

	assert_int_equal(follow_table_new(&cfg, &t), 0);
	return t;
}

static void test_bad_config_is_refused(void **state)
{
	struct follow_config cfg = { .max = 0, .packets = 8, .timeout_ns = SEC };
	struct follow_table *t = NULL;

	(void)state;
	assert_int_equal(follow_table_new(&cfg, &t), -EINVAL);
	cfg.max = 4;
	cfg.packets = 0;
	assert_int_equal(follow_table_new(&cfg, &t), -EINVAL);
	assert_null(follow_table_free(NULL));
}

static void test_no_reply_within_time_limit_ends_without_reply(void **state)
{
	struct follow_table *t = table(4, 8);
	struct ended e = {};
	struct follow_conn *c;

	(void)state;
	c = follow_start(t, 77, 10 * SEC);
	assert_non_null(c);
	assert_false(follow_packet(t, c, FOLLOW_DIR_ORIGINAL, TCP_SYN));
	assert_int_equal(follow_next_expiry(t, 11 * SEC), 2 * SEC);
	follow_expire(t, 12 * SEC, on_end, &e);
	assert_int_equal(e.n, 0);
	follow_expire(t, 13 * SEC, on_end, &e);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ids[0], 77);
	assert_int_equal(e.why[0], FOLLOW_END_TIMEOUT);
	assert_false(e.reply[0]);
	assert_int_equal(follow_stats(t)->no_reply, 1);
	assert_int_equal(follow_count(t), 0);
	assert_int_equal(follow_next_expiry(t, 13 * SEC), -1);
	follow_table_free(t);
}

static void test_reply_is_noted(void **state)
{
	struct follow_table *t = table(4, 8);
	struct ended e = {};
	struct follow_conn *c = follow_start(t, 5, 0);

	(void)state;
	follow_packet(t, c, FOLLOW_DIR_ORIGINAL, TCP_SYN);
	follow_packet(t, c, FOLLOW_DIR_REPLY, TCP_SYN | TCP_ACK);
	assert_int_equal(c->packets, 2);
	assert_int_equal(c->replies, 1);
	follow_flush(t, on_end, &e);
	assert_int_equal(e.n, 1);
	assert_true(e.reply[0]);
	assert_int_equal(e.why[0], FOLLOW_END_FLUSH);
	assert_int_equal(follow_stats(t)->no_reply, 0);
	follow_table_free(t);
}

static void test_packet_bound_ends_connection(void **state)
{
	struct follow_table *t = table(4, 3);
	struct follow_conn *c = follow_start(t, 9, 0);

	(void)state;
	assert_false(follow_packet(t, c, FOLLOW_DIR_ORIGINAL, TCP_SYN));
	assert_false(follow_packet(t, c, FOLLOW_DIR_REPLY, TCP_SYN | TCP_ACK));
	assert_true(follow_packet(t, c, FOLLOW_DIR_ORIGINAL, TCP_ACK));
	assert_int_equal(follow_done_reason(c), FOLLOW_END_PACKETS);
	follow_end(t, c, FOLLOW_END_PACKETS, NULL, NULL);
	assert_null(follow_find(t, 9));
	follow_table_free(t);
}

static void test_closed_connection_waits_for_packets_in_flight(void **state)
{
	struct follow_table *t = table(4, 2);
	struct follow_conn *a = follow_start(t, 1, 0), *b = follow_start(t, 2, 0);
	struct ended e = {};

	(void)state;
	assert_false(follow_packet(t, a, FOLLOW_DIR_ORIGINAL, TCP_SYN));
	assert_true(follow_packet(t, a, FOLLOW_DIR_ORIGINAL, TCP_FIN | TCP_ACK));
	follow_close(t, a, follow_done_reason(a), SEC / 4);
	/* the SYN/ACK's timeline ends after the bound was reached: it counts */
	assert_false(follow_packet(t, a, FOLLOW_DIR_REPLY, TCP_SYN | TCP_ACK));
	assert_int_equal(a->replies, 1);
	assert_int_equal(follow_next_expiry(t, 0), SEC / 4);
	follow_expire(t, SEC / 4, on_end, &e);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ids[0], 1);
	assert_int_equal(e.why[0], FOLLOW_END_PACKETS);
	assert_true(e.reply[0]);
	/* the other one ends at its time limit, after */
	assert_non_null(follow_find(t, 2));
	assert_int_equal(follow_next_expiry(t, SEC), 2 * SEC);
	follow_close(t, b, FOLLOW_END_CLOSED, 4 * SEC);
	follow_flush(t, on_end, &e);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.why[1], FOLLOW_END_CLOSED);
	assert_int_equal(follow_count(t), 0);
	follow_table_free(t);
}

/*
 * At its packet bound the kernel's element stays (its packet limit spent)
 * until the time limit, so that a connection still new is not added again:
 * the slot stays taken as long, and a new connection past --follow-max is
 * counted as full, as the kernel's set refuses it.
 */
static void test_packet_bound_keeps_slot_until_time_limit(void **state)
{
	struct follow_table *t = table(1, 2);
	struct follow_conn *c = follow_start(t, 9, 0);
	struct ended e = {};

	(void)state;
	follow_packet(t, c, FOLLOW_DIR_ORIGINAL, 0);
	assert_true(follow_packet(t, c, FOLLOW_DIR_ORIGINAL, 0));
	follow_close(t, c, follow_done_reason(c), SEC / 4);
	follow_expire(t, SEC / 4, on_end, &e);
	/* the record is written at once, the connection is over */
	assert_int_equal(e.n, 1);
	assert_int_equal(e.why[0], FOLLOW_END_PACKETS);
	assert_null(follow_find(t, 9));
	assert_true(follow_ended_recently(t, 9));
	/* but its element holds the set's only place until 3 s */
	assert_int_equal(follow_count(t), 1);
	assert_null(follow_start(t, 10, SEC));
	assert_int_equal(follow_stats(t)->full, 1);
	assert_int_equal(follow_next_expiry(t, SEC), 2 * SEC);
	follow_expire(t, 3 * SEC, on_end, &e);
	assert_int_equal(e.n, 1); /* no second record */
	assert_int_equal(follow_count(t), 0);
	assert_non_null(follow_start(t, 10, 3 * SEC));
	/* a connection closed by RST or FIN gives its place back with its record */
	c = follow_find(t, 10);
	assert_true(follow_packet(t, c, FOLLOW_DIR_REPLY, TCP_RST));
	follow_close(t, c, follow_done_reason(c), 3 * SEC + SEC / 4);
	follow_expire(t, 3 * SEC + SEC / 4, on_end, &e);
	assert_int_equal(e.n, 2);
	assert_int_equal(follow_count(t), 0);
	/* flush: a lingering slot goes without a record */
	c = follow_start(t, 11, 4 * SEC);
	follow_packet(t, c, FOLLOW_DIR_ORIGINAL, 0);
	follow_packet(t, c, FOLLOW_DIR_ORIGINAL, 0);
	follow_close(t, c, FOLLOW_END_PACKETS, 4 * SEC);
	follow_expire(t, 4 * SEC, on_end, &e);
	assert_int_equal(e.n, 3);
	follow_flush(t, on_end, &e);
	assert_int_equal(e.n, 3);
	assert_int_equal(follow_count(t), 0);
	follow_table_free(t);
}

static void test_rst_or_fin_both_ways_closes(void **state)
{
	struct follow_table *t = table(4, 100);
	struct follow_conn *a = follow_start(t, 1, 0), *b = follow_start(t, 2, 0);

	(void)state;
	assert_true(follow_packet(t, a, FOLLOW_DIR_REPLY, TCP_RST));
	assert_int_equal(follow_done_reason(a), FOLLOW_END_CLOSED);
	assert_false(follow_packet(t, b, FOLLOW_DIR_ORIGINAL, TCP_FIN | TCP_ACK));
	assert_false(follow_packet(t, b, FOLLOW_DIR_ORIGINAL, TCP_FIN | TCP_ACK));
	assert_true(follow_packet(t, b, FOLLOW_DIR_REPLY, TCP_FIN | TCP_ACK));
	assert_int_equal(follow_done_reason(b), FOLLOW_END_CLOSED);
	follow_table_free(t);
}

static void test_full_table_counts_and_refuses(void **state)
{
	struct follow_table *t = table(2, 8);
	struct ended e = {};

	(void)state;
	assert_non_null(follow_start(t, 1, 0));
	assert_non_null(follow_start(t, 2, SEC));
	assert_null(follow_start(t, 2, SEC)); /* followed already: not counted */
	assert_int_equal(follow_stats(t)->full, 0);
	assert_null(follow_start(t, 3, SEC));
	assert_int_equal(follow_stats(t)->full, 1);
	/* the oldest ends first, and its slot serves again */
	follow_expire(t, 3 * SEC, on_end, &e);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ids[0], 1);
	assert_non_null(follow_start(t, 3, 3 * SEC));
	assert_non_null(follow_find(t, 2));
	assert_non_null(follow_find(t, 3));
	assert_null(follow_find(t, 1));
	assert_int_equal(follow_stats(t)->followed, 3);
	follow_table_free(t);
}

static void test_ending_a_middle_connection_keeps_order(void **state)
{
	struct follow_table *t = table(8, 8);
	struct ended e = {};

	(void)state;
	for (uint32_t i = 1; i <= 4; i++)
		follow_start(t, i, i * SEC);
	follow_end(t, follow_find(t, 2), FOLLOW_END_PACKETS, NULL, NULL);
	follow_expire(t, 100 * SEC, on_end, &e);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.ids[0], 1);
	assert_int_equal(e.ids[1], 3);
	assert_int_equal(e.ids[2], 4);
	follow_table_free(t);
}

static void test_text_is_kept_and_bounded(void **state)
{
	struct follow_table *t = table(2, 8);
	struct follow_conn *c = follow_start(t, 1, 0);
	struct ended e = {};
	char *big = calloc(1, FOLLOW_TEXT_MAX + 1);

	(void)state;
	assert_non_null(big);
	assert_int_equal(follow_keep_text(t, c, "syn\n", 4), 0);
	assert_int_equal(follow_keep_text(t, c, "syn-ack\n", 8), 0);
	assert_int_equal(follow_keep_text(t, c, big, FOLLOW_TEXT_MAX), -ENOSPC);
	assert_true(c->text_overflow);
	follow_flush(t, on_end, &e);
	assert_string_equal(e.text[0], "syn\nsyn-ack\n");
	free(big);
	follow_table_free(t);
}

static void test_ended_connection_is_remembered(void **state)
{
	struct follow_table *t = table(2, 8);

	(void)state;
	follow_end(t, follow_start(t, 40, 0), FOLLOW_END_PACKETS, NULL, NULL);
	assert_true(follow_ended_recently(t, 40));
	follow_refuse(t, 41);
	assert_true(follow_ended_recently(t, 41));
	assert_false(follow_ended_recently(t, 42));
	/* a ring: the oldest are forgotten */
	for (uint32_t i = 100; i < 100 + FOLLOW_ENDED_RING; i++)
		follow_refuse(t, i);
	assert_false(follow_ended_recently(t, 40));
	assert_true(follow_ended_recently(t, 100));
	follow_table_free(t);
}

static void test_missed_connection_counts_once(void **state)
{
	struct follow_table *t = table(1, 8);

	(void)state;
	follow_start(t, 1, 0);
	follow_missed(t, 2);
	follow_missed(t, 2); /* its retransmitted SYN */
	follow_missed(t, 1); /* followed: not missed */
	assert_int_equal(follow_stats(t)->full, 1);
	follow_table_free(t);
}

/*
 * --follow runs only where trace events carry the conntrack id. The
 * kernel's answer to the probe decides; the release only without one.
 */
static void test_kernel_without_ct_id_refuses_follow(void **state)
{
	(void)state;
	/* the probe's event carried the id: runs, whatever the release says */
	assert_true(follow_kernel_ok(1, true));
	assert_true(follow_kernel_ok(1, false)); /* a backport to an older release */
	/* it had a conntrack entry but no id: refused, even on a 6.16 release */
	assert_false(follow_kernel_ok(0, true));
	assert_false(follow_kernel_ok(0, false));
	/* no answer (no local route, a raw rule dropped the probe): the release */
	assert_true(follow_kernel_ok(-ENETUNREACH, true));
	assert_false(follow_kernel_ok(-ETIMEDOUT, false));
}

static int parse(struct options *o, char **argv)
{
	char err[256];
	int argc = 0;

	while (argv[argc])
		argc++;
	return options_parse(argc, argv, o, err, sizeof(err));
}

static void test_follow_options_defaults_and_bounds(void **state)
{
	char *plain[] = { "nattraced", "-m", "tcp dport 22", NULL };
	char *all[] = { "nattraced",
			"-m",
			"tcp dport 22",
			"--follow",
			"--follow-packets",
			"3",
			"--follow-timeout",
			"0.5",
			"--follow-max",
			"10",
			NULL };
	char *bad_packets[] = { "nattraced", "-m", "x", "--follow-packets", "0", NULL };
	char *bad_timeout[] = { "nattraced", "-m", "x", "--follow-timeout", "0.05", NULL };
	char *bad_max[] = { "nattraced", "-m", "x", "--follow-max", "65537", NULL };
	struct options o;

	(void)state;
	assert_int_equal(parse(&o, plain), 0);
	assert_false(o.follow);
	assert_int_equal(o.follow_packets, OPTIONS_FOLLOW_PACKETS_DEFAULT);
	assert_true(o.follow_timeout == OPTIONS_FOLLOW_TIMEOUT_DEFAULT);
	assert_int_equal(o.follow_max, OPTIONS_FOLLOW_MAX_DEFAULT);
	assert_int_equal(parse(&o, all), 0);
	assert_true(o.follow);
	assert_int_equal(o.follow_packets, 3);
	assert_true(o.follow_timeout == 0.5);
	assert_int_equal(o.follow_max, 10);
	assert_int_equal(parse(&o, bad_packets), -EINVAL);
	assert_int_equal(parse(&o, bad_timeout), -EINVAL);
	assert_int_equal(parse(&o, bad_max), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_config_is_refused),
		cmocka_unit_test(test_no_reply_within_time_limit_ends_without_reply),
		cmocka_unit_test(test_reply_is_noted),
		cmocka_unit_test(test_packet_bound_ends_connection),
		cmocka_unit_test(test_packet_bound_keeps_slot_until_time_limit),
		cmocka_unit_test(test_rst_or_fin_both_ways_closes),
		cmocka_unit_test(test_closed_connection_waits_for_packets_in_flight),
		cmocka_unit_test(test_full_table_counts_and_refuses),
		cmocka_unit_test(test_ending_a_middle_connection_keeps_order),
		cmocka_unit_test(test_text_is_kept_and_bounded),
		cmocka_unit_test(test_ended_connection_is_remembered),
		cmocka_unit_test(test_missed_connection_counts_once),
		cmocka_unit_test(test_kernel_without_ct_id_refuses_follow),
		cmocka_unit_test(test_follow_options_defaults_and_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
