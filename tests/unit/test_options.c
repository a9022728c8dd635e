/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <linux/netfilter.h>

#include "options.h"

#define PARSE(o, err, ...)                                                                        \
	({                                                                                        \
		char *argv[] = { "nattraced", __VA_ARGS__, NULL };                                \
		options_parse(sizeof(argv) / sizeof(argv[0]) - 1, argv, (o), (err), sizeof(err)); \
	})

static void test_defaults(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--match", "tcp dport 22"), 0);
	assert_string_equal(o.match, "tcp dport 22");
	assert_string_equal(o.rate, "1/second");
	assert_false(o.rate_none);
	assert_int_equal(o.count, 0);
	assert_true(o.timeout == 0);
	assert_int_equal(o.output, OUTPUT_TEXT);
	assert_string_equal(o.table, "trace_debug");
	assert_int_equal(o.family, NFPROTO_INET);
	assert_int_equal(o.hooks, 1u << NF_INET_PRE_ROUTING | 1u << NF_INET_LOCAL_OUT);
	assert_int_equal(o.max_inflight, 1024);
	assert_int_equal(o.max_events, 512);
	assert_int_equal(o.stats_interval, 60);
}

static void test_all_options_parse(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--match", "udp dport 53", "--rate", "10/minute", "--count",
			       "3", "--timeout", "2.5", "--output", "json", "--table", "t2",
			       "--family", "ip6", "--hooks", "forward,input,postrouting"),
			 0);
	assert_string_equal(o.rate, "10/minute");
	assert_int_equal(o.count, 3);
	assert_true(o.timeout == 2.5);
	assert_int_equal(o.output, OUTPUT_JSON);
	assert_string_equal(o.table, "t2");
	assert_int_equal(o.family, NFPROTO_IPV6);
	assert_int_equal(o.hooks, 1u << NF_INET_FORWARD | 1u << NF_INET_LOCAL_IN |
					  1u << NF_INET_POST_ROUTING);
	assert_int_equal(PARSE(&o, err, "-m", "x", "-c", "1", "-t", "1", "-o", "text"), 0);
	assert_int_equal(o.count, 1);
}

static void test_rate_none_removes_limit(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--match", "x", "--rate", "none"), 0);
	assert_true(o.rate_none);
	assert_string_equal(o.rate, "");
}

static void test_bad_rates_refused(void **state)
{
	static const char *const bad[] = {
		"0/second",
		"1/sec",
		"fast",
		"1",
		"/second",
		"-1/second",
		"1/second burst 5",
		"99999999999/second",
		"1/second;",
		" 1/second",
	};
	struct options o;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE(&o, err, "--match", "x", "--rate", (char *)bad[i]), -EINVAL);
		assert_non_null(strstr(err, "--rate"));
	}
}

static void test_usage_errors_name_the_problem(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--count", "1"), -EINVAL);
	assert_string_equal(err, "--match is required");
	assert_int_equal(PARSE(&o, err, "--match", "x", "--count", "0"), -EINVAL);
	assert_non_null(strstr(err, "--count"));
	assert_int_equal(PARSE(&o, err, "--match", "x", "--count", "-2"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--count", "2x"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--timeout", "0"), -EINVAL);
	assert_non_null(strstr(err, "--timeout"));
	assert_int_equal(PARSE(&o, err, "--match", "x", "--timeout", "nan"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--timeout", "1e9"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--output", "xml"), -EINVAL);
	assert_non_null(strstr(err, "xml"));
	assert_int_equal(PARSE(&o, err, "--match", "x", "--family", "arp"), -EINVAL);
	assert_non_null(strstr(err, "--family"));
	assert_int_equal(PARSE(&o, err, "--match", "x", "--hooks", "ingress"), -EINVAL);
	assert_non_null(strstr(err, "ingress"));
	assert_int_equal(PARSE(&o, err, "--match", "x", "--hooks", ","), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--table", "a;b"), -EINVAL);
	assert_non_null(strstr(err, "--table"));
	assert_int_equal(PARSE(&o, err, "--match", "x", "--table", "1abc"), -EINVAL);
	/* nft keywords fail at install, too late for exit status 2 */
	for (char *const *kw =
		     (char *const[]){ "table", "ip", "inet", "counter", "flags", "include",
				      "define", "monitor", "chain", "and", "eq", NULL };
	     *kw; kw++) {
		assert_int_equal(PARSE(&o, err, "--match", "x", "--table", *kw), -EINVAL);
		assert_non_null(strstr(err, "keyword"));
	}
	/* names that look like keywords but are not, and case matters */
	assert_int_equal(PARSE(&o, err, "--match", "x", "--table", "filter"), 0);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--table", "nat"), 0);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--table", "Counter"), 0);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--table", "trace_table"), 0);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--bogus"), -EINVAL);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(PARSE(&o, err, "--match"), -EINVAL);
	assert_non_null(strstr(err, "needs an argument"));
	assert_int_equal(PARSE(&o, err, "--match", "ip", "daddr"), -EINVAL);
	assert_non_null(strstr(err, "quote"));
}

