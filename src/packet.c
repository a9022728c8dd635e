/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The few header fields a person reads, from the bytes the kernel copies
 * into a trace event (at most 40 of the network header, 20 of transport).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "packet.h"

#define IPV4_MIN_HDR	20
#define IPV6_HDR	40
#define IPV4_MF		0x2000
#define IPV4_OFFMASK	0x1fff

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void parse_l4(const uint8_t *th, size_t th_len, struct packet_info *p)
{
	switch (p->l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		if (th_len < 4)
			return;
		p->sport = rd16(th);
		p->dport = rd16(th + 2);
		p->has_ports = true;
		if (p->l4proto == IPPROTO_TCP && th_len >= 8) {
			p->tcp_seq = (uint32_t)rd16(th + 4) << 16 | rd16(th + 6);
			p->has_seq = true;
		}
		if (p->l4proto == IPPROTO_TCP && th_len >= 14)
			p->tcp_flags = th[13];
		return;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (th_len < 2)
			return;
		p->icmp_type = th[0];
		p->icmp_code = th[1];
		p->has_icmp = true;
		return;
	}
}

int packet_parse(const uint8_t *nh, size_t nh_len, const uint8_t *th,
		 size_t th_len, struct packet_info *ret)
{
	struct packet_info p = {};

	if (!nh || nh_len < 1)
		return -EINVAL;

	switch (nh[0] >> 4) {
	case 4:
		if (nh_len < IPV4_MIN_HDR)
			return -EINVAL;
		p.l3 = 4;
		p.length = rd16(nh + 2);
		p.ip_id = rd16(nh + 4);
		p.l4proto = nh[9];
		memcpy(p.saddr, nh + 12, 4);
		memcpy(p.daddr, nh + 16, 4);
		/* Later fragments carry no transport header. */
		if (rd16(nh + 6) & IPV4_OFFMASK)
			th_len = 0;
		break;
	case 6:
		if (nh_len < IPV6_HDR)
			return -EINVAL;
		p.l3 = 6;
		p.length = rd16(nh + 4) + IPV6_HDR;
		p.flow_label = (uint32_t)(nh[1] & 0x0f) << 16 | rd16(nh + 2);
		/*
		 * The transport attribute starts after any extension
		 * headers, but this one holds only the fixed header, whose
		 * next-header may name an extension: then the ports are
		 * not parsed, rather than read from the wrong bytes.
		 */
		p.l4proto = nh[6];
		memcpy(p.saddr, nh + 8, 16);
		memcpy(p.daddr, nh + 24, 16);
		break;
	default:
		return -EINVAL;
	}
	if (th)
		parse_l4(th, th_len, &p);
	*ret = p;
	return 0;
}

const char *packet_proto_name(uint8_t l4proto, char *buf, size_t len)
{
	switch (l4proto) {
	case IPPROTO_TCP:	return "tcp";
	case IPPROTO_UDP:	return "udp";
	case IPPROTO_ICMP:	return "icmp";
	case IPPROTO_ICMPV6:	return "icmpv6";
	case IPPROTO_SCTP:	return "sctp";
	case IPPROTO_UDPLITE:	return "udplite";
	case IPPROTO_DCCP:	return "dccp";
	case IPPROTO_GRE:	return "gre";
	case IPPROTO_ESP:	return "esp";
	case IPPROTO_AH:	return "ah";
	}
	snprintf(buf, len, "%u", l4proto);
	return buf;
}

void packet_addr_str(const struct packet_info *p, bool src, char *buf,
		     size_t len)
{
	const uint8_t *a = src ? p->saddr : p->daddr;

	if (p->l3 == 0 || !inet_ntop(p->l3 == 4 ? AF_INET : AF_INET6, a, buf,
				     (socklen_t)len))
		snprintf(buf, len, "?");
}

void packet_endpoint_str(const struct packet_info *p, bool src, char *buf,
			 size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	packet_addr_str(p, src, addr, sizeof(addr));
	if (!p->has_ports)
		snprintf(buf, len, "%s", addr);
	else if (p->l3 == 6)
		snprintf(buf, len, "[%s]:%u", addr, src ? p->sport : p->dport);
	else
		snprintf(buf, len, "%s:%u", addr, src ? p->sport : p->dport);
}

void packet_tcp_flags_str(uint8_t flags, char *buf, size_t len)
{
	static const char *const names[8] = {
		"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr",
	};
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < 8; i++) {
		int n;

		if (!(flags & (1u << i)))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
			     names[i]);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}
