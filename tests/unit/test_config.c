/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <linux/netfilter.h>

#include "config.h"

#define CONFDIR FIXTURES "/config/"

static int parse_text(const char *text, struct config **ret, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;

	assert_non_null(f);
	r = config_parse("test.conf", f, ret, err, errlen);
	fclose(f);
	return r;
}

#define OPTIONS(o, c, err, ...)                                                           \
	({                                                                                \
		char *argv[] = { "nattraced", __VA_ARGS__, NULL };                        \
		config_options(sizeof(argv) / sizeof(argv[0]) - 1, argv, (o), (c), (err), \
			       sizeof(err));                                              \
	})

static void test_good_file_keys_comments_blanks(void **state)
{
	struct config *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(config_load(CONFDIR "good.conf", &c, err, sizeof(err)), 0);
	/* the first '=' splits; quotes and "!=" stay in the value */
	assert_string_equal(config_get(c, "match"), "iifname \"wan0\" tcp dport != 22");
	assert_string_equal(config_get(c, "rate"), "5/minute");
	assert_string_equal(config_get(c, "hooks"), "forward");
	assert_string_equal(config_get(c, "output"), "journal");
	assert_null(config_get(c, "table"));
	config_free(c);
}

static void test_file_gives_options(void **state)
{
	struct options o;
	struct config *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(OPTIONS(&o, &c, err, "--config", CONFDIR "good.conf"), 0);
	assert_non_null(c);
	assert_string_equal(o.match, "iifname \"wan0\" tcp dport != 22");
	assert_string_equal(o.rate, "5/minute");
	assert_int_equal(o.hooks, 1u << NF_INET_FORWARD);
	assert_int_equal(o.output, OUTPUT_JOURNAL);
	assert_string_equal(o.table, "trace_debug");
	assert_string_equal(o.config, CONFDIR "good.conf");
	config_free(c);
}

static void test_command_line_overrides_file(void **state)
{
	struct options o;
	struct config *c = NULL;
	char err[512];

	(void)state;
	/* before and after --config on the command line: both win */
	assert_int_equal(OPTIONS(&o, &c, err, "--rate", "7/hour", "--config", CONFDIR "good.conf",
				 "-m", "udp dport 53", "--table", "trace_x"),
			 0);
	assert_string_equal(o.match, "udp dport 53");
	assert_string_equal(o.rate, "7/hour");
	assert_string_equal(o.table, "trace_x");
	assert_int_equal(o.hooks, 1u << NF_INET_FORWARD); /* from the file */
	config_free(c);
}

static void test_example_config_parses(void **state)
{
	struct options o;
	struct config *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(
		OPTIONS(&o, &c, err, "--config", FIXTURES "/../../contrib/nattraced.conf.example"),
		0);
	assert_string_equal(o.match, "ip daddr 198.51.100.1 tcp dport 1222 tcp flags syn");
	assert_string_equal(o.rate, "1/second");
	config_free(c);
}

static void test_without_config_match_required(void **state)
{
	struct options o;
	struct config *c = (struct config *)1;
	char err[512];

	(void)state;
	assert_int_equal(OPTIONS(&o, &c, err, "--rate", "1/second"), -EINVAL);
	assert_string_equal(err, "--match is required");
	assert_int_equal(OPTIONS(&o, &c, err, "-m", "tcp"), 0);
	assert_null(c);
}

static void test_file_without_match(void **state)
{
	struct options o;
	struct config *c = NULL;
	char err[512], path[] = "/tmp/nattraced-test-config.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "rate = 2/second\n", 16), 16);
	close(fd);
	assert_int_equal(OPTIONS(&o, &c, err, "--config", path), -EINVAL);
	assert_non_null(strstr(err, "--match is required"));
	assert_non_null(strstr(err, path));
	/* the command line may supply it */
	assert_int_equal(OPTIONS(&o, &c, err, "--config", path, "-m", "tcp dport 1"), 0);
	assert_string_equal(o.rate, "2/second");
	config_free(c);
	unlink(path);
}

