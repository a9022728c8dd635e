/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "packet.h"

static void test_ipv4_tcp_fields(void **state)
{
	struct test_pkt t;
	struct packet_info p;
	char buf[64];

	(void)state;
	test_ipv4_tcp(&t, "198.51.100.2", 34580, "198.51.100.1", 1222, 0x12);
	assert_int_equal(packet_parse(t.nh, t.nh_len, t.th, t.th_len, &p), 0);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.l4proto, IPPROTO_TCP);
	assert_int_equal(p.sport, 34580);
	assert_int_equal(p.dport, 1222);
	assert_int_equal(p.length, 60);
	packet_endpoint_str(&p, true, buf, sizeof(buf));
	assert_string_equal(buf, "198.51.100.2:34580");
	packet_endpoint_str(&p, false, buf, sizeof(buf));
	assert_string_equal(buf, "198.51.100.1:1222");
	packet_tcp_flags_str(p.tcp_flags, buf, sizeof(buf));
	assert_string_equal(buf, "syn,ack");
}

static void test_ipv6_endpoint_in_brackets(void **state)
{
	struct test_pkt t;
	struct packet_info p;
	char buf[64];

	(void)state;
	test_ipv6_udp(&t, "2001:db8:1::2", 5353, "2001:db8:2::10", 53);
	assert_int_equal(packet_parse(t.nh, t.nh_len, t.th, t.th_len, &p), 0);
	assert_int_equal(p.l3, 6);
	assert_int_equal(p.l4proto, IPPROTO_UDP);
	packet_endpoint_str(&p, false, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8:2::10]:53");
	packet_addr_str(&p, true, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:1::2");
}

static void test_short_headers(void **state)
{
	struct test_pkt t;
	struct packet_info p;
	char buf[64];

	(void)state;
	test_ipv4_tcp(&t, "192.0.2.1", 1, "192.0.2.2", 2, 0);
	assert_int_equal(packet_parse(t.nh, 19, t.th, t.th_len, &p), -EINVAL);
	assert_int_equal(packet_parse(t.nh, 0, NULL, 0, &p), -EINVAL);
	assert_int_equal(packet_parse(NULL, 0, NULL, 0, &p), -EINVAL);
	/* transport too short: addresses without ports */
	assert_int_equal(packet_parse(t.nh, t.nh_len, t.th, 3, &p), 0);
	assert_false(p.has_ports);
	packet_endpoint_str(&p, false, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.2");
	test_ipv6_udp(&t, "2001:db8::1", 1, "2001:db8::2", 2);
	assert_int_equal(packet_parse(t.nh, 39, t.th, t.th_len, &p), -EINVAL);
	t.nh[0] = 0x50; /* version 5 */
	assert_int_equal(packet_parse(t.nh, t.nh_len, t.th, t.th_len, &p), -EINVAL);
}

static void test_later_fragment_has_no_ports(void **state)
{
	struct test_pkt t;
	struct packet_info p;

	(void)state;
	test_ipv4_tcp(&t, "192.0.2.1", 1, "192.0.2.2", 2, 0);
	t.nh[7] = 0x10; /* fragment offset */
	assert_int_equal(packet_parse(t.nh, t.nh_len, t.th, t.th_len, &p), 0);
	assert_false(p.has_ports);
}

static void test_icmp_type_and_code(void **state)
{
	struct test_pkt t;
	struct packet_info p;
	char buf[8];

	(void)state;
	test_ipv4_tcp(&t, "192.0.2.1", 0, "192.0.2.2", 0, 0);
	t.nh[9] = IPPROTO_ICMP;
	t.th[0] = 8;
	t.th[1] = 0;
	assert_int_equal(packet_parse(t.nh, t.nh_len, t.th, 8, &p), 0);
	assert_true(p.has_icmp);
	assert_false(p.has_ports);
	assert_int_equal(p.icmp_type, 8);
	assert_string_equal(packet_proto_name(p.l4proto, buf, sizeof(buf)), "icmp");
	assert_string_equal(packet_proto_name(250, buf, sizeof(buf)), "250");
}

/* The stdio-free formatting against what printf and inet_ntop wrote before. */
static void test_formatting_edges_and_truncation(void **state)
{
	struct packet_info p = { .l3 = 4, .has_ports = true, .sport = 0, .dport = 65535 };
	char buf[64];

	(void)state;
	memset(p.saddr, 0, 4);
	memset(p.daddr, 255, 4);
	packet_endpoint_str(&p, true, buf, sizeof(buf));
	assert_string_equal(buf, "0.0.0.0:0");
	packet_endpoint_str(&p, false, buf, sizeof(buf));
	assert_string_equal(buf, "255.255.255.255:65535");
	packet_addr_str(&p, false, buf, sizeof(buf));
	assert_string_equal(buf, "255.255.255.255");
	/* cut like snprintf: what fits, NUL-terminated */
	packet_endpoint_str(&p, false, buf, 8);
	assert_string_equal(buf, "255.255");
	packet_addr_str(&p, false, buf, 1);
	assert_string_equal(buf, "");
	p.has_ports = false;
	packet_endpoint_str(&p, false, buf, sizeof(buf));
	assert_string_equal(buf, "255.255.255.255");
	/* unknown addresses */
	p.l3 = 0;
	packet_addr_str(&p, true, buf, sizeof(buf));
	assert_string_equal(buf, "?");
	p.has_ports = true;
	packet_endpoint_str(&p, true, buf, sizeof(buf));
	assert_string_equal(buf, "?:0");
	/* IPv6: compression and mapped addresses as inet_ntop writes them */
	p = (struct packet_info){ .l3 = 6, .has_ports = true, .sport = 443 };
	p.saddr[10] = p.saddr[11] = 0xff;
	p.saddr[12] = 192, p.saddr[15] = 1;
	packet_endpoint_str(&p, true, buf, sizeof(buf));
	assert_string_equal(buf, "[::ffff:192.0.0.1]:443");
	packet_tcp_flags_str(0xff, buf, sizeof(buf));
	assert_string_equal(buf, "fin,syn,rst,psh,ack,urg,ecn,cwr");
	packet_tcp_flags_str(0xff, buf, 8);
	assert_string_equal(buf, "fin,syn");
	packet_tcp_flags_str(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp_fields),
		cmocka_unit_test(test_ipv6_endpoint_in_brackets),
		cmocka_unit_test(test_short_headers),
		cmocka_unit_test(test_later_fragment_has_no_ports),
		cmocka_unit_test(test_icmp_type_and_code),
		cmocka_unit_test(test_formatting_edges_and_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
