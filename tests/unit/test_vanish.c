/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vanish.c on hand-built kernel facts. The errors are what a 6.18 kernel
 * answered to `ip route get ... iif wan0` in a namespace lab (see
 * tests/e2e/vanish_*.sh for the same cases against the kernel).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include "vanish.h"

#define WAN0 2
#define LAN0 3

static void addr(struct packet_info *p, const char *s, bool src)
{
	uint8_t *a = src ? p->saddr : p->daddr;

	if (strchr(s, ':')) {
		p->l3 = 6;
		assert_int_equal(inet_pton(AF_INET6, s, a), 1);
	} else {
		p->l3 = 4;
		assert_int_equal(inet_pton(AF_INET, s, a), 1);
	}
}

/* A SYN from src to dst:dport, last seen at hook, arriving on wan0. */
static struct vanish_query query(const char *src, const char *dst, uint16_t dport, int hook)
{
	struct vanish_query q = { .daddr_known = true, .hook = hook, .iif = WAN0 };

	addr(&q.pkt, src, true);
	addr(&q.pkt, dst, false);
	q.pkt.l4proto = IPPROTO_TCP;
	q.pkt.has_ports = true;
	q.pkt.sport = 40000;
	q.pkt.dport = dport;
	q.pkt.tcp_flags = 0x02;
	if (hook == VANISH_HOOK_PREROUTING)
		q.expected = 1u << VANISH_HOOK_INPUT | 1u << VANISH_HOOK_FORWARD;
	return q;
}

static void route(struct vanish_route *r, int err, uint8_t type, uint32_t oif, const char *name)
{
	r->asked = true;
	r->err = err;
	r->type = type;
	r->oif = oif;
	snprintf(r->oifname, sizeof(r->oifname), "%s", name);
}

/* Forwarding on, rp_filter off, the input lookup forwards out lan0. */
static struct vanish_facts healthy(void)
{
	struct vanish_facts f;

	vanish_facts_init(&f);
	snprintf(f.iifname, sizeof(f.iifname), "wan0");
	f.ip_forward = f.fwd_all = f.fwd_iif = 1;
	f.rp_all = f.rp_iif = 0;
	f.force_fwd_iif = 0;
	route(&f.input, 0, RTN_UNICAST, LAN0, "lan0");
	route(&f.to_dst, 0, RTN_UNICAST, LAN0, "lan0");
	route(&f.to_src, 0, RTN_UNICAST, WAN0, "wan0");
	return f;
}

static void expect(const struct vanish_query *q, const struct vanish_facts *f,
		   enum vanish_reason reason, const char *evidence)
{
	struct vanish_result res;

	vanish_decide(q, f, &res);
	assert_string_equal(res.evidence, evidence);
	assert_int_equal(res.reason, reason);
}

