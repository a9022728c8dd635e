/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --match as a NAT filter: listings as nft 1.0.6 prints them
 * (tests/fixtures/match), applied to mappings from real conntrack events
 * (tests/fixtures/conntrack).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include "natfilter.h"
#include "natmap.h"
#include "trace.h"

static char *slurp(const char *dir, const char *name, size_t *ret_len)
{
	char path[512], *buf;
	size_t len;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s/%s", FIXTURES, dir, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	buf = calloc(1, 1 << 16);
	assert_non_null(buf);
	len = fread(buf, 1, (1 << 16) - 1, fp);
	fclose(fp);
	if (ret_len)
		*ret_len = len;
	return buf;
}

static struct natfilter *filter_of(const char *fixture)
{
	struct natfilter *f = malloc(sizeof(*f));
	char *json = slurp("match", fixture, NULL);

	assert_non_null(f);
	assert_int_equal(natfilter_from_listing(json, f), 0);
	free(json);
	return f;
}

/* The first new-event mapping of each connection in the events fixture. */
struct maps {
	struct natmap dnat4, dnat6, snat, udp;
};

static void load_maps(struct maps *ret)
{
	size_t len, off = 0;
	char *buf = slurp("conntrack", "events.bin", &len);
	const struct nlmsghdr *nlh;
	bool bad;

	memset(ret, 0, sizeof(*ret));
	while ((nlh = trace_msg_next(buf, len, &off, &bad))) {
		struct natmap m;

		assert_int_equal(natmap_parse_msg(nlh, false, &m), 0);
		if (m.event != NATMAP_EV_NEW)
			continue;
		if (m.l4proto == IPPROTO_UDP)
			ret->udp = m;
		else if (m.nat == NATMAP_NAT_SNAT)
			ret->snat = m;
		else if (m.l3 == 6)
			ret->dnat6 = m;
		else
			ret->dnat4 = m;
	}
	free(buf);
	assert_int_equal(ret->dnat4.l3, 4);
	assert_int_equal(ret->dnat6.l3, 6);
	assert_int_equal(ret->snat.l3, 4);
	assert_int_equal(ret->udp.l3, 4);
}

static void test_port_forward_match_selects_the_original_tuple(void **state)
{
	struct natfilter *f = filter_of("legit_port_forward.json");
	struct maps m;

	(void)state;
	load_maps(&m);
	/* tcp flags is about packets, not connections: ignored and named */
	assert_int_equal(f->n_ignored, 1);
	assert_string_equal(f->ignored, "tcp flags");
	assert_true(natfilter_match(f, &m.dnat4));
	assert_false(natfilter_match(f, &m.dnat6)); /* ip daddr: IPv4 only */
	assert_false(natfilter_match(f, &m.snat));
	assert_false(natfilter_match(f, &m.udp));
	/* the translated side does not count: the server's port is 22 */
	m.dnat4.orig_dst.port = 22;
	assert_false(natfilter_match(f, &m.dnat4));
	free(f);
}

static void test_negation_prefix_and_comparison(void **state)
{
	struct natfilter *f = filter_of(
		"legit_nat_negated.json"); /* ip saddr != 203.0.113.0/24 tcp dport < 1024 */
	struct maps m;

	(void)state;
	load_maps(&m);
	assert_int_equal(f->n_ignored, 0);
	m.dnat4.orig_dst.port = 80;
	assert_true(natfilter_match(f, &m.dnat4));
	m.dnat4.orig_dst.port = 1024;
	assert_false(natfilter_match(f, &m.dnat4));
	m.snat.orig_dst.port = 80;
	/* the server 203.0.113.10 is inside the excluded prefix */
	assert_false(natfilter_match(f, &m.snat));
	free(f);
}

