/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --summary (summary.h): a flood over a few paths is a few rows, keyed by
 * the path and not the addresses; the table's bound and "other"; the
 * table, the JSON record; the options.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <jansson.h>

#include "helpers.h"
#include "options.h"
#include "summary.h"

#define OWN "trace_debug"

static const char *fake_rule(void *ctx, uint8_t family, const char *table, const char *chain,
			     uint64_t handle, bool *ret_deleted)
{
	(void)ctx;
	(void)family;
	(void)table;
	(void)chain;
	*ret_deleted = false;
	return handle == 11 ? "udp dport 30002 drop" : "accept";
}

static const char *fake_hook(void *ctx, uint8_t family, const char *table, const char *chain)
{
	(void)ctx;
	(void)family;
	(void)table;
	return strcmp(chain, "input") == 0 ? "input" : NULL;
}

static const struct resolver resolver = {
	.rule = fake_rule,
	.hook = fake_hook,
};

static struct explain ex;

static void count(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	(void)why;
	explain_timeline(tl, &resolver, &ex);
	summary_count(ctx, tl, &ex);
}

static struct timeline_table *table(struct summary *s)
{
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = count,
		.emit_ctx = s,
	};
	struct timeline_table *t;

	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	return t;
}

/*
 * n packets from n different sources and ports: packet i goes to port
 * 30001 + i % 3: accepted by rule 10, dropped by rule 11, dropped by the
 * chain's policy.
 */
static void three_paths(struct summary *s, unsigned int n)
{
	struct timeline_table *t = table(s);
	struct trace_event ev;
	struct test_pkt p;
	char src[32];

	for (unsigned int i = 0; i < n; i++) {
		uint32_t id = 0x100 + i;
		unsigned int fate = i % 3;
		/* a second apart: an accepted packet's timeline ends by expiry */
		uint64_t now = (uint64_t)i * 1000000000ull;

		snprintf(src, sizeof(src), "198.51.100.%u", 2 + i % 200);
		timeline_expire(t, now);
		test_ipv4_tcp(&p, src, (uint16_t)(1024 + i % 60000), "203.0.113.1",
			      (uint16_t)(30001 + fate), 0x02);
		ev = test_with_pkt(test_rule(id, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL),
				   &p, 2, 0);
		timeline_add(t, &ev, now);
		if (fate == 2) {
			ev = test_with_pkt(test_rule(id, "filter", "input", 0, NFT_CONTINUE, NULL),
					   &p, 2, 0);
			ev.type = TRACE_TYPE_RETURN;
			timeline_add(t, &ev, now);
			ev = test_policy(id, "filter", "input", NF_DROP);
		} else {
			ev = test_with_pkt(test_rule(id, "filter", "input", 10 + fate,
						     fate ? NF_DROP : NF_ACCEPT, NULL),
					   &p, 2, 0);
		}
		timeline_add(t, &ev, now);
	}
	timeline_flush(t);
	timeline_table_free(t);
}

static const struct summary_row *row_of(const struct summary_view *v, const char *handle)
{
	for (unsigned int i = 0; i < v->n; i++)
		if (!strcmp(v->rows[i]->handle, handle))
			return v->rows[i];
	return NULL;
}

static char *render_text(const struct summary_view *v)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_int_equal(summary_text(f, v, "exit"), 0);
	fclose(f);
	return text;
}

static void test_flood_over_three_paths(void **state)
{
	struct summary *s;
	struct summary_view v;
	const struct summary_row *r;
	uint64_t sum = 0;

	(void)state;
	assert_int_equal(summary_new(&s), 0);
	three_paths(s, 50000);
	summary_view(s, &v);
	if (getenv("SUMMARY_DEBUG")) {
		char *t = render_text(&v);
		fputs(t, stderr);
		free(t);
	}
	assert_int_equal(v.timelines, 50000);
	assert_int_equal(v.paths, 3);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.other_count, 0);
	for (unsigned int i = 0; i < v.n; i++)
		sum += v.rows[i]->count;
	assert_int_equal(sum, 50000);
	/* 16667 of the first fate, 16667 and 16666 of the others: sorted by count */
	assert_true(v.rows[0]->count >= v.rows[1]->count && v.rows[1]->count >= v.rows[2]->count);
	r = row_of(&v, "10");
	assert_non_null(r);
	assert_string_equal(r->verdict, "accept");
	assert_int_equal(r->count, 16667);
	r = row_of(&v, "11");
	assert_non_null(r);
	assert_string_equal(r->verdict, "drop");
	assert_string_equal(r->table, "filter");
	assert_string_equal(r->chain, "input");
	assert_string_equal(r->hook, "input");
	assert_string_equal(r->hooks, "prerouting,input");
	assert_string_equal(r->rule, "udp dport 30002 drop");
	/* the example is the path's first packet */
	assert_string_equal(r->proto, "tcp");
	assert_string_equal(r->src, "198.51.100.3:1025");
	assert_string_equal(r->dst, "203.0.113.1:30002");
	r = row_of(&v, "policy");
	assert_non_null(r);
	assert_string_equal(r->verdict, "drop");
	assert_int_equal(r->count, 16666);
	summary_free(s);
}