static void test_ip_forward_off_is_named(void **state)
{
	struct vanish_query q = query("198.51.100.2", "203.0.113.10", 22, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();

	(void)state;
	/* ip_forward=0 turns every interface's forwarding off: -EHOSTUNREACH */
	f.ip_forward = f.fwd_all = f.fwd_iif = 0;
	f.input.err = -EHOSTUNREACH;
	expect(&q, &f, VANISH_FORWARDING_OFF,
	       "not forwarded: net.ipv4.ip_forward is 0 in this namespace");
	assert_string_equal(vanish_reason_name(VANISH_FORWARDING_OFF), "forwarding_off");
}

static void test_interface_forwarding_off_names_the_interface(void **state)
{
	struct vanish_query q = query("198.51.100.2", "203.0.113.10", 22, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();

	(void)state;
	f.fwd_iif = 0;
	f.input.err = -EHOSTUNREACH;
	expect(&q, &f, VANISH_FORWARDING_OFF,
	       "not forwarded: net.ipv4.conf.wan0.forwarding is 0 in this namespace");
}

static void test_ipv6_forwarding_off_with_a_good_route(void **state)
{
	struct vanish_query q =
		query("2001:db8:1::2", "2001:db8:2::10", 22, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();

	(void)state;
	/* the IPv6 lookup does not look at forwarding; ip6_forward() does */
	f.fwd_all = 0;
	f.ip_forward = -1;
	expect(&q, &f, VANISH_FORWARDING_OFF,
	       "not forwarded: net.ipv6.conf.all.forwarding is 0 in this namespace");
	/* force_forwarding not readable (no /proc/sys): said, not guessed */
	f.force_fwd_iif = -1;
	expect(&q, &f, VANISH_FORWARDING_OFF,
	       "not forwarded: net.ipv6.conf.all.forwarding is 0 in this namespace (net.ipv6.conf.wan0.force_forwarding, which would forward it anyway, could not be read)");
	/* 6.17's force_forwarding on the input interface forwards anyway */
	f.force_fwd_iif = 1;
	expect(&q, &f, VANISH_UNKNOWN,
	       "this host's input route lookup forwards it out lan0 now, and forwarding is on (from iif wan0)");
}

static void test_route_errors_name_the_route_type(void **state)
{
	static const struct {
		int err;
		enum vanish_reason reason;
		const char *evidence;
	} cases[] = {
		{ -ENETUNREACH, VANISH_NO_ROUTE, "no route to 192.0.2.99 (from iif wan0)" },
		{ -EHOSTUNREACH, VANISH_UNREACHABLE_ROUTE,
		  "no route to 192.0.2.99 (from iif wan0): the route is of type unreachable" },
		{ -EINVAL, VANISH_BLACKHOLE_ROUTE,
		  "no route to 192.0.2.99 (from iif wan0): the route is of type blackhole" },
		{ -EACCES, VANISH_PROHIBIT_ROUTE,
		  "no route to 192.0.2.99 (from iif wan0): the route is of type prohibit" },
	};
	struct vanish_query q = query("198.51.100.2", "192.0.2.99", 80, VANISH_HOOK_PREROUTING);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vanish_facts f = healthy();

		f.input.err = cases[i].err;
		f.to_dst.err = cases[i].err;
		expect(&q, &f, cases[i].reason, cases[i].evidence);
	}
}

static void test_no_route_wins_over_forwarding_off(void **state)
{
	struct vanish_query q = query("198.51.100.2", "192.0.2.99", 80, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();

	(void)state;
	/* turning forwarding on would not help: there is no route either */
	f.ip_forward = f.fwd_iif = 0;
	f.input.err = -EHOSTUNREACH;
	f.to_dst.err = -ENETUNREACH;
	expect(&q, &f, VANISH_NO_ROUTE, "no route to 192.0.2.99 (from iif wan0)");
}

static void test_mark_is_part_of_the_evidence(void **state)
{
	struct vanish_query q = query("198.51.100.2", "203.0.113.10", 81, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();

	(void)state;
	q.mark = 7;
	f.input.err = f.to_dst.err = -EHOSTUNREACH;
	expect(&q, &f, VANISH_UNREACHABLE_ROUTE,
	       "no route to 203.0.113.10 (from iif wan0, mark 0x7): the route is of type unreachable");
}

static void test_strict_rp_filter_names_the_way_back(void **state)
{
	struct vanish_query q = query("203.0.113.50", "203.0.113.10", 22, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();

	(void)state;
	/* 6.18 answers -EINVAL for an rp_filter refusal, like a blackhole */
	f.rp_all = 1;
	f.rp_iif = 1;
	f.input.err = -EINVAL;
	route(&f.to_src, 0, RTN_UNICAST, LAN0, "lan0");
	expect(&q, &f, VANISH_RP_FILTER,
	       "reverse-path filter: net.ipv4.conf.wan0.rp_filter is 1 (strict) and the route back to 203.0.113.50 leaves through lan0, not wan0");
}

static void test_loose_rp_filter_from_all_without_a_route_back(void **state)
{
	struct vanish_query q = query("192.0.2.200", "203.0.113.10", 22, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();

	(void)state;
	f.rp_all = 2;
	f.rp_iif = 0;
	f.input.err = -EINVAL;
	route(&f.to_src, -ENETUNREACH, 0, 0, "");
	expect(&q, &f, VANISH_RP_FILTER,
	       "reverse-path filter: net.ipv4.conf.all.rp_filter is 2 (loose) and there is no route back to 192.0.2.200");
}

static void test_loose_rp_filter_accepts_an_asymmetric_route(void **state)
{
	struct vanish_query q = query("203.0.113.50", "203.0.113.10", 22, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();
	struct vanish_result res;

	(void)state;
	f.rp_all = 2;
	f.input.err = -EINVAL;
	route(&f.to_src, 0, RTN_UNICAST, LAN0, "lan0");
	/* not rp_filter's doing: say it is not known */
	vanish_decide(&q, &f, &res);
	assert_int_equal(res.reason, VANISH_UNKNOWN);
	assert_non_null(strstr(res.evidence, "refuses it (Invalid argument)"));
}

static void test_martian_sources_and_destinations(void **state)
{
	struct vanish_query q = query("127.0.0.5", "203.0.113.10", 22, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();

	(void)state;
	f.input.err = -EINVAL;
	expect(&q, &f, VANISH_MARTIAN_SOURCE,
	       "martian source 127.0.0.5 (from iif wan0): a loopback address arriving on another interface");
	q = query("198.51.100.2", "0.0.0.1", 22, VANISH_HOOK_PREROUTING);
	expect(&q, &f, VANISH_MARTIAN_DESTINATION,
	       "martian destination 0.0.0.1 (from iif wan0): an address in 0.0.0.0/8");
	/* the router's own address as the source, even with rp_filter off */
	q = query("203.0.113.1", "203.0.113.10", 22, VANISH_HOOK_PREROUTING);
	route(&f.to_src, 0, RTN_LOCAL, 1, "lo");
	expect(&q, &f, VANISH_MARTIAN_SOURCE,
	       "martian source 203.0.113.1 (from iif wan0): an address of this host");
}

static void test_a_route_that_works_now_is_not_known(void **state)
{
	struct vanish_query q = query("198.51.100.2", "203.0.113.10", 22, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();

	(void)state;
	expect(&q, &f, VANISH_UNKNOWN,
	       "this host's input route lookup forwards it out lan0 now, and forwarding is on (from iif wan0)");
	route(&f.input, 0, RTN_LOCAL, 1, "lo");
	expect(&q, &f, VANISH_UNKNOWN,
	       "this host's input route lookup delivers it locally now (from iif wan0)");
}

static void test_too_big_for_the_route_out(void **state)
{
	struct vanish_query q = query("198.51.100.2", "203.0.113.10", 9999, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();

	(void)state;
	q.pkt.length = 1400;
	f.out_mtu = 1280;
	f.in_mtu = 1500;
	expect(&q, &f, VANISH_TOO_BIG,
	       "too big: a 1400-byte packet for a route out lan0 with MTU 1280; the kernel answers ICMP fragmentation needed (the packet has DF set)");
	assert_string_equal(vanish_reason_name(VANISH_TOO_BIG), "too_big");
	/* longer than its input interface allows: GRO put it together */
	q.pkt.length = 9000;
	expect(&q, &f, VANISH_UNKNOWN,
	       "this host's input route lookup forwards it out lan0 now, and forwarding is on (from iif wan0)");
	/* MTUs not known: no claim */
	q.pkt.length = 1400;
	f.in_mtu = -1;
	expect(&q, &f, VANISH_UNKNOWN,
	       "this host's input route lookup forwards it out lan0 now, and forwarding is on (from iif wan0)");
}

static void test_missing_lookups_are_not_checked(void **state)
{
	struct vanish_query q = query("198.51.100.2", "203.0.113.10", 22, VANISH_HOOK_PREROUTING);
	struct vanish_facts f;
	struct vanish_result res;

	(void)state;
	vanish_facts_init(&f);
	snprintf(f.missing, sizeof(f.missing), "the route lookup timed out");
	expect(&q, &f, VANISH_NOT_CHECKED, "the route lookup timed out");
	q.daddr_known = false;
	expect(&q, &f, VANISH_NOT_CHECKED, "its destination after NAT is not known");
	assert_int_equal(vanish_needs(&q), 0);
	/* no input interface at prerouting: nothing to ask */
	q = query("198.51.100.2", "203.0.113.10", 22, VANISH_HOOK_PREROUTING);
	q.iif = 0;
	assert_false(vanish_checkable(&q));
	vanish_decide(&q, &f, &res);
	assert_int_equal(res.reason, VANISH_NOT_CHECKED);
	assert_false(vanish_reason_named(res.reason));
}

static void test_after_forward_only_the_route_is_asked(void **state)
{
	struct vanish_query q = query("198.51.100.2", "203.0.113.10", 22, VANISH_HOOK_FORWARD);
	struct vanish_facts f;

	(void)state;
	assert_int_equal(vanish_needs(&q), VANISH_NEED_TO_DST);
	vanish_facts_init(&f);
	q.mark = 0x10;
	route(&f.to_dst, -ENETUNREACH, 0, 0, "");
	snprintf(f.iifname, sizeof(f.iifname), "wan0");
	expect(&q, &f, VANISH_NO_ROUTE, "no route to 203.0.113.10 (from iif wan0, mark 0x10)");
	route(&f.to_dst, 0, RTN_UNICAST, LAN0, "lan0");
	expect(&q, &f, VANISH_UNKNOWN, "the route to 203.0.113.10 leaves through lan0");
}

static void test_input_without_a_socket_is_no_listener(void **state)
{
	struct vanish_query q = query("198.51.100.2", "198.51.100.1", 8080, VANISH_HOOK_INPUT);
	struct vanish_facts f;

	(void)state;
	assert_int_equal(vanish_needs(&q), VANISH_NEED_SOCKET);
	vanish_facts_init(&f);
	f.sock_asked = true;
	f.sock_err = -ENOENT;
	expect(&q, &f, VANISH_NO_LISTENER,
	       "no listener: no socket on this host takes tcp 198.51.100.1:8080, the kernel answers with a reset");
	q.pkt.l4proto = IPPROTO_UDP;
	/* a datagram conntrack calls new, in the original direction */
	q = (struct vanish_query){ .pkt = q.pkt,
				   .daddr_known = true,
				   .hook = VANISH_HOOK_INPUT,
				   .ct_known = true,
				   .ct_new = true };
	expect(&q, &f, VANISH_NO_LISTENER,
	       "no listener: no socket on this host takes udp 198.51.100.1:8080, the kernel answers with ICMP port unreachable");
	f.sock_err = 0;
	expect(&q, &f, VANISH_DELIVERED, "a socket takes udp 198.51.100.1:8080");
}

/*
 * The socket lookup runs after the packet: a short-lived client's socket
 * can be gone by then. A reply, or a datagram of an answered connection,
 * had a socket: never "no listener", and neither without conntrack state.
 */
static void test_a_missed_socket_of_a_reply_is_not_known(void **state)
{
	struct vanish_query q = query("198.51.100.2", "198.51.100.1", 51820, VANISH_HOOK_INPUT);
	struct vanish_facts f;
	struct vanish_result res;
	char buf[512];

	(void)state;
	vanish_facts_init(&f);
	f.sock_asked = true;
	f.sock_err = -ENOENT;
	q.pkt.l4proto = IPPROTO_UDP;
	q.ct_known = true;
	q.ct_reply = true; /* conntrack: established, reply direction */
	expect(&q, &f, VANISH_UNKNOWN,
	       "no socket takes udp 198.51.100.1:51820 any more, but conntrack calls the packet a reply, so a socket had its connection; it may have closed since");
	vanish_decide(&q, &f, &res);
	assert_false(vanish_reason_named(res.reason));
	assert_int_equal(res.next, VANISH_NEXT_LOCAL);
	assert_string_equal(vanish_next_name(&res), "not_known");
	vanish_next_str(&res, buf, sizeof(buf));
	assert_non_null(strstr(buf, "whether a socket takes it is not known"));
	assert_null(strstr(buf, "no listener"));
	/* established in the original direction: a socket answered before */
	q.ct_reply = false;
	expect(&q, &f, VANISH_UNKNOWN,
	       "no socket takes udp 198.51.100.1:51820 any more, but conntrack calls the packet part of an answered connection, so a socket had its connection; it may have closed since");
	/* no conntrack state at all: nothing proves a refusal of a datagram */
	q.ct_known = false;
	vanish_decide(&q, &f, &res);
	assert_int_equal(res.reason, VANISH_UNKNOWN);
	/* a TCP SYN proves it without conntrack, but not as a reply */
	q.pkt.l4proto = IPPROTO_TCP;
	vanish_decide(&q, &f, &res);
	assert_int_equal(res.reason, VANISH_NO_LISTENER);
	q.ct_known = q.ct_reply = true;
	vanish_decide(&q, &f, &res);
	assert_int_equal(res.reason, VANISH_UNKNOWN);
}

/* With no later chain, the kernel's answer says where the packet went. */
static void test_no_later_chain_says_where_it_went(void **state)
{
	struct vanish_query q = query("198.51.100.2", "203.0.113.10", 22, VANISH_HOOK_PREROUTING);
	struct vanish_facts f = healthy();
	struct vanish_result res;
	char buf[512];

	(void)state;
	q.expected = 0;
	vanish_decide(&q, &f, &res);
	assert_int_equal(res.reason, VANISH_UNKNOWN);
	assert_int_equal(res.next, VANISH_NEXT_FORWARD);
	assert_string_equal(vanish_next_name(&res), "forwarded");
	vanish_next_str(&res, buf, sizeof(buf));
	assert_string_equal(buf, "forwarded out of lan0, its destination on link");
	f.input.has_gateway = true;
	assert_int_equal(inet_pton(AF_INET, "203.0.113.254", f.input.gateway), 1);
	vanish_decide(&q, &f, &res);
	vanish_next_str(&res, buf, sizeof(buf));
	assert_string_equal(buf, "forwarded out of lan0 via 203.0.113.254");
	vanish_next_gateway_str(&res, buf, sizeof(buf));
	assert_string_equal(buf, "203.0.113.254");
	/* a forward chain exists and did not see it: lost, no next */
	q.expected = 1u << VANISH_HOOK_FORWARD;
	vanish_decide(&q, &f, &res);
	assert_int_equal(res.next, VANISH_NEXT_NONE);

	/* a local route: the socket decides */
	q = query("198.51.100.2", "198.51.100.1", 22, VANISH_HOOK_PREROUTING);
	q.expected = 0;
	assert_true(vanish_needs(&q) & VANISH_NEED_SOCKET);
	route(&f.input, 0, RTN_LOCAL, 1, "lo");
	f.sock_asked = true;
	f.sock_err = 0;
	vanish_decide(&q, &f, &res);
	assert_int_equal(res.reason, VANISH_DELIVERED);
	assert_string_equal(vanish_next_name(&res), "delivered");
	vanish_next_str(&res, buf, sizeof(buf));
	assert_string_equal(buf, "delivered locally: a socket takes tcp 198.51.100.1:22");
	f.sock_err = -ENOENT;
	expect(&q, &f, VANISH_NO_LISTENER,
	       "no listener: no socket on this host takes tcp 198.51.100.1:22, the kernel answers with a reset");
	/* an input chain exists and never saw it: lost before it */
	q.expected = 1u << VANISH_HOOK_INPUT;
	expect(&q, &f, VANISH_UNKNOWN,
	       "this host's input route lookup delivers it locally now (from iif wan0)");

	/* after forward, with no postrouting chain */
	q = query("198.51.100.2", "203.0.113.10", 22, VANISH_HOOK_FORWARD);
	vanish_facts_init(&f);
	route(&f.to_dst, 0, RTN_UNICAST, LAN0, "lan0");
	vanish_decide(&q, &f, &res);
	assert_string_equal(vanish_next_name(&res), "forwarded");
	q.expected = 1u << VANISH_HOOK_POSTROUTING;
	vanish_decide(&q, &f, &res);
	assert_int_equal(res.next, VANISH_NEXT_NONE);
}

static void test_input_checks_only_packets_that_open_a_connection(void **state)
{
	struct vanish_query q = query("198.51.100.2", "198.51.100.1", 8080, VANISH_HOOK_INPUT);

	(void)state;
	q.pkt.tcp_flags = 0x12; /* syn,ack: an answer, not a new connection */
	assert_false(vanish_checkable(&q));
	q.pkt.tcp_flags = 0x10;
	assert_false(vanish_checkable(&q));
	q.pkt.l4proto = IPPROTO_ICMP;
	q.pkt.has_ports = false;
	assert_false(vanish_checkable(&q));
}

static void test_cause_text(void **state)
{
	struct vanish_result v = { .reason = VANISH_NOT_ASKED };
	char buf[512];

	(void)state;
	/* without checks (offline), the general reason as before */
	vanish_cause_str(&v, buf, sizeof(buf));
	assert_string_equal(buf, "dropped outside the ruleset (routing, rp_filter, no listener)");
	v.reason = VANISH_FORWARDING_OFF;
	snprintf(v.evidence, sizeof(v.evidence),
		 "not forwarded: net.ipv4.ip_forward is 0 in this namespace");
	vanish_cause_str(&v, buf, sizeof(buf));
	assert_string_equal(
		buf,
		"dropped outside the ruleset: not forwarded: net.ipv4.ip_forward is 0 in this namespace");
	v.reason = VANISH_UNKNOWN;
	vanish_cause_str(&v, buf, sizeof(buf));
	assert_non_null(strstr(buf, "why is not known: "));
	v.reason = VANISH_NOT_CHECKED;
	vanish_cause_str(&v, buf, sizeof(buf));
	assert_non_null(strstr(buf, "why was not checked: "));
	/* truncation is safe and reports the full length */
	v.reason = VANISH_RP_FILTER;
	assert_true(vanish_cause_str(&v, buf, 8) > 8);
	assert_int_equal(strlen(buf), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_forward_off_is_named),
		cmocka_unit_test(test_interface_forwarding_off_names_the_interface),
		cmocka_unit_test(test_ipv6_forwarding_off_with_a_good_route),
		cmocka_unit_test(test_route_errors_name_the_route_type),
		cmocka_unit_test(test_no_route_wins_over_forwarding_off),
		cmocka_unit_test(test_mark_is_part_of_the_evidence),
		cmocka_unit_test(test_strict_rp_filter_names_the_way_back),
		cmocka_unit_test(test_loose_rp_filter_from_all_without_a_route_back),
		cmocka_unit_test(test_loose_rp_filter_accepts_an_asymmetric_route),
		cmocka_unit_test(test_martian_sources_and_destinations),
		cmocka_unit_test(test_a_route_that_works_now_is_not_known),
		cmocka_unit_test(test_too_big_for_the_route_out),
		cmocka_unit_test(test_missing_lookups_are_not_checked),
		cmocka_unit_test(test_after_forward_only_the_route_is_asked),
		cmocka_unit_test(test_input_without_a_socket_is_no_listener),
		cmocka_unit_test(test_a_missed_socket_of_a_reply_is_not_known),
		cmocka_unit_test(test_no_later_chain_says_where_it_went),
		cmocka_unit_test(test_input_checks_only_packets_that_open_a_connection),
		cmocka_unit_test(test_cause_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
