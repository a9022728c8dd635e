/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "netns.h"
#include "options.h"

static void test_name_is_under_run_netns(void **state)
{
	char path[NETNS_PATH_MAX], err[256];

	(void)state;
	assert_int_equal(netns_resolve("web", path, sizeof(path), err, sizeof(err)), NETNS_NAME);
	assert_string_equal(path, "/run/netns/web");
	/* names ip netns accepts: digits after a letter, dots, dashes */
	assert_int_equal(netns_resolve("lab-1.rtr", path, sizeof(path), err, sizeof(err)),
			 NETNS_NAME);
	assert_string_equal(path, "/run/netns/lab-1.rtr");
}

static void test_digits_are_a_pid(void **state)
{
	char path[NETNS_PATH_MAX], err[256];

	(void)state;
	assert_int_equal(netns_resolve("4242", path, sizeof(path), err, sizeof(err)), NETNS_PID);
	assert_string_equal(path, "/proc/4242/ns/net");
	/* /proc has no "042": the canonical number */
	assert_int_equal(netns_resolve("042", path, sizeof(path), err, sizeof(err)), NETNS_PID);
	assert_string_equal(path, "/proc/42/ns/net");
}

static void test_slash_is_a_path_taken_as_is(void **state)
{
	char path[NETNS_PATH_MAX], err[256];

	(void)state;
	assert_int_equal(netns_resolve("/proc/1/ns/net", path, sizeof(path), err, sizeof(err)),
			 NETNS_PATH);
	assert_string_equal(path, "/proc/1/ns/net");
	assert_int_equal(netns_resolve("./ns", path, sizeof(path), err, sizeof(err)), NETNS_PATH);
	assert_string_equal(path, "./ns");
	/* digits with a slash are a path, not a pid */
	assert_int_equal(netns_resolve("12/net", path, sizeof(path), err, sizeof(err)), NETNS_PATH);
}

static void test_bad_arguments_are_refused_with_a_reason(void **state)
{
	char path[NETNS_PATH_MAX], err[256], long_name[300];

	(void)state;
	assert_int_equal(netns_resolve("", path, sizeof(path), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(netns_resolve("0", path, sizeof(path), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a process id"));
	assert_int_equal(
		netns_resolve("99999999999999999999", path, sizeof(path), err, sizeof(err)),
		-EINVAL);
	assert_int_equal(netns_resolve("..", path, sizeof(path), err, sizeof(err)), -EINVAL);
	assert_int_equal(netns_resolve(".", path, sizeof(path), err, sizeof(err)), -EINVAL);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(netns_resolve(long_name, path, sizeof(path), err, sizeof(err)), -EINVAL);
	/* a short buffer is not overrun */
	assert_int_equal(netns_resolve("/proc/1/ns/net", path, 8, err, sizeof(err)), -EINVAL);
}

/* Nothing is entered for these: they fail before setns(). */
static void test_enter_refuses_missing_and_non_namespace_files(void **state)
{
	char err[512];

	(void)state;
	assert_int_equal(netns_enter("nattraced-no-such-ns-4711", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no network namespace named 'nattraced-no-such-ns-4711'"));
	assert_non_null(strstr(err, "ip netns list"));
	/* pid_max is at most 2^22: this process does not exist */
	assert_int_equal(netns_enter("2147483647", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no process 2147483647"));
	assert_int_equal(netns_enter("/", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is not a network namespace"));
	assert_int_equal(netns_enter("/proc/self/status", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a namespace file"));
}

/* Another kind of namespace file is named as such, not entered. */
static void test_enter_refuses_another_kind_of_namespace(void **state)
{
	char err[512];
	int r;

	(void)state;
	r = netns_enter("/proc/self/ns/uts", err, sizeof(err));
	if (r == -EACCES)
		skip();
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err, "UTS namespace, not a network namespace"));
}

static void test_option_and_config_key(void **state)
{
	char *argv[] = { "nattraced", "--match", "tcp", "--netns", "web", NULL };
	char *empty[] = { "nattraced", "--match", "tcp", "--netns=", NULL };
	const char *text = "netns = 4242\nmatch = tcp\n";
	struct options o;
	struct config *c = NULL;
	char err[512];
	FILE *f;

	(void)state;
	assert_int_equal(options_parse(5, argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.netns, "web");
	assert_int_equal(options_parse(4, empty, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--netns: empty"));
	f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	assert_int_equal(config_parse("t.conf", f, &c, err, sizeof(err)), 0);
	fclose(f);
	assert_string_equal(config_get(c, "netns"), "4242");
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_is_under_run_netns),
		cmocka_unit_test(test_digits_are_a_pid),
		cmocka_unit_test(test_slash_is_a_path_taken_as_is),
		cmocka_unit_test(test_bad_arguments_are_refused_with_a_reason),
		cmocka_unit_test(test_enter_refuses_missing_and_non_namespace_files),
		cmocka_unit_test(test_enter_refuses_another_kind_of_namespace),
		cmocka_unit_test(test_option_and_config_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