static void test_missing_file(void **state)
{
	struct options o;
	struct config *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(OPTIONS(&o, &c, err, "--config", CONFDIR "no-such.conf"), -ENOENT);
	assert_non_null(strstr(err, "no-such.conf"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	assert_int_equal(OPTIONS(&o, &c, err, "--config", ""), -EINVAL);
}

/* Each bad file: -EINVAL and a message "FILE:LINE: ..." naming the problem. */
static void test_bad_files_name_file_and_line(void **state)
{
	static const struct {
		const char *file;
		const char *want;
	} cases[] = {
		{ "bad-rate.conf", "bad-rate.conf:4: rate: '1/fortnight' is not" },
		{ "bad-twice.conf", "bad-twice.conf:2: 'match' is set twice (first on line 1)" },
		{ "bad-key.conf", "bad-key.conf:2: unknown key '--rate'" },
		{ "bad-noeq.conf", "bad-noeq.conf:1: expected 'key = value'" },
		{ "bad-empty.conf", "bad-empty.conf:3: 'match' has no value" },
		{ "bad-config.conf", "bad-config.conf:2: unknown key 'config'" },
		{ "bad-table.conf", "bad-table.conf:2: table: '1abc' is not a valid table name" },
		{ "bad-hooks.conf", "bad-hooks.conf:2: hooks: unknown hook 'ingress'" },
		{ "bad-count.conf",
		  "bad-count.conf:2: count: '-1' is not a positive whole number" },
		{ "bad-nul.conf", "bad-nul.conf:1: NUL byte" },
	};
	struct options o;
	struct config *c = NULL;
	char err[512], path[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), CONFDIR "%s", cases[i].file);
		err[0] = '\0';
		assert_int_equal(OPTIONS(&o, &c, err, "--config", path), -EINVAL);
		if (!strstr(err, cases[i].want))
			fail_msg("%s: got '%s', want '%s'", cases[i].file, err, cases[i].want);
	}
}

static void test_long_line_and_too_many(void **state)
{
	struct config *c = NULL;
	char err[512], *text;
	size_t n = CONFIG_LINE_MAX + 64;

	(void)state;
	text = malloc(n + 16);
	assert_non_null(text);
	memcpy(text, "match = ", 8);
	memset(text + 8, 'a', n - 8);
	strcpy(text + n, "\n");
	assert_int_equal(parse_text(text, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "test.conf:1: line longer than"));
	free(text);
	/* no trailing newline is fine; CRLF too */
	assert_int_equal(parse_text("# x\r\nrate = 1/day\r\nmatch = tcp", &c, err, sizeof(err)), 0);
	assert_string_equal(config_get(c, "rate"), "1/day");
	assert_string_equal(config_get(c, "match"), "tcp");
	config_free(c);
	/* an empty file sets nothing */
	assert_int_equal(parse_text("", &c, err, sizeof(err)), 0);
	assert_null(config_get(c, "match"));
	config_free(c);
}

static void test_reparse_gives_same_options(void **state)
{
	struct options a, b;
	struct config *c1 = NULL, *c2 = NULL;
	char err[512];
	char *argv[] = { "nattraced", "--config", CONFDIR "good.conf", "-c", "3", NULL };

	(void)state;
	/* what a reload does: the same argv again (getopt permuted it) */
	assert_int_equal(config_options(5, argv, &a, &c1, err, sizeof(err)), 0);
	assert_int_equal(config_options(5, argv, &b, &c2, err, sizeof(err)), 0);
	assert_string_equal(a.match, b.match);
	assert_int_equal(a.count, 3);
	assert_int_equal(b.count, 3);
	assert_int_equal(a.hooks, b.hooks);
	config_free(c1);
	config_free(c2);
}

