/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Prometheus text exposition (metrics.h): checked against the format's
 * specification by a reader here (HELP and TYPE before a metric's samples
 * and once, metric and label names, label values escaped, one sample a
 * line, no label set twice), the escaping, and the series bound.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "helpers.h"
#include "metrics.h"

#define OWN "trace_debug"

static const char *fake_rule(void *ctx, uint8_t family, const char *table, const char *chain,
			     uint64_t handle, bool *ret_deleted)
{
	(void)ctx;
	(void)chain;
	(void)family;
	(void)table;
	(void)handle;
	*ret_deleted = false;
	return "drop";
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
	metrics_count(ctx, tl, &ex);
}

/* n packets, packet i dropped by rule handle 1000 + i % rules in table, chain */
static void flood(struct metrics *m, unsigned int n, unsigned int rules, const char *table,
		  const char *chain)
{
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = count,
		.emit_ctx = m,
	};
	struct timeline_table *t;
	struct test_pkt p;
	struct trace_event ev;

	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	test_ipv4_tcp(&p, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t id = 0x100 + i;

		ev = test_with_pkt(test_rule(id, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL),
				   &p, 2, 0);
		timeline_add(t, &ev, 0);
		ev = test_with_pkt(test_rule(id, table, chain, 1000 + i % rules, NF_DROP, NULL), &p,
				   2, 0);
		timeline_add(t, &ev, 0);
	}
	timeline_table_free(t);
}

static char *render(const struct metrics *m, const struct capture_stats *st)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_int_equal(metrics_text(f, m, st), 0);
	fclose(f);
	return text;
}

/* ---- a reader of the text format ---- */

static bool name_ok(const char *s, size_t n, bool colon)
{
	if (!n || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && !(colon && s[i] == ':'))
			return false;
	return true;
}

struct seen {
	char names[64][96];
	unsigned int n_names;
	char **samples; /* each sample's name and labels, to find one twice */
	unsigned int n_samples;
};

static bool seen_name(struct seen *s, const char *name)
{
	for (unsigned int i = 0; i < s->n_names; i++)
		if (!strcmp(s->names[i], name))
			return true;
	return false;
}

/*
 * Checks text and returns the samples of metric (or of every metric with
 * NULL); the value of the label filter=value ones summed into *ret_sum.
 */
static unsigned int check_format(const char *text, const char *metric, const char *filter,
				 double *ret_sum)
{
	struct seen *s = calloc(1, sizeof(*s));
	char typed[96] = "";
	unsigned int matched = 0;
	const char *line = text;

	s->samples = calloc(4096, sizeof(*s->samples));
	*ret_sum = 0;
	assert_true(text[0] && text[strlen(text) - 1] == '\n');
	while (*line) {
		const char *end = strchr(line, '\n'), *p = line, *q;
		char name[96], labels[4096] = "";
		double v;

		assert_non_null(end);
		if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7)) {
			bool type = line[2] == 'T';

			p = line + 7;
			q = strchr(p, ' ');
			assert_true(q && q < end && name_ok(p, (size_t)(q - p), true));
			snprintf(name, sizeof(name), "%.*s", (int)(q - p), p);
			if (type) {
				/* once, before its samples, a known type */
				assert_false(seen_name(s, name));
				assert_true(!strncmp(q + 1, "counter\n", 8) ||
					    !strncmp(q + 1, "gauge\n", 6));
				snprintf(typed, sizeof(typed), "%s", name);
				snprintf(s->names[s->n_names++], sizeof(s->names[0]), "%s", name);
			}
			/* HELP text: only \\ and \n escaped, so no lone backslash */
			for (const char *c = q + 1; c < end; c++)
				if (*c == '\\') {
					assert_true(c[1] == '\\' || c[1] == 'n');
					c++;
				}
			line = end + 1;
			continue;
		}
		assert_true(line[0] != '#');
		while (p < end && *p != '{' && *p != ' ')
			p++;
		assert_true(name_ok(line, (size_t)(p - line), true));
		snprintf(name, sizeof(name), "%.*s", (int)(p - line), line);
		/* its samples follow its TYPE line, the samples of one metric together */
		assert_string_equal(name, typed);
		if (*p == '{') {
			char *l = labels;
			bool first = true;

			p++;
			while (*p != '}') {
				q = p;
				assert_true(first || *p == ',');
				if (!first)
					q = ++p;
				while (*p != '=')
					p++;
				assert_true(name_ok(q, (size_t)(p - q), false));
				assert_true(p[1] == '"');
				l += sprintf(l, "%.*s=", (int)(p - q), q);
				for (p += 2; *p != '"'; p++) {
					assert_true(p < end);
					if (*p == '\\') {
						assert_true(p[1] == '\\' || p[1] == '"' ||
							    p[1] == 'n');
						*l++ = *p++;
					}
					*l++ = *p;
				}
				*l++ = ';';
				*l = '\0';
				p++;
				first = false;
			}
			p++;
		}
		assert_true(*p == ' ');
		v = strtod(p + 1, (char **)&q);
		assert_true(q == end && q > p + 1);
		/* no sample twice */
		char key[4096 + 100];
		snprintf(key, sizeof(key), "%s{%s}", name, labels);
		for (unsigned int i = 0; i < s->n_samples; i++)
			assert_string_not_equal(s->samples[i], key);
		if (s->n_samples < 4096)
			s->samples[s->n_samples++] = strdup(key);
		if (!metric || !strcmp(name, metric)) {
			matched++;
			if (!filter || strstr(labels, filter))
				*ret_sum += v;
		}
		line = end + 1;
	}
	for (unsigned int i = 0; i < s->n_samples; i++)
		free(s->samples[i]);
	free(s->samples);
	free(s);
	return matched;
}

