/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --nat-log[=all] and --nat-table on the command line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

#define PARSE(o, err, ...)                                                                        \
	({                                                                                        \
		char *argv[] = { "nattraced", __VA_ARGS__, NULL };                                \
		options_parse(sizeof(argv) / sizeof(argv[0]) - 1, argv, (o), (err), sizeof(err)); \
	})

static void test_nat_log_forms(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-m", "tcp dport 22"), 0);
	assert_int_equal(o.nat_log, NAT_LOG_OFF);
	assert_false(o.nat_table);
	assert_int_equal(PARSE(&o, err, "-m", "tcp dport 22", "--nat-log"), 0);
	assert_int_equal(o.nat_log, NAT_LOG_MATCH);
	assert_int_equal(PARSE(&o, err, "-m", "tcp dport 22", "--nat-log=all"), 0);
	assert_int_equal(o.nat_log, NAT_LOG_ALL);
	/* the log of everything needs no match: nothing is traced then */
	assert_int_equal(PARSE(&o, err, "--nat-log=all"), 0);
	assert_null(o.match);
	assert_int_equal(PARSE(&o, err, "--nat-log=some"), -EINVAL);
	assert_non_null(strstr(err, "--nat-log: 'some'"));
}

static void test_nat_log_needs_a_match(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--nat-log"), -EINVAL);
	assert_non_null(strstr(err, "--match is required"));
	assert_non_null(strstr(err, "--nat-log=all"));
}

static void test_nat_table_forms(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--nat-table"), 0);
	assert_true(o.nat_table);
	assert_int_equal(PARSE(&o, err, "--nat-table", "-m", "ip daddr 192.0.2.1", "-o", "json"),
			 0);
	assert_int_equal(o.output, OUTPUT_JSON);
	assert_int_equal(PARSE(&o, err, "--nat-table", "--nat-log"), -EINVAL);
	assert_non_null(strstr(err, "--nat-table"));
	/* --count counts timelines: without a match there are none */
	assert_int_equal(PARSE(&o, err, "--nat-table", "-c", "1"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--nat-log=all", "-c", "1"), -EINVAL);
	assert_non_null(strstr(err, "--count"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nat_log_forms),
		cmocka_unit_test(test_nat_log_needs_a_match),
		cmocka_unit_test(test_nat_table_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
