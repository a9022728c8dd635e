/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "stats.h"

static json_t *as_json(const struct capture_stats *st)
{
	struct jsonw w;
	json_t *o;

	jsonw_init(&w, NULL, 0);
	stats_json(&w, st);
	o = json_loads(jsonw_text(&w), 0, NULL);
	assert_non_null(o);
	jsonw_release(&w);
	return o;
}

static char *as_text(const struct capture_stats *st)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_int_equal(stats_text(f, st), 0);
	fclose(f);
	return text;
}

/* The account's one equation (stats.h). */
static void assert_balanced(const struct capture_stats *st)
{
	assert_true(st->selected_known);
	assert_int_equal(st->complete + st->incomplete + st->lost + st->in_flight, st->selected);
}

static void test_lost_is_selected_without_any_timeline(void **state)
{
	struct stats_input in = { .selected_known = true,
				  .selected = 1000,
				  .selected_last = 1000,
				  .printed = 990,
				  .in_flight = 4,
				  .enobufs = 2,
				  .queue_overruns = 3 };
	struct timeline_stats ts = { .timelines = 990, .incomplete = 7, .events = 5940 };
	struct capture_stats st;
	json_t *o;
	char *text;

	(void)state;
	stats_compute(&in, &ts, STATS_SIGNAL, &st);
	assert_int_equal(st.lost, 6);
	assert_int_equal(st.complete, 983);
	assert_int_equal(st.not_printed, 0);
	assert_balanced(&st);

	o = as_json(&st);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "stats");
	assert_string_equal(json_string_value(json_object_get(o, "reason")), "signal");
	assert_int_equal(json_integer_value(json_object_get(o, "selected")), 1000);
	assert_int_equal(json_integer_value(json_object_get(o, "lost")), 6);
	assert_int_equal(json_integer_value(json_object_get(o, "emitted")), 990);
	assert_int_equal(json_integer_value(json_object_get(o, "incomplete")), 7);
	assert_int_equal(json_integer_value(json_object_get(o, "enobufs")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "queue_overruns")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "in_flight")), 4);
	json_decref(o);

	text = as_text(&st);
	assert_non_null(strstr(text, "1000 packets selected, 6 lost"));
	assert_non_null(strstr(text, "990 timelines emitted (983 complete, 7 incomplete)"));
	assert_non_null(strstr(text, "2 receive overruns"));
	assert_non_null(strstr(text, "3 receive queue overruns"));
	assert_null(strstr(text, "limits hit"));
	free(text);
}

/* Selected after the counter was first read: more timelines than that. */
static void test_more_timelines_than_counted_is_not_a_loss(void **state)
{
	struct stats_input in = {
		.selected_known = true, .selected = 10, .selected_last = 15, .printed = 12
	};
	struct timeline_stats ts = { .timelines = 12 };
	struct capture_stats st;

	(void)state;
	stats_compute(&in, &ts, STATS_EXIT, &st);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.selected, 15);
	/* selected after the drain, events not read: on their way */
	assert_int_equal(st.in_flight, 3);
	assert_balanced(&st);
}

/*
 * Issue 19: under a 2,000-packet flood, --count 3 stopped with the
 * counter at 715, and the drain then grouped all 2,000: "715 selected"
 * beside 2,000 complete. Read last, the counter covers them all.
 */
static void test_count_stop_under_flood_balances(void **state)
{
	struct stats_input in = {
		.selected_known = true, .selected = 715, .selected_last = 2000, .printed = 3
	};
	struct timeline_stats ts = { .timelines = 2000, .incomplete = 0 };
	struct capture_stats st;
	char *text;

	(void)state;
	stats_compute(&in, &ts, STATS_EXIT, &st);
	assert_int_equal(st.selected, 2000);
	assert_int_equal(st.complete, 2000);
	assert_int_equal(st.not_printed, 1997);
	assert_balanced(&st);
	text = as_text(&st);
	assert_non_null(
		strstr(text, "2000 packets selected, 0 lost, 3 timelines emitted (2000 complete"));
	free(text);
}

/* Losses and packets still on their way, with a packet counted twice. */
static void test_loss_and_late_packets_balance(void **state)
{
	struct stats_input in = {
		.selected_known = true,
		.selected = 1010, /* 1,000 packets, one of them counted twice (+10 below) */
		.selected_last = 1501,
		.in_flight = 2,
	};
	struct timeline_stats ts = { .timelines = 900, .incomplete = 40, .reselected = 10 };
	struct capture_stats st;

	(void)state;
	stats_compute(&in, &ts, STATS_INTERVAL, &st);
	assert_int_equal(st.selected, 1491);
	assert_int_equal(st.lost, 98); /* 1000 - 900 - 2 */
	assert_int_equal(st.in_flight, 1491 - 900 - 98);
	assert_balanced(&st);
}

/* A counter that says less than the timelines (reset): they are surer. */
static void test_counter_below_timelines_still_balances(void **state)
{
	struct stats_input in = { .selected_known = true, .selected = 5, .selected_last = 3 };
	struct timeline_stats ts = { .timelines = 8, .incomplete = 1 };
	struct capture_stats st;

	(void)state;
	stats_compute(&in, &ts, STATS_EXIT, &st);
	assert_int_equal(st.selected, 8);
	assert_int_equal(st.lost, 0);
	assert_balanced(&st);
}

static void test_unknown_counter_gives_null_not_zero(void **state)
{
	struct stats_input in = { .printed = 3 };
	struct timeline_stats ts = { .timelines = 5, .evicted = 1, .steps_dropped = 2 };
	struct capture_stats st;
	json_t *o;
	char *text;

	(void)state;
	stats_compute(&in, &ts, STATS_EXIT, &st);
	assert_int_equal(st.not_printed, 2);
	o = as_json(&st);
	assert_true(json_is_null(json_object_get(o, "selected")));
	assert_true(json_is_null(json_object_get(o, "lost")));
	assert_int_equal(json_integer_value(json_object_get(o, "not_printed")), 2);
	assert_string_equal(json_string_value(json_object_get(o, "reason")), "exit");
	json_decref(o);
	text = as_text(&st);
	assert_non_null(strstr(text, "selected unknown"));
	assert_non_null(strstr(text, "2 not printed after --count"));
	assert_non_null(strstr(text, "limits hit: 1 timelines evicted, 2 events not kept"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_is_selected_without_any_timeline),
		cmocka_unit_test(test_more_timelines_than_counted_is_not_a_loss),
		cmocka_unit_test(test_count_stop_under_flood_balances),
		cmocka_unit_test(test_loss_and_late_packets_balance),
		cmocka_unit_test(test_counter_below_timelines_still_balances),
		cmocka_unit_test(test_unknown_counter_gives_null_not_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
