/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * match_precheck() on hostile and legitimate text, match_rule_text(), and
 * match_verify_listing() on real nft 1.0.6 listings captured as described
 * in tests/fixtures/match/README.txt.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match.h"

#define FIXTURE_DIR FIXTURES "/match/"
#define FIXTURE_MAX (64 * 1024)
#define RATE	    "1/second"

static char *read_fixture(const char *name)
{
	char path[512];
	size_t n;
	char *buf;
	FILE *f;

	snprintf(path, sizeof(path), FIXTURE_DIR "%s.json", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open fixture %s", path);
	buf = malloc(FIXTURE_MAX);
	assert_non_null(buf);
	n = fread(buf, 1, FIXTURE_MAX - 1, f);
	assert_false(ferror(f));
	assert_true(feof(f));
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void assert_precheck_refused(const char *match, const char *needle)
{
	char err[256] = "";

	assert_int_equal(match_precheck(match, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("'%s' not in '%s'", needle, err);
	assert_true(strncmp(err, "match refused: ", 15) == 0);
}

static void assert_precheck_ok(const char *match)
{
	char err[256] = "";

	if (match_precheck(match, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", match, err);
}

static void assert_listing_refused(const char *fixture, const char *rate, const char *needle)
{
	char err[256] = "";
	char *json = read_fixture(fixture);

	assert_int_equal(match_verify_listing(json, rate, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("%s: '%s' not in '%s'", fixture, needle, err);
	free(json);
}

static void assert_json_refused(const char *json, const char *rate, const char *needle)
{
	char err[256] = "";

	assert_int_equal(match_verify_listing(json, rate, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("'%s' not in '%s'", needle, err);
}

static void assert_listing_ok(const char *fixture, const char *rate)
{
	char err[256] = "";
	char *json = read_fixture(fixture);

	if (match_verify_listing(json, rate, err, sizeof(err)) != 0)
		fail_msg("%s refused: %s", fixture, err);
	free(json);
}

/* --- match_precheck: hostile text --- */

static void test_semicolon_refused_as_chained_command(void **state)
{
	(void)state;
	assert_precheck_refused(
		"ip daddr 192.0.2.1; delete table ip filter; add rule inet trace_debug pre",
		"';' would start another command");
}

static void test_semicolon_inside_quotes_refused(void **state)
{
	(void)state;
	assert_precheck_refused("iifname \"a;b\"", "even inside quotes");
}

static void test_semicolon_alone_refused(void **state)
{
	(void)state;
	assert_precheck_refused(";", "';'");
}

static void test_newline_refused_as_chained_command(void **state)
{
	(void)state;
	assert_precheck_refused("ip daddr 192.0.2.1\nflush ruleset", "chain another one");
}

static void test_carriage_return_refused_as_chained_command(void **state)
{
	(void)state;
	assert_precheck_refused("ip daddr 192.0.2.1\rflush ruleset", "line break");
}

static void test_newline_inside_quotes_refused(void **state)
{
	(void)state;
	assert_precheck_refused("iifname \"eth0\nflush ruleset\"", "line break");
}

static void test_hash_refused_as_comment_swallowing_our_statements(void **state)
{
	(void)state;
	assert_precheck_refused("ip daddr 192.0.2.1 #",
				"'#' would comment out the rest of the rule");
}

static void test_hash_inside_quotes_refused(void **state)
{
	(void)state;
	assert_precheck_refused("iifname \"a#b\"", "even inside quotes");
}

static void test_dollar_variable_refused(void **state)
{
	(void)state;
	assert_precheck_refused("ip daddr $addr", "'$' would expand");
}

static void test_include_refused(void **state)
{
	(void)state;
	assert_precheck_refused("include \"/etc/shadow\"", "'include' would read a file");
}

static void test_include_inside_set_refused(void **state)
{
	(void)state;
	assert_precheck_refused("ip daddr { 192.0.2.1, include \"/etc/hosts\" }", "'include'");
}

static void test_define_refused(void **state)
{
	(void)state;
	assert_precheck_refused("define x = 192.0.2.1", "'define' would define a variable");
}

static void test_redefine_and_undefine_refused(void **state)
{
	(void)state;
	assert_precheck_refused("redefine x = 1", "'redefine'");
	assert_precheck_refused("undefine x", "'undefine'");
}

static void test_null_refused_as_empty(void **state)
{
	(void)state;
	assert_precheck_refused(NULL, "empty");
}

static void test_empty_refused(void **state)
{
	(void)state;
	assert_precheck_refused("", "empty");
}

static void test_blank_refused(void **state)
{
	(void)state;
	assert_precheck_refused("  \t  ", "empty");
}

static void test_overlong_refused(void **state)
{
	char *long_match = malloc(4098);

	(void)state;
	assert_non_null(long_match);
	memset(long_match, ' ', 4097);
	memcpy(long_match, "ip daddr 192.0.2.1", 18);
	long_match[4097] = '\0';
	assert_precheck_refused(long_match, "longer than 4096 bytes");
	free(long_match);
}

static void test_control_characters_refused(void **state)
{
	(void)state;
	assert_precheck_refused("ip daddr\x01 192.0.2.1", "0x01");
	assert_precheck_refused("ip daddr 192.0.2.1\x1b[2J", "0x1b");
	assert_precheck_refused("ip daddr 192.0.2.1\x7f", "0x7f");
	assert_precheck_refused("ip daddr\v192.0.2.1", "0x0b");
	assert_precheck_refused("ip daddr\f192.0.2.1", "0x0c");
}

static void test_stray_closing_brace_refused(void **state)
{
	(void)state;
	assert_precheck_refused("ip daddr 192.0.2.1 } add table ip x {", "'}' closes nothing");
}

static void test_unclosed_brace_refused(void **state)
{
	(void)state;
	assert_precheck_refused("tcp dport { 22, 80", "'{' is never closed");
}

static void test_mismatched_brackets_refused(void **state)
{
	(void)state;
	assert_precheck_refused("tcp dport { 22, 80 )", "')' closes '{'");
	assert_precheck_refused("tcp flags & (syn|ack] == syn", "']' closes '('");
}

static void test_unterminated_quote_refused(void **state)
{
	(void)state;
	assert_precheck_refused("iifname \"eth0",
				"unterminated '\"' would run into the next command");
}

static void test_nesting_deeper_than_limit_refused(void **state)
{
	char deep[80];

	(void)state;
	memset(deep, '(', 33);
	strcpy(deep + 33, "1");
	assert_precheck_refused(deep, "nested deeper than 32");
}

/* --- match_precheck: legitimate text --- */

static void test_legitimate_matches_pass_precheck(void **state)
{
	static const char *const legit[] = {
		"iifname \"eth0\"",
		"tcp dport { 22, 80 }",
		"tcp dport 1000-2000",
		"ip daddr 192.0.2.0/24",
		"ip6 daddr 2001:db8::1",
		"ip daddr . tcp dport { 192.0.2.1 . 22 }",
		"tcp flags syn",
		"ct state new",
		"meta l4proto udp",
		"iifname != \"lo\"",
		"tcp flags & (syn|ack) == syn",
		"ip saddr 198.51.100.7 udp dport 53",
		"ip6 saddr 2001:db8::/32 icmpv6 type echo-request",
		"iifname \"eth*\"",
		"ip daddr { 203.0.113.0/24, 198.51.100.0/24 } tcp dport != 22",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(legit) / sizeof(legit[0]); i++)
		assert_precheck_ok(legit[i]);
}

static void test_tab_allowed_as_whitespace(void **state)
{
	(void)state;
	assert_precheck_ok("ip\tdaddr\t192.0.2.1");
}

static void test_words_containing_include_allowed(void **state)
{
	(void)state;
	/* Longer unquoted words are one nft string, not the keyword. */
	assert_precheck_ok("iifname xinclude0");
	assert_precheck_ok("iifname include-x");
	assert_precheck_ok("iifname \"include\"");
}

static void test_match_of_exactly_4096_bytes_allowed(void **state)
{
	char *match = malloc(4097);

	(void)state;
	assert_non_null(match);
	memset(match, ' ', 4096);
	memcpy(match, "ip daddr 192.0.2.1", 18);
	match[4096] = '\0';
	assert_precheck_ok(match);
	free(match);
}

/* --- match_rule_text --- */

static void test_rule_text_with_rate(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(match_rule_text("ip daddr 192.0.2.1", RATE, buf, sizeof(buf)), 0);
	assert_string_equal(buf,
			    "ip daddr 192.0.2.1 limit rate 1/second counter meta nftrace set 1");
}

static void test_rule_text_without_rate_has_no_limit(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(match_rule_text("tcp dport 22", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tcp dport 22 counter meta nftrace set 1");
}

static void test_rule_text_too_long_is_enospc(void **state)
{
	const char *want = "tcp dport 22 counter meta nftrace set 1";
	char buf[128];

	(void)state;
	assert_int_equal(match_rule_text("tcp dport 22", NULL, buf, strlen(want)), -ENOSPC);
	assert_int_equal(match_rule_text("tcp dport 22", NULL, buf, strlen(want) + 1), 0);
	assert_string_equal(buf, want);
}

static void test_rule_text_refuses_rate_that_is_not_n_per_unit(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(
		match_rule_text("tcp dport 22", "1/second; flush ruleset", buf, sizeof(buf)),
		-EINVAL);
	assert_int_equal(match_rule_text("tcp dport 22", "1 mbytes/second", buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(match_rule_text("tcp dport 22", "0/second", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(match_rule_text("tcp dport 22", "over 1/second", buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(match_rule_text("tcp dport 22", "5/fortnight", buf, sizeof(buf)), -EINVAL);
}

/* --- match_verify_listing: real legitimate listings --- */

static void test_real_listings_of_legit_matches_accepted(void **state)
{
	static const char *const legit[] = {
		"legit_iifname",   "legit_anon_set",   "legit_range",	    "legit_prefix",
		"legit_ip6_daddr", "legit_concat",     "legit_tcp_flags",   "legit_tcp_flags_mask",
		"legit_ct_state",  "legit_l4proto",    "legit_iifname_neq", "legit_two_matches",
		"legit_family_ip", "legit_family_ip6",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(legit) / sizeof(legit[0]); i++)
		assert_listing_ok(legit[i], RATE);
}

static void test_listing_without_limit_accepted_when_no_rate(void **state)
{
	(void)state;
	assert_listing_ok("legit_no_limit", NULL);
}

static void test_listing_with_other_rate_accepted_for_that_rate(void **state)
{
	(void)state;
	assert_listing_ok("legit_rate_10_minute", "10/minute");
}

/* --- match_verify_listing: real hostile listings --- */

static void test_counter_in_match_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_counter", RATE,
			       "match refused: statement 'counter' is not a match");
}

/* Statements in anonymous set elements run per packet like any other. */
static void test_statements_in_set_elements_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_elem_counter", RATE,
			       "statement 'counter' inside a set element is not a match");
	assert_listing_refused("hostile_elem_limit", RATE,
			       "statement 'limit' inside a set element is not a match");
	assert_listing_refused("hostile_elem_concat_counter", RATE,
			       "statement 'counter' inside a set element is not a match");
	/* a comment on an element selects nothing and does nothing */
	assert_listing_ok("legit_elem_comment", RATE);
}

static void test_nftrace_set_0_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_nftrace_set_0", RATE,
			       "statement 'meta nftrace set' is not a match");
}

static void test_nftrace_set_before_match_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_nftrace_first", RATE,
			       "statement 'meta nftrace set' is not a match");
}

static void test_log_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_log", RATE, "'log' is not a match");
}

static void test_ct_mark_set_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_ct_mark_set", RATE, "'ct mark set' is not a match");
}

static void test_meta_mark_set_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_meta_mark_set", RATE, "'meta mark set' is not a match");
}

static void test_payload_mangle_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_ip_ttl_set", RATE, "'ip ttl set' is not a match");
	assert_listing_refused("hostile_tcp_option_set", RATE,
			       "'tcp option maxseg set' is not a match");
}

static void test_notrack_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_notrack", RATE, "'notrack' is not a match");
}

static void test_vmap_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_vmap", RATE, "'vmap' is not a match");
}

static void test_stateful_statements_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_quota", RATE, "'quota'");
	assert_listing_refused("hostile_meter", RATE, "'meter'");
	assert_listing_refused("hostile_ct_count", RATE, "'ct count'");
	assert_listing_refused("hostile_synproxy", RATE, "'synproxy'");
	assert_listing_refused("hostile_dup", RATE, "'dup'");
}

static void test_verdicts_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_accept", RATE, "'accept' is not a match");
	assert_listing_refused("hostile_drop", RATE, "'drop' is not a match");
	assert_listing_refused("hostile_return", RATE, "'return' is not a match");
	assert_listing_refused("hostile_jump", RATE, "'jump' is not a match");
	assert_listing_refused("hostile_goto", RATE, "'goto' is not a match");
}

static void test_verdict_after_our_statements_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_accept_after_ours", RATE, "'accept' is not a match");
	assert_listing_refused("hostile_continue", RATE, "'continue' is not a match");
}

static void test_reject_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_reject", RATE, "'reject' is not a match");
}

