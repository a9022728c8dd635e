/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/netfilter.h>

#include "listing.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif
#define LISTING_DIR FIXTURES "/listing/"
#define MAX_SEEN    256

/* Everything the callbacks saw, copied: their strings live for the call. */
struct seen_chain {
	uint8_t family;
	char *table, *name, *hook;
};

struct seen_rule {
	uint8_t family;
	char *table, *chain;
	uint64_t handle;
	char *text;
	bool truncated;
};

struct seen {
	char *tables[MAX_SEEN];
	uint8_t table_family[MAX_SEEN];
	unsigned int ntables;
	struct seen_chain chains[MAX_SEEN];
	unsigned int nchains;
	struct seen_rule rules[MAX_SEEN];
	unsigned int nrules;
	struct listing_stats stats;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int on_table(void *data, const struct listing_table *t)
{
	struct seen *s = data;

	assert_true(s->ntables < MAX_SEEN);
	s->table_family[s->ntables] = t->family;
	s->tables[s->ntables++] = strdup(t->name);
	return 0;
}

static int on_chain(void *data, const struct listing_table *t, const struct listing_chain *c)
{
	struct seen *s = data;
	struct seen_chain *sc = &s->chains[s->nchains++];

	assert_true(s->nchains <= MAX_SEEN);
	sc->family = t->family;
	sc->table = strdup(t->name);
	sc->name = strdup(c->name);
	sc->hook = dup_or_null(c->hook);
	return 0;
}

static int on_rule(void *data, const struct listing_table *t, const struct listing_chain *c,
		   const struct listing_rule *r)
{
	struct seen *s = data;
	struct seen_rule *sr = &s->rules[s->nrules++];

	assert_true(s->nrules <= MAX_SEEN);
	sr->family = t->family;
	sr->table = strdup(t->name);
	sr->chain = strdup(c->name);
	sr->handle = r->handle;
	sr->text = strdup(r->text);
	sr->truncated = r->truncated;
	return 0;
}

static const struct listing_ops collect_ops = {
	.table = on_table,
	.chain = on_chain,
	.rule = on_rule,
};

static void seen_free(struct seen *s)
{
	unsigned int i;

	for (i = 0; i < s->ntables; i++)
		free(s->tables[i]);
	for (i = 0; i < s->nchains; i++) {
		free(s->chains[i].table);
		free(s->chains[i].name);
		free(s->chains[i].hook);
	}
	for (i = 0; i < s->nrules; i++) {
		free(s->rules[i].table);
		free(s->rules[i].chain);
		free(s->rules[i].text);
	}
	free(s);
}

static char *read_fixture(const char *name, size_t *ret_len)
{
	char path[512];
	char *buf = NULL;
	long len;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", LISTING_DIR, name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open fixture %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	buf = malloc(len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	*ret_len = len;
	return buf;
}

static struct seen *parse_text(const char *text, size_t len)
{
	struct seen *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	assert_int_equal(listing_parse(text, len, &collect_ops, s, &s->stats), 0);
	return s;
}

static struct seen *parse_str(const char *text)
{
	return parse_text(text, strlen(text));
}

static struct seen *parse_fixture(const char *name)
{
	struct seen *s;
	size_t len;
	char *text = read_fixture(name, &len);

