/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonw.h"

/*
 * What the writer produced, read back by jansson: the real check. jansson
 * stops at INT64_MAX; read integers as reals so 2^64-1 parses too.
 */
static json_t *parsed(struct jsonw *w)
{
	const char *text = jsonw_text(w);
	json_error_t err;
	json_t *o;

	assert_non_null(text);
	o = json_loads(text, JSON_DECODE_INT_AS_REAL, &err);
	if (!o)
		fail_msg("not JSON (%s): %s", err.text, text);
	return o;
}

static void test_nested_values_round_trip(void **state)
{
	char buf[64];
	struct jsonw w;
	json_t *o;

	(void)state;
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_object_open(&w, NULL);
	jsonw_string(&w, "s", "text");
	jsonw_uint(&w, "zero", 0);
	jsonw_uint(&w, "max", UINT64_MAX);
	jsonw_bool(&w, "t", true);
	jsonw_bool(&w, "f", false);
	jsonw_null(&w, "n");
	jsonw_string(&w, "nullstr", NULL);
	jsonw_array_open(&w, "empty");
	jsonw_array_close(&w);
	jsonw_array_open(&w, "list");
	jsonw_uint(&w, NULL, 1);
	jsonw_object_open(&w, NULL);
	jsonw_object_close(&w);
	jsonw_string(&w, NULL, "x");
	jsonw_array_close(&w);
	jsonw_object_close(&w);
	/* 64 bytes on the stack were not enough: it moved to the heap */
	assert_ptr_not_equal(w.buf, buf);
	assert_string_equal(jsonw_text(&w),
			    "{\"s\":\"text\",\"zero\":0,\"max\":18446744073709551615,"
			    "\"t\":true,\"f\":false,\"n\":null,\"nullstr\":null,"
			    "\"empty\":[],\"list\":[1,{},\"x\"]}");
	o = parsed(&w);
	assert_true(json_is_array(json_object_get(o, "list")));
	assert_true(json_real_value(json_object_get(o, "max")) > 1.8e19);
	json_decref(o);
	jsonw_release(&w);
}

static void test_strings_are_escaped(void **state)
{
	const char *nasty = "quote\" back\\ nl\n tab\t bell\x07 del\x7f é €";
	struct jsonw w;
	json_t *o;

	(void)state;
	jsonw_init(&w, NULL, 0);
	jsonw_object_open(&w, NULL);
	jsonw_string(&w, "k\"ey", nasty);
	jsonw_object_close(&w);
	o = parsed(&w);
	assert_string_equal(json_string_value(json_object_get(o, "k\"ey")), nasty);
	json_decref(o);
	jsonw_release(&w);
}

static void test_invalid_utf8_becomes_replacement(void **state)
{
	/* a lone continuation, a truncated sequence, an overlong, a surrogate */
	const char *bad[] = { "a\x80z", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf5\x80\x80\x80" };
	struct jsonw w;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o;
		const char *v;

		jsonw_init(&w, NULL, 0);
		jsonw_array_open(&w, NULL);
		jsonw_string(&w, NULL, bad[i]);
		jsonw_array_close(&w);
		o = parsed(&w);
		v = json_string_value(json_array_get(o, 0));
		assert_non_null(strstr(v, "\xef\xbf\xbd"));
		json_decref(o);
		jsonw_release(&w);
	}
}

static void test_reset_reuses_buffer(void **state)
{
	char buf[256];
	struct jsonw w;

	(void)state;
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_array_open(&w, NULL);
	jsonw_uint(&w, NULL, 7);
	jsonw_array_close(&w);
	jsonw_reset(&w);
	jsonw_array_open(&w, NULL);
	jsonw_uint(&w, NULL, 8);
	jsonw_array_close(&w);
	assert_string_equal(jsonw_text(&w), "[8]");
	assert_ptr_equal(w.buf, buf);
	jsonw_release(&w);
}

static void test_too_deep_or_unbalanced_fails(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w, NULL, 0);
	for (int i = 0; i < JSONW_MAX_DEPTH + 1; i++)
		jsonw_array_open(&w, NULL);
	assert_null(jsonw_text(&w));
	jsonw_release(&w);

	jsonw_init(&w, NULL, 0);
	jsonw_array_close(&w);
	assert_null(jsonw_text(&w));
	jsonw_release(&w);
}

static void test_too_long_fails_instead_of_growing(void **state)
{
	static char chunk[65536];
	struct jsonw w;

	(void)state;
	memset(chunk, 'a', sizeof(chunk) - 1);
	jsonw_init(&w, NULL, 0);
	jsonw_array_open(&w, NULL);
	for (unsigned int i = 0; i < JSONW_MAX_LEN / sizeof(chunk) + 1; i++)
		jsonw_string(&w, NULL, chunk);
	assert_true(w.failed);
	assert_null(jsonw_text(&w));
	assert_true(w.cap <= JSONW_MAX_LEN);
	jsonw_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_values_round_trip),
		cmocka_unit_test(test_strings_are_escaped),
		cmocka_unit_test(test_invalid_utf8_becomes_replacement),
		cmocka_unit_test(test_reset_reuses_buffer),
		cmocka_unit_test(test_too_deep_or_unbalanced_fails),
		cmocka_unit_test(test_too_long_fails_instead_of_growing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