static void test_nat_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_dnat", RATE, "'dnat' is not a match");
	assert_listing_refused("hostile_snat", RATE, "'snat' is not a match");
	assert_listing_refused("hostile_masquerade", RATE, "'masquerade' is not a match");
	assert_listing_refused("hostile_redirect", RATE, "'redirect' is not a match");
}

static void test_limit_over_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_limit_over", RATE,
			       "'limit over rate 1/second' is not a match");
}

static void test_extra_limit_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_extra_limit", RATE, "'limit rate 5/second' is not a match");
}

static void test_limit_refused_when_no_rate_requested(void **state)
{
	(void)state;
	assert_listing_refused("legit_iifname", NULL, "'limit' is not a match");
}

static void test_missing_limit_refused(void **state)
{
	(void)state;
	assert_listing_refused("legit_no_limit", RATE, "own 'limit' statement is missing");
}

static void test_rate_mismatch_refused(void **state)
{
	(void)state;
	assert_listing_refused(
		"legit_rate_10_minute", RATE,
		"'limit rate 10/minute' is not a match (nattraced adds only limit rate 1/second)");
}

static void test_rule_without_match_refused(void **state)
{
	(void)state;
	assert_listing_refused("hostile_only_ours", RATE, "no match expression");
}

static void test_two_rules_refused(void **state)
{
	(void)state;
	assert_listing_refused("two_rules", RATE, "holds 2 rules");
}