static void test_sets_of_addresses_prefixes_and_protocols(void **state)
{
	struct natfilter *f = filter_of("legit_addr_set.json");
	struct maps m;

	(void)state;
	load_maps(&m);
	assert_true(natfilter_match(f, &m.dnat6)); /* 2001:db8:1::1 in the set */
	assert_false(natfilter_match(f, &m.dnat4));
	m.dnat6.orig_dst.addr[5] = 3; /* 2001:db8:3:: in the /48 */
	assert_true(natfilter_match(f, &m.dnat6));
	m.dnat6.orig_dst.addr[5] = 4;
	assert_false(natfilter_match(f, &m.dnat6));
	free(f);
}

static void test_two_matches_and_implied_protocol(void **state)
{
	struct natfilter *f =
		filter_of("legit_two_matches.json"); /* ip saddr 198.51.100.7 udp dport 53 */
	struct maps m;

	(void)state;
	load_maps(&m);
	assert_false(natfilter_match(f, &m.udp));
	m.udp.orig_src.addr[3] = 7;
	m.udp.orig_dst.port = 53;
	assert_true(natfilter_match(f, &m.udp));
	m.udp.l4proto = IPPROTO_TCP; /* udp dport implies udp */
	assert_false(natfilter_match(f, &m.udp));
	free(f);
}

static void test_ranges_anonymous_sets_and_l4proto(void **state)
{
	struct natfilter *range = filter_of("legit_range.json");  /* tcp dport 1000-2000 */
	struct natfilter *set = filter_of("legit_anon_set.json"); /* tcp dport { 22, 80 } */
	struct natfilter *l4 = filter_of("legit_l4proto.json");	  /* meta l4proto udp */
	struct natfilter *pfx = filter_of("legit_prefix.json");	  /* ip daddr 192.0.2.0/24 */
	struct maps m;

	(void)state;
	load_maps(&m);
	assert_true(natfilter_match(range, &m.dnat4)); /* 1222 */
	assert_false(natfilter_match(set, &m.dnat4));
	m.dnat4.orig_dst.port = 80;
	assert_true(natfilter_match(set, &m.dnat4));
	assert_false(natfilter_match(range, &m.dnat4));
	assert_true(natfilter_match(l4, &m.udp));
	assert_false(natfilter_match(l4, &m.dnat4));
	assert_false(natfilter_match(pfx, &m.dnat4));
	memcpy(m.dnat4.orig_dst.addr, "\xc0\x00\x02\xff", 4); /* 192.0.2.255 */
	assert_true(natfilter_match(pfx, &m.dnat4));
	free(range);
	free(set);
	free(l4);
	free(pfx);
}

static void test_conditions_without_a_conntrack_meaning_are_ignored(void **state)
{
	struct natfilter *ifn = filter_of("legit_iifname.json");
	struct natfilter *cat = filter_of("legit_concat.json");
	struct natfilter *cts = filter_of("legit_ct_state.json");
	struct maps m;

	(void)state;
	load_maps(&m);
	assert_int_equal(ifn->n, 0);
	assert_string_equal(ifn->ignored, "iifname");
	assert_true(natfilter_match(ifn, &m.snat)); /* empty: everything */
	assert_int_equal(cat->n_ignored, 1);
	assert_string_equal(cat->ignored, "concat");
	assert_string_equal(cts->ignored, "ct state");
	free(ifn);
	free(cat);
	free(cts);
}

static void test_not_a_listing_is_refused(void **state)
{
	struct natfilter f;

	(void)state;
	assert_int_equal(natfilter_from_listing("not json", &f), -EINVAL);
	assert_int_equal(natfilter_from_listing("{\"nftables\": []}", &f), -EINVAL);
	assert_int_equal(natfilter_from_listing(NULL, &f), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_forward_match_selects_the_original_tuple),
		cmocka_unit_test(test_negation_prefix_and_comparison),
		cmocka_unit_test(test_sets_of_addresses_prefixes_and_protocols),
		cmocka_unit_test(test_two_matches_and_implied_protocol),
		cmocka_unit_test(test_ranges_anonymous_sets_and_l4proto),
		cmocka_unit_test(test_conditions_without_a_conntrack_meaning_are_ignored),
		cmocka_unit_test(test_not_a_listing_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