/* ---- tests ---- */

static void test_escape(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(metrics_escape("plain", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "plain");
	assert_int_equal(metrics_escape("a\"b\\c\nd", buf, sizeof(buf)), 10);
	assert_string_equal(buf, "a\\\"b\\\\c\\nd");
	/* cut: never half an escape, which would escape the closing quote */
	assert_int_equal(metrics_escape("ab\"", buf, 4), 4);
	assert_string_equal(buf, "ab");
	assert_int_equal(metrics_escape("ab\"c", buf, 5), 5);
	assert_string_equal(buf, "ab\\\"");
	/* UTF-8 passes as it is */
	metrics_escape("zone \xc3\xa9t\xc3\xa9", buf, sizeof(buf));
	assert_string_equal(buf, "zone \xc3\xa9t\xc3\xa9");
}

static void test_capture_counters(void **state)
{
	struct metrics *m;
	struct capture_stats st = {
		.selected_known = true,
		.selected = 12,
		.lost = 1,
		.complete = 9,
		.incomplete = 2,
		.queue_overruns = 3,
		.enobufs = 4,
	};
	char *text;
	double v;

	(void)state;
	assert_int_equal(metrics_new(&m), 0);
	text = render(m, &st);
	check_format(text, NULL, NULL, &v);
	assert_non_null(strstr(text, "\nnattraced_packets_selected_total 12\n"));
	assert_non_null(strstr(text, "\nnattraced_packets_lost 1\n"));
	assert_non_null(strstr(text, "\nnattraced_timelines_complete_total 9\n"));
	assert_non_null(strstr(text, "\nnattraced_timelines_incomplete_total 2\n"));
	assert_non_null(strstr(text, "\nnattraced_queue_overruns_total 3\n"));
	assert_non_null(strstr(text, "\nnattraced_enobufs_total 4\n"));
	free(text);
	/* an unreadable counter: no made-up zero */
	st.selected_known = false;
	text = render(m, &st);
	assert_null(strstr(text, "nattraced_packets_selected_total"));
	assert_null(strstr(text, "nattraced_packets_lost"));
	free(text);
	metrics_free(m);
}

static void test_labels_of_the_deciding_rule(void **state)
{
	struct metrics *m;
	struct capture_stats st = {};
	char *text;
	double v;

	(void)state;
	assert_int_equal(metrics_new(&m), 0);
	flood(m, 3, 1, "filter", "input");
	text = render(m, &st);
	assert_int_equal(check_format(text, "nattraced_timelines_total", NULL, &v), 1);
	assert_non_null(strstr(
		text,
		"\nnattraced_timelines_total{verdict=\"drop\",family=\"inet\",table=\"filter\",chain=\"input\",hook=\"input\",handle=\"1000\",owner=\"\"} 3\n"));
	free(text);
	/* a name that needs escaping in a label value */
	flood(m, 1, 1, "fil\"ter", "in\\put");
	text = render(m, &st);
	assert_int_equal(check_format(text, "nattraced_timelines_total", NULL, &v), 2);
	assert_non_null(strstr(text, "table=\"fil\\\"ter\",chain=\"in\\\\put\""));
	free(text);
	metrics_free(m);
}

/* 5,000 distinct deciding rules: at most 500 series, every timeline counted. */
static void test_series_bound(void **state)
{
	struct metrics *m;
	struct capture_stats st = {};
	unsigned int series;
	char *text;
	double sum, other, folded;

	(void)state;
	assert_int_equal(metrics_new(&m), 0);
	flood(m, 10000, 5000, "filter", "input");
	assert_true(metrics_series(m) <= METRICS_MAX_SERIES);
	text = render(m, &st);
	series = check_format(text, "nattraced_timelines_total", NULL, &sum);
	assert_int_equal(series, metrics_series(m));
	assert_true(series <= METRICS_MAX_SERIES);
	assert_int_equal(series, METRICS_MAX_RULE_SERIES + 1);
	assert_true(sum == 10000);
	check_format(text, "nattraced_timelines_total", "handle=other;", &other);
	assert_true(other == 10000 - 2 * METRICS_MAX_RULE_SERIES);
	check_format(text, "nattraced_timelines_folded_total", NULL, &folded);
	assert_true(folded == other);
	check_format(text, "nattraced_timelines_folded_series", NULL, &folded);
	assert_true(folded == 5000 - METRICS_MAX_RULE_SERIES);
	free(text);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_capture_counters),
		cmocka_unit_test(test_labels_of_the_deciding_rule),
		cmocka_unit_test(test_series_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