static void test_zero_rules_refused(void **state)
{
	(void)state;
	assert_listing_refused("zero_rules", RATE, "holds 0 rules");
}

/* --- match_verify_listing: shapes written by hand --- */

#define LISTING_HEAD                                                 \
	"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}}, " \
	"{\"rule\": {\"family\": \"inet\", \"table\": \"t\", "       \
	"\"chain\": \"match_check\", \"handle\": 2, \"expr\": ["
#define MATCH_EXPR                                           \
	"{\"match\": {\"op\": \"==\", \"left\": {\"meta\": " \
	"{\"key\": \"l4proto\"}}, \"right\": \"udp\"}}"
#define OUR_LIMIT    "{\"limit\": {\"rate\": 1, \"burst\": 5, \"per\": \"second\"}}"
#define OUR_COUNTER  "{\"counter\": {\"packets\": 0, \"bytes\": 0}}"
#define OUR_NFTRACE  "{\"mangle\": {\"key\": {\"meta\": {\"key\": \"nftrace\"}}, \"value\": 1}}"
#define LISTING_TAIL "]}}]}"

static void test_hand_written_listing_of_our_shape_accepted(void **state)
{
	char err[256] = "";

	(void)state;
	assert_int_equal(match_verify_listing(LISTING_HEAD MATCH_EXPR ", " OUR_LIMIT
								      ", " OUR_COUNTER
								      ", " OUR_NFTRACE LISTING_TAIL,
					      RATE, err, sizeof(err)),
			 0);
}