static void test_caps_and_stats_interval(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--match", "x", "--max-inflight", "16384", "--max-events",
			       "1024", "--stats-interval", "0"),
			 0);
	assert_int_equal(o.max_inflight, 16384);
	assert_int_equal(o.max_events, 1024);
	assert_int_equal(o.stats_interval, 0);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--max-inflight", "16385"), -EINVAL);
	assert_non_null(strstr(err, "--max-inflight"));
	assert_non_null(strstr(err, "16384"));
	assert_int_equal(PARSE(&o, err, "--match", "x", "--max-inflight", "0"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--max-events", "1025"), -EINVAL);
	assert_non_null(strstr(err, "--max-events"));
	assert_int_equal(PARSE(&o, err, "--match", "x", "--max-events", "-1"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--stats-interval", "1m"), -EINVAL);
	assert_non_null(strstr(err, "--stats-interval"));
	assert_int_equal(PARSE(&o, err, "--match", "x", "--stats-interval", "86401"), -EINVAL);
}

static void test_buffer_size_takes_suffixes_within_bounds(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--match", "x"), 0);
	assert_int_equal(o.buffer_size, 512ull << 20);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--buffer-size", "64K"), 0);
	assert_int_equal(o.buffer_size, 64ull << 10);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--buffer-size", "2G"), 0);
	assert_int_equal(o.buffer_size, 2ull << 30);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--buffer-size", "100MiB"), 0);
	assert_int_equal(o.buffer_size, 100ull << 20);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--buffer-size", "1048576"), 0);
	assert_int_equal(o.buffer_size, 1048576);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--buffer-size", "1k"), -EINVAL);
	assert_non_null(strstr(err, "--buffer-size"));
	assert_int_equal(PARSE(&o, err, "--match", "x", "--buffer-size", "65G"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--buffer-size", "-1M"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--buffer-size", "12T"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--buffer-size", "M"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--buffer-size", "99999999999999999999999"),
			 -EINVAL);
}

static void test_help_and_version_need_no_match(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--help"), 0);
	assert_true(o.help);
	assert_int_equal(PARSE(&o, err, "-V"), 0);
	assert_true(o.version);
}

static void test_keywords(void **state)
{
	(void)state;
	assert_string_equal(options_family_keyword(NFPROTO_IPV4), "ip");
	assert_string_equal(options_family_keyword(NFPROTO_INET), "inet");
	assert_null(options_family_keyword(NFPROTO_ARP));
	assert_string_equal(options_hook_keyword(NF_INET_FORWARD), "forward");
	assert_null(options_hook_keyword(NF_INET_NUMHOOKS));
}

/*
 * A reload applies match, rate and hooks; every other setting that the
 * file changed is named, by the key the file spells (issue 19 item 8:
 * a changed max-events or nat-log went unmentioned).
 */
static void test_reload_names_every_setting_it_keeps(void **state)
{
	struct options was, now;
	char err[256], kept[256];

	(void)state;
	assert_int_equal(PARSE(&was, err, "--match", "tcp dport 1222", "--nat-log"), 0);
	assert_int_equal(PARSE(&now, err, "--match", "tcp dport 1223", "--rate", "5/second",
			       "--hooks", "prerouting", "--nat-log"),
			 0);
	assert_int_equal(options_reload_kept(&was, &now, kept, sizeof(kept)), 0);
	assert_string_equal(kept, "");
	assert_int_equal(PARSE(&now, err, "--match", "tcp dport 1223", "--nat-log=all",
			       "--max-events", "64", "--max-inflight", "16", "--stats-interval",
			       "5", "--table", "other", "--output", "json"),
			 0);
	assert_int_equal(options_reload_kept(&was, &now, kept, sizeof(kept)), 6);
	assert_string_equal(kept,
			    "table, output, max-inflight, max-events, stats-interval, nat-log");
	assert_int_equal(PARSE(&now, err, "--match", "tcp dport 1222", "--count", "3", "--timeout",
			       "9", "--family", "ip"),
			 0);
	/* nat-log: on at start, off now */
	assert_int_equal(options_reload_kept(&was, &now, kept, 12), 4);
	assert_string_equal(kept, "family, cou");
}

/* --pcap and --metrics-file: consumers beside the output, files named as given */
static void test_pcap_and_metrics_file(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--match", "x"), 0);
	assert_null(o.pcap);
	assert_null(o.metrics_file);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--pcap", "/tmp/t.pcapng", "--metrics-file",
			       "/run/nattraced/n.prom", "-o", "json"),
			 0);
	assert_string_equal(o.pcap, "/tmp/t.pcapng");
	assert_string_equal(o.metrics_file, "/run/nattraced/n.prom");
	assert_int_equal(o.output, OUTPUT_JSON);
	assert_int_equal(PARSE(&o, err, "--match", "x", "--pcap", ""), -EINVAL);
	assert_string_equal(err, "--pcap: empty file name");
	assert_int_equal(PARSE(&o, err, "--match", "x", "--metrics-file", ""), -EINVAL);
	assert_string_equal(err, "--metrics-file: empty file name");
}

/* --replay and --check: their inputs parse; live-only options are refused, by name */
static void test_replay_and_check(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--replay", "d.json", "--id", "3ff4bac8", "--change",
			       "add element inet filter s { 1 }", "--change", "flush set inet filter t",
			       "--change-file", "c.nft", "--output", "json"),
			 0);
	assert_string_equal(o.replay, "d.json");
	assert_string_equal(o.replay_id, "3ff4bac8");
	assert_int_equal(o.n_changes, 2);
	assert_string_equal(o.changes[1], "flush set inet filter t");
	assert_string_equal(o.change_file, "c.nft");
	assert_null(o.match);
	assert_int_equal(PARSE(&o, err, "--check", "x.check", "--ruleset", "r.nft", "--junit",
			       "j.xml"),
			 0);
	assert_string_equal(o.check, "x.check");
	assert_string_equal(o.ruleset, "r.nft");
	assert_string_equal(o.junit, "j.xml");

	assert_int_equal(PARSE(&o, err, "--replay", "d", "--match", "tcp"), -EINVAL);
	assert_non_null(strstr(err, "--replay replays in a clone of the namespace: it does not go with --match"));
	assert_int_equal(PARSE(&o, err, "--check", "d", "--follow"), -EINVAL);
	assert_non_null(strstr(err, "--check") && strstr(err, "--follow"));
	assert_int_equal(PARSE(&o, err, "--check", "d", "--replay", "e"), -EINVAL);
	assert_non_null(strstr(err, "give one of them"));
	assert_int_equal(PARSE(&o, err, "--check", "d", "--id", "1"), -EINVAL);
	assert_non_null(strstr(err, "--id picks a timeline"));
	assert_int_equal(PARSE(&o, err, "--replay", "d", "--junit", "j"), -EINVAL);
	assert_non_null(strstr(err, "--junit writes --check"));
	assert_int_equal(PARSE(&o, err, "--match", "tcp", "--ruleset", "r"), -EINVAL);
	assert_non_null(strstr(err, "--ruleset goes with --replay or --check"));
	assert_int_equal(PARSE(&o, err, "--replay", ""), -EINVAL);
	assert_non_null(strstr(err, "--replay: empty"));
	assert_int_equal(PARSE(&o, err, "--verify"), -EINVAL);
	assert_non_null(strstr(err, "--verify checks live hints: it needs --match"));
	assert_int_equal(PARSE(&o, err, "--verify", "--match", "tcp"), 0);
	assert_true(o.verify);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_and_check),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options_parse),
		cmocka_unit_test(test_rate_none_removes_limit),
		cmocka_unit_test(test_bad_rates_refused),
		cmocka_unit_test(test_usage_errors_name_the_problem),
		cmocka_unit_test(test_help_and_version_need_no_match),
		cmocka_unit_test(test_caps_and_stats_interval),
		cmocka_unit_test(test_buffer_size_takes_suffixes_within_bounds),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_reload_names_every_setting_it_keeps),
		cmocka_unit_test(test_pcap_and_metrics_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