/* A FIFO would block open() with no writer; /dev/zero never ends. */
static void test_only_regular_files_are_read(void **state)
{
	char dir[] = "/tmp/nattraced-config-XXXXXX", fifo[64], big[64], err[512];
	struct options o;
	struct config *c = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(config_load(fifo, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is a FIFO: only a regular file is read"));
	assert_int_equal(OPTIONS(&o, &c, err, "--config", fifo), -EINVAL);
	assert_non_null(strstr(err, "FIFO"));

	assert_int_equal(config_load("/dev/zero", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/dev/zero is a character device"));
	assert_int_equal(config_load(dir, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is a directory"));

	/* a regular file, but far larger than any configuration */
	snprintf(big, sizeof(big), "%s/big.conf", dir);
	f = fopen(big, "w");
	assert_non_null(f);
	for (int i = 0; i < CONFIG_SIZE_MAX / 8 + 1; i++)
		fputs("# ......\n", f);
	fclose(f);
	assert_int_equal(config_load(big, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "larger than"));

	unlink(big);
	unlink(fifo);
	rmdir(dir);
}

/* A stream that never ends is cut at CONFIG_SIZE_MAX, not buffered whole. */
static void test_endless_stream_is_bounded(void **state)
{
	struct config *c = NULL;
	char err[512];
	FILE *zero = fopen("/dev/zero", "r");

	(void)state;
	assert_non_null(zero);
	assert_int_equal(config_parse("/dev/zero", zero, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "larger than"));
	fclose(zero);
}

/* Terminal escapes from a file come back as \xNN, never raw. */
static void test_control_characters_are_escaped(void **state)
{
	struct config *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(parse_text("x\x1b]0;owned\x07\x1b[2J = 1\n", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "unknown key 'x\\x1b]0;owned\\x07\\x1b[2J'"));
	for (const char *p = err; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	/* in a value that an option check quotes back */
	assert_int_equal(parse_text("rate = 1/\x1b[2Jday\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "\\x1b[2J"));
	assert_null(strchr(err, '\x1b'));
	assert_int_equal(parse_text("output = \x7f\n", &c, err, sizeof(err)), -EINVAL);
	assert_null(strchr(err, '\x7f'));
}

/* A refused match names the file and the line to edit, only when it is the file's. */
static void test_match_place_names_file_and_line(void **state)
{
	struct config *c = NULL;
	char err[256], place[128];

	(void)state;
	assert_int_equal(parse_text("# a comment\n\nrate = 1/second\nmatch = tcp dprt 22\n", &c,
				    err, sizeof(err)),
			 0);
	assert_int_equal(config_line(c, "match"), 4);
	assert_int_equal(config_line(c, "rate"), 3);
	assert_int_equal(config_line(c, "table"), 0);
	assert_string_equal(
		config_match_place(c, "/etc/nattraced.conf", "tcp dprt 22", place, sizeof(place)),
		"/etc/nattraced.conf:4: ");
	/* the command line's match won: the file is not where to look */
	assert_string_equal(
		config_match_place(c, "/etc/nattraced.conf", "tcp dprt 23", place, sizeof(place)),
		"");
	assert_string_equal(config_match_place(NULL, NULL, "tcp dprt 22", place, sizeof(place)),
			    "");
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file_keys_comments_blanks),
		cmocka_unit_test(test_file_gives_options),
		cmocka_unit_test(test_command_line_overrides_file),
		cmocka_unit_test(test_example_config_parses),
		cmocka_unit_test(test_without_config_match_required),
		cmocka_unit_test(test_file_without_match),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_bad_files_name_file_and_line),
		cmocka_unit_test(test_long_line_and_too_many),
		cmocka_unit_test(test_reparse_gives_same_options),
		cmocka_unit_test(test_only_regular_files_are_read),
		cmocka_unit_test(test_endless_stream_is_bounded),
		cmocka_unit_test(test_control_characters_are_escaped),
		cmocka_unit_test(test_match_place_names_file_and_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