/* Not captured: this kernel has no nft_queue (see the fixture README). */
static void test_queue_refused(void **state)
{
	(void)state;
	assert_json_refused(LISTING_HEAD MATCH_EXPR ", {\"queue\": {\"num\": 0}}" LISTING_TAIL,
			    RATE, "'queue' is not a match");
}

/* nft 1.0.6 prints a statement without a JSON callback as its text. */
static void test_statement_printed_as_bare_string_refused(void **state)
{
	(void)state;
	assert_json_refused(LISTING_HEAD MATCH_EXPR ", \"xt target MASQUERADE\", " OUR_LIMIT
						    ", " OUR_COUNTER ", " OUR_NFTRACE LISTING_TAIL,
			    RATE, "'xt target MASQUERADE' is not a match");
}

static void test_named_counter_refused(void **state)
{
	(void)state;
	assert_json_refused(LISTING_HEAD MATCH_EXPR
			    ", " OUR_LIMIT ", {\"counter\": \"c\"}, " OUR_NFTRACE LISTING_TAIL,
			    RATE, "'counter' is not a match");
}

static void test_byte_rate_limit_refused(void **state)
{
	(void)state;
	assert_json_refused(
		LISTING_HEAD MATCH_EXPR
		", {\"limit\": {\"rate\": 1, "
		"\"burst\": 5, \"per\": \"second\", \"rate_unit\": \"mbytes\"}}, " OUR_COUNTER
		", " OUR_NFTRACE LISTING_TAIL,
		RATE, "(bytes)");
}