	s = parse_text(text, len);
	free(text);
	return s;
}

static const struct seen_rule *find_rule(const struct seen *s, uint8_t family, const char *table,
					 uint64_t handle)
{
	unsigned int i;

	for (i = 0; i < s->nrules; i++) {
		const struct seen_rule *r = &s->rules[i];

		if (r->family == family && r->handle == handle && strcmp(r->table, table) == 0)
			return r;
	}
	return NULL;
}

static const struct seen_chain *find_chain(const struct seen *s, uint8_t family, const char *table,
					   const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nchains; i++) {
		const struct seen_chain *c = &s->chains[i];

		if (c->family == family && strcmp(c->table, table) == 0 &&
		    strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

static void assert_rule(const struct seen *s, uint8_t family, const char *table, uint64_t handle,
			const char *text)
{
	const struct seen_rule *r = find_rule(s, family, table, handle);

	if (!r)
		fail_msg("no rule %s handle %llu", table, (unsigned long long)handle);
	assert_string_equal(r->text, text);
}

static void assert_hook(const struct seen *s, uint8_t family, const char *table, const char *chain,
			const char *hook)
{
	const struct seen_chain *c = find_chain(s, family, table, chain);

	if (!c)
		fail_msg("no chain %s %s", table, chain);
	if (!hook)
		assert_null(c->hook);
	else
		assert_string_equal(c->hook, hook);
}

static void test_family_keywords_map_to_nfproto(void **state)
{
	(void)state;
	assert_int_equal(listing_family("ip", 2), NFPROTO_IPV4);
	assert_int_equal(listing_family("ip6", 3), NFPROTO_IPV6);
	assert_int_equal(listing_family("inet", 4), NFPROTO_INET);
	assert_int_equal(listing_family("arp", 3), NFPROTO_ARP);
	assert_int_equal(listing_family("bridge", 6), NFPROTO_BRIDGE);
	assert_int_equal(listing_family("netdev", 6), NFPROTO_NETDEV);
	assert_int_equal(listing_family("ip6x", 4), -EINVAL);
	assert_int_equal(listing_family("ip6", 2), NFPROTO_IPV4);
}

static void test_ruleset_reports_every_table_chain_and_rule(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_int_equal(s->ntables, 9);
	assert_int_equal(s->stats.tables, 9);
	/* filter 4, nat 2, raw6 1, a1 1, br 1, nd 2, cb 1, obj 2, weird 2 */
	assert_int_equal(s->nchains, 16);
	/* every "# handle" line inside a chain, bindings counted once */
	assert_int_equal(s->nrules, 27);
	assert_int_equal(s->stats.rules, 27);
	assert_int_equal(s->stats.skipped_lines, 0);
	assert_int_equal(s->stats.skipped_tables, 0);
	assert_int_equal(s->stats.truncated, 0);
	seen_free(s);
}

static void test_tables_carry_their_family(void **state)
{
	static const struct {
		const char *name;
		uint8_t family;
	} want[] = {
		{ "filter", NFPROTO_INET },	 { "nat", NFPROTO_IPV4 },
		{ "raw6", NFPROTO_IPV6 },	 { "a1", NFPROTO_ARP },
		{ "br", NFPROTO_BRIDGE },	 { "nd", NFPROTO_NETDEV },
		{ "cb", NFPROTO_IPV4 },		 { "obj", NFPROTO_INET },
		{ "weird table", NFPROTO_INET },
	};
	struct seen *s = parse_fixture("ruleset.txt");
	unsigned int i;

	(void)state;
	assert_int_equal(s->ntables, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < s->ntables; i++) {
		assert_string_equal(s->tables[i], want[i].name);
		assert_int_equal(s->table_family[i], want[i].family);
	}
	seen_free(s);
}

/* An owned table's line names its owner after the handle (nft -a). */
static void test_owned_table_with_progname_is_read(void **state)
{
	static const char text[] = "table inet trace_debug { # handle 1 progname nattraced\n"
				   "\tflags owner\n"
				   "\n"
				   "\tchain trace_prerouting { # handle 3\n"
				   "\t\ttype filter hook prerouting priority -350; policy accept;\n"
				   "\t\tudp dport 9 counter meta nftrace set 1 # handle 4\n"
				   "\t}\n"
				   "}\n";
	struct seen *s = calloc(1, sizeof(*s));

	(void)state;
	assert_non_null(s);
	assert_int_equal(listing_parse(text, strlen(text), &collect_ops, s, &s->stats), 0);
	assert_int_equal(s->ntables, 1);
	assert_string_equal(s->tables[0], "trace_debug");
	assert_int_equal(s->nchains, 1);
	assert_string_equal(s->chains[0].hook, "prerouting");
	assert_int_equal(s->nrules, 1);
	assert_int_equal(s->rules[0].handle, 4);
	assert_int_equal(s->stats.skipped_tables, 0);
	seen_free(s);
}

static void test_rule_text_loses_indent_and_handle(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_rule(s, NFPROTO_INET, "filter", 11, "ct state established,related accept");
	assert_rule(s, NFPROTO_INET, "filter", 12, "iif \"lo\" accept");
	assert_rule(s, NFPROTO_IPV4, "nat", 3,
		    "ip daddr 203.0.113.5 tcp dport 80 dnat to 192.0.2.10:8080");
	assert_rule(s, NFPROTO_ARP, "a1", 2, "arp operation request counter");
	assert_rule(s, NFPROTO_BRIDGE, "br", 2, "ether type ip counter");
	assert_rule(s, NFPROTO_NETDEV, "nd", 3, "ip saddr 198.51.100.9 drop");
	assert_rule(s, NFPROTO_IPV6, "raw6", 2, "ip6 daddr 2001:db8::/32 notrack");
	seen_free(s);
}

static void test_comment_with_hash_and_braces(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_rule(s, NFPROTO_INET, "filter", 17,
		    "ip saddr 192.0.2.1 counter drop comment \"a # b { c } ; d\"");
	assert_rule(s, NFPROTO_INET, "filter", 18, "ip6 saddr 2001:db8::1 drop comment \"x;y\"");
	assert_rule(s, NFPROTO_INET, "filter", 22,
		    "ip daddr { 192.0.2.0/24, 198.51.100.0/24 } log prefix \"pfx { # \" drop");
	seen_free(s);
}

static void test_comment_containing_handle_trailer_stays_text(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_rule(s, NFPROTO_INET, "filter", 23,
		    "ip saddr 192.0.2.2 drop comment \"x # handle 99\"");
	assert_null(find_rule(s, NFPROTO_INET, "filter", 99));
	seen_free(s);
}

static void test_anonymous_set_and_vmap_stay_one_rule(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_rule(s, NFPROTO_INET, "filter", 14,
		    "ip saddr @allowed_v4 tcp dport { 22, 80, 443 } accept");
	assert_rule(s, NFPROTO_INET, "filter", 16, "tcp dport vmap { 8080 : accept, 8081 : drop }");
	seen_free(s);
}

/* Sets, maps and objects have "# handle" lines too, in the same table. */
static void test_sets_maps_and_objects_are_not_rules(void **state)
{
	static const uint64_t filter_rules[] = {
		11, 12, 14, 16, 17, 18, 19, 20, 22, 23, 24, 25, 26,
	};
	struct seen *s = parse_fixture("ruleset.txt");
	unsigned int i, n = 0;

	(void)state;
	for (i = 0; i < s->nrules; i++) {
		if (strcmp(s->rules[i].table, "filter") != 0)
			continue;
		assert_true(n < sizeof(filter_rules) / sizeof(filter_rules[0]));
		assert_int_equal(s->rules[i].handle, filter_rules[n]);
		n++;
	}
	assert_int_equal(n, sizeof(filter_rules) / sizeof(filter_rules[0]));
	/* obj's rules are 9 and 10; 3..8 are its limit, ct, set and map */
	for (i = 3; i <= 8; i++)
		assert_null(find_rule(s, NFPROTO_INET, "obj", i));
	assert_rule(s, NFPROTO_INET, "obj", 9, "ip6 saddr @s6 accept");
	assert_rule(s, NFPROTO_INET, "obj", 10, "iifname vmap @m2");
	seen_free(s);
}

static void test_base_chains_report_their_hook(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_hook(s, NFPROTO_INET, "filter", "input", "input");
	assert_hook(s, NFPROTO_INET, "filter", "forward", "forward");
	assert_hook(s, NFPROTO_INET, "filter", "out", "output");
	assert_hook(s, NFPROTO_IPV4, "nat", "pre", "prerouting");
	assert_hook(s, NFPROTO_IPV4, "nat", "post", "postrouting");
	assert_hook(s, NFPROTO_IPV6, "raw6", "c1", "prerouting");
	assert_hook(s, NFPROTO_ARP, "a1", "in", "input");
	assert_hook(s, NFPROTO_BRIDGE, "br", "fw", "forward");
	seen_free(s);
}

static void test_regular_chains_have_no_hook(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_hook(s, NFPROTO_INET, "filter", "my_chain", NULL);
	assert_hook(s, NFPROTO_IPV4, "cb", "c", NULL);
	assert_hook(s, NFPROTO_INET, "obj", "d", NULL);
	seen_free(s);
}

static void test_netdev_chain_with_devices_has_ingress_hook(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_hook(s, NFPROTO_NETDEV, "nd", "ingr", "ingress");
	assert_hook(s, NFPROTO_NETDEV, "nd", "ingr1", "ingress");
	assert_rule(s, NFPROTO_NETDEV, "nd", 4, "counter");
	seen_free(s);
}

static void test_chain_comment_before_type_keeps_hook(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_hook(s, NFPROTO_INET, "obj", "e", "output");
	seen_free(s);
}

static void test_chain_binding_is_joined_into_one_rule(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_rule(
		s, NFPROTO_IPV4, "cb", 5,
		"tcp dport 22 jump { ip saddr 192.0.2.1 accept; counter comment \"in { binding\"; }");
	assert_rule(s, NFPROTO_IPV4, "cb", 8, "udp dport 53 goto { accept; }");
	assert_rule(s, NFPROTO_IPV4, "cb", 9, "ip saddr 192.0.2.9 drop");
	seen_free(s);
}

static void test_names_with_spaces_and_braces(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_hook(s, NFPROTO_INET, "weird table", "my chain", NULL);
	assert_hook(s, NFPROTO_INET, "weird table", "c{h#a}n;", "input");
	assert_rule(s, NFPROTO_INET, "weird table", 3, "jump my chain");
	assert_rule(s, NFPROTO_INET, "weird table", 4, "accept");
	seen_free(s);
}

static void test_quoted_names_are_unquoted(void **state)
{
	struct seen *s = parse_str("table inet \"my table\" { # handle 3\n"
				   "\tchain \"my chain\" { # handle 1\n"
				   "\t\ttype filter hook input priority filter; policy accept;\n"
				   "\t\taccept # handle 2\n"
				   "\t}\n"
				   "}\n");

	(void)state;
	assert_int_equal(s->ntables, 1);
	assert_string_equal(s->tables[0], "my table");
	assert_hook(s, NFPROTO_INET, "my table", "my chain", "input");
	assert_rule(s, NFPROTO_INET, "my table", 2, "accept");
	seen_free(s);
}

static void test_terse_listing_gives_the_same_rules(void **state)
{
	struct seen *full = parse_fixture("ruleset.txt");
	struct seen *terse = parse_fixture("ruleset-terse.txt");
	unsigned int i;

	(void)state;
	assert_int_equal(terse->nrules, full->nrules);
	assert_int_equal(terse->nchains, full->nchains);
	for (i = 0; i < full->nrules; i++) {
		const struct seen_rule *r = &full->rules[i];

		assert_rule(terse, r->family, r->table, r->handle, r->text);
	}
	seen_free(full);
	seen_free(terse);
}

static void test_listing_without_handles_has_chains_but_no_rules(void **state)
{
	struct seen *s = parse_fixture("ruleset-nohandle.txt");

	(void)state;
	assert_int_equal(s->ntables, 9);
	assert_int_equal(s->nchains, 16);
	assert_int_equal(s->nrules, 0);
	assert_hook(s, NFPROTO_INET, "filter", "input", "input");
	seen_free(s);
}

/* Not capturable here: this kernel has no flowtable support (ENOENT). */
static void test_flowtable_block_is_skipped(void **state)
{
	struct seen *s = parse_str("table inet f { # handle 1\n"
				   "\tflowtable ft { # handle 2\n"
				   "\t\thook ingress priority filter\n"
				   "\t\tdevices = { lo, veth0 }\n"
				   "\t}\n"
				   "\n"
				   "\tchain fw { # handle 3\n"
				   "\t\ttype filter hook forward priority filter; policy accept;\n"
				   "\t\tflow add @ft # handle 4\n"
				   "\t}\n"
				   "}\n");

	(void)state;
	assert_int_equal(s->nrules, 1);
	assert_rule(s, NFPROTO_INET, "f", 4, "flow add @ft");
	assert_hook(s, NFPROTO_INET, "f", "fw", "forward");
	assert_int_equal(s->stats.skipped_lines, 0);
	seen_free(s);
}

static void test_unknown_family_skips_the_whole_table(void **state)
{
	struct seen *s = parse_str("table decnet d { # handle 1\n"
				   "\tchain c { # handle 1\n"
				   "\t\taccept # handle 2\n"
				   "\t}\n"
				   "}\n"
				   "table ip t { # handle 2\n"
				   "\tchain c { # handle 1\n"
				   "\t\tdrop # handle 2\n"
				   "\t}\n"
				   "}\n");

	(void)state;
	assert_int_equal(s->stats.skipped_tables, 1);
	assert_int_equal(s->ntables, 1);
	assert_int_equal(s->nrules, 1);
	assert_rule(s, NFPROTO_IPV4, "t", 2, "drop");
	seen_free(s);
}

static void test_long_rule_is_truncated_with_mark(void **state)
{
	const char *head = "table ip t { # handle 1\n\tchain c { # handle 1\n\t\t";
	const char *tail = " # handle 7\n\t}\n}\n";
	size_t body = LISTING_RULE_MAX + 100;
	char *text = malloc(strlen(head) + body + strlen(tail) + 1);
	const struct seen_rule *r;
	struct seen *s;
	char *p;

	(void)state;
	assert_non_null(text);
	p = stpcpy(text, head);
	memset(p, 'x', body);
	/* a two-byte UTF-8 character right across the cut */
	p[LISTING_RULE_MAX - 1 - strlen(LISTING_TRUNCATED_MARK) - 1] = '\xc3';
	p[LISTING_RULE_MAX - 1 - strlen(LISTING_TRUNCATED_MARK)] = '\xa9';
	strcpy(p + body, tail);
	s = parse_str(text);
	r = find_rule(s, NFPROTO_IPV4, "t", 7);
	assert_non_null(r);
	assert_true(r->truncated);
	assert_int_equal(s->stats.truncated, 1);
	assert_true(strlen(r->text) < LISTING_RULE_MAX);
	assert_string_equal(r->text + strlen(r->text) - strlen(LISTING_TRUNCATED_MARK),
			    LISTING_TRUNCATED_MARK);
	assert_int_equal((unsigned char)r->text[strlen(r->text) - 4], 'x');
	seen_free(s);
	free(text);
}

static int fail_on_rule(void *data, const struct listing_table *t, const struct listing_chain *c,
			const struct listing_rule *r)
{
	unsigned int *calls = data;

	(void)t;
	(void)c;
	(void)r;
	(*calls)++;
	return -ENOMEM;
}

static void test_callback_error_stops_the_parse(void **state)
{
	const struct listing_ops ops = { .rule = fail_on_rule };
	struct listing_stats stats = { .rules = 12345 };
	unsigned int calls = 0;
	size_t len;
	char *text = read_fixture("ruleset.txt", &len);

	(void)state;
	assert_int_equal(listing_parse(text, len, &ops, &calls, &stats), -ENOMEM);
	assert_int_equal(calls, 1);
	/* ret_* is written on success only */
	assert_int_equal(stats.rules, 12345);
	free(text);
}

static void test_length_bounds_the_text(void **state)
{
	const char *text = "table ip t { # handle 1\n"
			   "\tchain c { # handle 1\n"
			   "\t\tdrop # handle 2\n"
			   "\t\taccept # handle 3\n";
	size_t len = strstr(text, "\t\taccept") - text;
	struct seen *s = parse_text(text, len);

	(void)state;
	/* no closing braces and no final newline: what was there counts */
	assert_int_equal(s->nrules, 1);
	assert_rule(s, NFPROTO_IPV4, "t", 2, "drop");
	assert_int_equal(s->nchains, 1);
	seen_free(s);
}

static void test_empty_listing_reports_nothing(void **state)
{
	struct seen *s = parse_str("");

	(void)state;
	assert_int_equal(s->ntables, 0);
	assert_int_equal(s->nchains, 0);
	assert_int_equal(s->nrules, 0);
	seen_free(s);
}

static void test_chain_without_rules_is_still_reported(void **state)
{
	struct seen *s = parse_fixture("ruleset.txt");

	(void)state;
	assert_hook(s, NFPROTO_INET, "filter", "out", "output");
	seen_free(s);
}

/* Found by fuzzing: "table {" made the name search run before the line. */
static void test_table_header_without_family_or_name_is_skipped(void **state)
{
	static const char *const lines[] = {
		"table {\n", "table  {\n", "table {", "table ip {\n", "table { # handle 1\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct seen *s = parse_str(lines[i]);

		assert_int_equal(s->ntables, 0);
		assert_int_equal(s->nrules, 0);
		seen_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_keywords_map_to_nfproto),
		cmocka_unit_test(test_ruleset_reports_every_table_chain_and_rule),
		cmocka_unit_test(test_tables_carry_their_family),
		cmocka_unit_test(test_owned_table_with_progname_is_read),
		cmocka_unit_test(test_rule_text_loses_indent_and_handle),
		cmocka_unit_test(test_comment_with_hash_and_braces),
		cmocka_unit_test(test_comment_containing_handle_trailer_stays_text),
		cmocka_unit_test(test_anonymous_set_and_vmap_stay_one_rule),
		cmocka_unit_test(test_sets_maps_and_objects_are_not_rules),
		cmocka_unit_test(test_base_chains_report_their_hook),
		cmocka_unit_test(test_regular_chains_have_no_hook),
		cmocka_unit_test(test_netdev_chain_with_devices_has_ingress_hook),
		cmocka_unit_test(test_chain_comment_before_type_keeps_hook),
		cmocka_unit_test(test_chain_binding_is_joined_into_one_rule),
		cmocka_unit_test(test_names_with_spaces_and_braces),
		cmocka_unit_test(test_quoted_names_are_unquoted),
		cmocka_unit_test(test_terse_listing_gives_the_same_rules),
		cmocka_unit_test(test_listing_without_handles_has_chains_but_no_rules),
		cmocka_unit_test(test_flowtable_block_is_skipped),
		cmocka_unit_test(test_unknown_family_skips_the_whole_table),
		cmocka_unit_test(test_long_rule_is_truncated_with_mark),
		cmocka_unit_test(test_callback_error_stops_the_parse),
		cmocka_unit_test(test_length_bounds_the_text),
		cmocka_unit_test(test_empty_listing_reports_nothing),
		cmocka_unit_test(test_chain_without_rules_is_still_reported),
		cmocka_unit_test(test_table_header_without_family_or_name_is_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