/* Paths past SUMMARY_MAX_PATHS and rows past SUMMARY_MAX_ROWS are "other". */
static void test_bound(void **state)
{
	struct timeline_table *t;
	struct summary *s;
	struct summary_view v;
	struct trace_event ev;
	struct test_pkt p;
	unsigned int paths = SUMMARY_MAX_PATHS + 476, n = 3 * paths;
	uint64_t sum = 0;

	(void)state;
	assert_int_equal(summary_new(&s), 0);
	t = table(s);
	test_ipv4_tcp(&p, "198.51.100.2", 4000, "203.0.113.1", 22, 0x02);
	/* rule 1000 + i % paths; the first one three times more */
	for (unsigned int i = 0; i < n; i++) {
		uint64_t handle = i < 10 ? 1000 : 1000 + i % paths;

		ev = test_with_pkt(
			test_rule(0x100 + i, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &p, 2,
			0);
		timeline_add(t, &ev, 0);
		ev = test_with_pkt(test_rule(0x100 + i, "filter", "input", handle, NF_DROP, NULL),
				   &p, 2, 0);
		timeline_add(t, &ev, 0);
	}
	timeline_flush(t);
	timeline_table_free(t);
	summary_view(s, &v);
	assert_int_equal(v.timelines, n);
	assert_int_equal(v.paths, SUMMARY_MAX_PATHS);
	assert_true(v.table_full);
	assert_int_equal(v.n, SUMMARY_MAX_ROWS);
	assert_int_equal(v.other_paths, SUMMARY_MAX_PATHS - SUMMARY_MAX_ROWS);
	assert_string_equal(v.rows[0]->handle, "1000");
	for (unsigned int i = 0; i < v.n; i++)
		sum += v.rows[i]->count;
	/* nothing lost: rows and other add up to every timeline */
	assert_int_equal(sum + v.other_count, n);
	summary_free(s);
}

static void test_text_and_json(void **state)
{
	struct summary *s;
	struct summary_view v;
	struct jsonw w;
	json_error_t jerr;
	json_t *root, *rows;
	char *text;
	unsigned int lines = 0;

	(void)state;
	assert_int_equal(summary_new(&s), 0);
	three_paths(s, 300);
	summary_view(s, &v);
	text = render_text(&v);
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	/* the header, the column names, three rows, a blank line */
	assert_int_equal(lines, 6);
	assert_non_null(strstr(text, "summary (exit): 300 timelines, 3 paths\n"));
	assert_non_null(strstr(text, "  100  drop by rule inet filter input handle 11 at input  "));
	assert_non_null(strstr(text, "  100  drop by policy of inet filter input at input       "));
	assert_non_null(strstr(
		text,
		"prerouting,input  -    -      tcp 198.51.100.3:1025 -> 203.0.113.1:30002\n"));
	free(text);

	jsonw_init(&w, NULL, 0);
	summary_json(&w, &v, "interval");
	root = json_loads(jsonw_text(&w), 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "type")), "summary");
	assert_string_equal(json_string_value(json_object_get(root, "reason")), "interval");
	assert_int_equal(json_integer_value(json_object_get(root, "timelines")), 300);
	rows = json_object_get(root, "rows");
	assert_int_equal(json_array_size(rows), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *row = json_array_get(rows, i), *by = json_object_get(row, "decided_by");

		assert_int_equal(json_integer_value(json_object_get(row, "count")), 100);
		assert_string_equal(json_string_value(json_object_get(by, "table")), "filter");
		assert_int_equal(json_array_size(json_object_get(row, "hooks")), 2);
		if (json_object_get(by, "handle"))
			assert_true(json_integer_value(json_object_get(by, "handle")) == 10 ||
				    json_integer_value(json_object_get(by, "handle")) == 11);
		else
			assert_true(json_is_true(json_object_get(by, "policy")));
	}
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(root, "other"), "count")), 0);
	json_decref(root);
	jsonw_release(&w);
	summary_free(s);
}

#define PARSE(o, ...)                                                                           \
	({                                                                                      \
		char *argv[] = { "nattraced", "--match", "udp dport 1", __VA_ARGS__, NULL };    \
		options_parse(sizeof(argv) / sizeof(argv[0]) - 1, argv, (o), err, sizeof(err)); \
	})

static void test_options(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, "--summary"), 0);
	assert_true(o.summary && !o.summary_only && o.summary_interval == 0);
	assert_int_equal(PARSE(&o, "--summary=10"), 0);
	assert_true(o.summary && o.summary_interval == 10);
	/* a separate number is the interval too: it could be nothing else */
	assert_int_equal(PARSE(&o, "--summary", "10", "--rate", "none"), 0);
	assert_true(o.summary && o.summary_interval == 10 && o.rate_none);
	assert_int_equal(PARSE(&o, "--summary", "--rate", "none"), 0);
	assert_true(o.summary && o.summary_interval == 0 && o.rate_none);
	assert_int_equal(PARSE(&o, "--summary-only"), 0);
	assert_true(o.summary && o.summary_only && o.summary_interval == 0);
	assert_int_equal(PARSE(&o, "--summary-only", "--summary", "5"), 0);
	assert_true(o.summary && o.summary_only && o.summary_interval == 5);
	assert_int_equal(PARSE(&o, "--summary=x"), -EINVAL);
	assert_non_null(strstr(err, "--summary: 'x' is not a whole number of seconds"));
	assert_int_equal(PARSE(&o, "--summary", "5s"), -EINVAL);
	assert_int_equal(PARSE(&o, "--output", "json"), 0);
	assert_false(o.summary);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_over_three_paths),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_text_and_json),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