static void test_missing_nftrace_refused(void **state)
{
	(void)state;
	assert_json_refused(LISTING_HEAD MATCH_EXPR ", " OUR_LIMIT ", " OUR_COUNTER LISTING_TAIL,
			    RATE, "own 'meta nftrace set' statement is missing");
}

static void test_match_that_is_not_an_object_refused(void **state)
{
	(void)state;
	assert_json_refused(LISTING_HEAD "{\"match\": \"ip daddr 192.0.2.1\"}, " OUR_LIMIT
					 ", " OUR_COUNTER ", " OUR_NFTRACE LISTING_TAIL,
			    RATE, "'match' is not a match");
}

static void test_invalid_json_refused(void **state)
{
	(void)state;
	assert_json_refused("{\"nftables\": [", RATE, "not JSON");
	assert_json_refused("", RATE, "not JSON");
}

static void test_json_without_nftables_array_refused(void **state)
{
	(void)state;
	assert_json_refused("{}", RATE, "no \"nftables\" array");
	assert_json_refused("[]", RATE, "no \"nftables\" array");
}

static void test_rule_without_expr_refused(void **state)
{
	(void)state;
	assert_json_refused("{\"nftables\": [{\"rule\": {\"chain\": \"c\"}}]}", RATE,
			    "no \"expr\" array");
}

static void test_unexpected_listing_element_refused(void **state)
{
	(void)state;
	assert_json_refused("{\"nftables\": [{\"set\": {\"name\": \"s\"}}, "
			    "{\"rule\": {\"expr\": [" MATCH_EXPR ", " OUR_LIMIT ", " OUR_COUNTER
			    ", " OUR_NFTRACE "]}}]}",
			    RATE, "unexpected 'set'");
}

static void test_duplicate_keys_refused(void **state)
{
	(void)state;
	assert_json_refused("{\"nftables\": [], \"nftables\": []}", RATE, "not JSON");
}

static void test_null_listing_refused(void **state)
{
	(void)state;
	assert_json_refused(NULL, RATE, "no listing");
}

static void test_listing_with_invalid_rate_refused(void **state)
{
	char *json = read_fixture("legit_iifname");
	char err[256] = "";

	(void)state;
	assert_int_equal(match_verify_listing(json, "1/Second", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rate '1/Second'"));
	free(json);
}

static void test_null_err_buffer_tolerated(void **state)
{
	(void)state;
	assert_int_equal(match_precheck("a;b", NULL, 0), -EINVAL);
	assert_int_equal(match_verify_listing("{", RATE, NULL, 0), -EINVAL);
}

/*
 * What libnftables 1.0.6 wrote for `--match "tcp dprt 22"` (the check
 * batch's rule line, as tests/e2e/refused_match.sh sends it).
 */
static const char nft_dprt_error[] =
	"Error: syntax error, unexpected string\n"
	"add rule inet trace_debug check tcp dprt 22 limit rate 1/second counter meta nftrace set 1\n"
	"                                    ^^^^\n";

static void test_error_marker_under_the_misspelt_word(void **state)
{
	char buf[256];

	(void)state;
	assert_int_not_equal(match_error_marker(nft_dprt_error, "tcp dprt 22", buf, sizeof(buf)),
			     0);
	assert_string_equal(buf, "  tcp dprt 22\n      ^^^^");
}

static void test_error_marker_not_under_the_match_is_left_out(void **state)
{
	static const char ours[] =
		"Error: Could not process rule: No such file or directory\n"
		"add rule inet trace_debug check tcp dport 22 limit rate 1/second counter meta nftrace set 1\n"
		"                ^^^^^^^^^^^\n";
	char buf[256] = "x";

	(void)state;
	assert_int_equal(match_error_marker(ours, "tcp dport 22", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* no marks line at all */
	assert_int_equal(
		match_error_marker("Error: syntax error\n", "tcp dprt 22", buf, sizeof(buf)), 0);
	assert_int_equal(match_error_marker(NULL, "tcp", buf, sizeof(buf)), 0);
}

static void test_error_marker_cut_at_the_end_of_the_match(void **state)
{
	static const char wide[] =
		"Error: conflicting protocols specified: tcp vs. udp\n"
		"add rule inet trace_debug check tcp dport 22 udp dport 53 counter meta nftrace set 1\n"
		"                                             ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n";
	char buf[256];

	(void)state;
	assert_int_not_equal(
		match_error_marker(wide, "tcp dport 22 udp dport 53", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "  tcp dport 22 udp dport 53\n               ~~~~~~~~~~~~");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semicolon_refused_as_chained_command),
		cmocka_unit_test(test_semicolon_inside_quotes_refused),
		cmocka_unit_test(test_semicolon_alone_refused),
		cmocka_unit_test(test_newline_refused_as_chained_command),
		cmocka_unit_test(test_carriage_return_refused_as_chained_command),
		cmocka_unit_test(test_newline_inside_quotes_refused),
		cmocka_unit_test(test_hash_refused_as_comment_swallowing_our_statements),
		cmocka_unit_test(test_hash_inside_quotes_refused),
		cmocka_unit_test(test_dollar_variable_refused),
		cmocka_unit_test(test_include_refused),
		cmocka_unit_test(test_include_inside_set_refused),
		cmocka_unit_test(test_define_refused),
		cmocka_unit_test(test_redefine_and_undefine_refused),
		cmocka_unit_test(test_null_refused_as_empty),
		cmocka_unit_test(test_empty_refused),
		cmocka_unit_test(test_blank_refused),
		cmocka_unit_test(test_overlong_refused),
		cmocka_unit_test(test_control_characters_refused),
		cmocka_unit_test(test_stray_closing_brace_refused),
		cmocka_unit_test(test_unclosed_brace_refused),
		cmocka_unit_test(test_mismatched_brackets_refused),
		cmocka_unit_test(test_unterminated_quote_refused),
		cmocka_unit_test(test_nesting_deeper_than_limit_refused),
		cmocka_unit_test(test_legitimate_matches_pass_precheck),
		cmocka_unit_test(test_tab_allowed_as_whitespace),
		cmocka_unit_test(test_words_containing_include_allowed),
		cmocka_unit_test(test_match_of_exactly_4096_bytes_allowed),
		cmocka_unit_test(test_rule_text_with_rate),
		cmocka_unit_test(test_rule_text_without_rate_has_no_limit),
		cmocka_unit_test(test_rule_text_too_long_is_enospc),
		cmocka_unit_test(test_rule_text_refuses_rate_that_is_not_n_per_unit),
		cmocka_unit_test(test_real_listings_of_legit_matches_accepted),
		cmocka_unit_test(test_listing_without_limit_accepted_when_no_rate),
		cmocka_unit_test(test_listing_with_other_rate_accepted_for_that_rate),
		cmocka_unit_test(test_counter_in_match_refused),
		cmocka_unit_test(test_nftrace_set_0_refused),
		cmocka_unit_test(test_statements_in_set_elements_refused),
		cmocka_unit_test(test_nftrace_set_before_match_refused),
		cmocka_unit_test(test_log_refused),
		cmocka_unit_test(test_ct_mark_set_refused),
		cmocka_unit_test(test_meta_mark_set_refused),
		cmocka_unit_test(test_payload_mangle_refused),
		cmocka_unit_test(test_notrack_refused),
		cmocka_unit_test(test_vmap_refused),
		cmocka_unit_test(test_stateful_statements_refused),
		cmocka_unit_test(test_verdicts_refused),
		cmocka_unit_test(test_verdict_after_our_statements_refused),
		cmocka_unit_test(test_reject_refused),
		cmocka_unit_test(test_nat_refused),
		cmocka_unit_test(test_limit_over_refused),
		cmocka_unit_test(test_extra_limit_refused),
		cmocka_unit_test(test_limit_refused_when_no_rate_requested),
		cmocka_unit_test(test_missing_limit_refused),
		cmocka_unit_test(test_rate_mismatch_refused),
		cmocka_unit_test(test_rule_without_match_refused),
		cmocka_unit_test(test_two_rules_refused),
		cmocka_unit_test(test_zero_rules_refused),
		cmocka_unit_test(test_hand_written_listing_of_our_shape_accepted),
		cmocka_unit_test(test_queue_refused),
		cmocka_unit_test(test_statement_printed_as_bare_string_refused),
		cmocka_unit_test(test_named_counter_refused),
		cmocka_unit_test(test_byte_rate_limit_refused),
		cmocka_unit_test(test_missing_nftrace_refused),
		cmocka_unit_test(test_match_that_is_not_an_object_refused),
		cmocka_unit_test(test_invalid_json_refused),
		cmocka_unit_test(test_json_without_nftables_array_refused),
		cmocka_unit_test(test_rule_without_expr_refused),
		cmocka_unit_test(test_unexpected_listing_element_refused),
		cmocka_unit_test(test_duplicate_keys_refused),
		cmocka_unit_test(test_null_listing_refused),
		cmocka_unit_test(test_listing_with_invalid_rate_refused),
		cmocka_unit_test(test_null_err_buffer_tolerated),
		cmocka_unit_test(test_error_marker_under_the_misspelt_word),
		cmocka_unit_test(test_error_marker_not_under_the_match_is_left_out),
		cmocka_unit_test(test_error_marker_cut_at_the_end_of_the_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
