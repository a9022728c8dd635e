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

#define IPV4_MIN_HDR 20
#define IPV6_HDR     40
#define IPV4_MF	     0x2000
#define IPV4_OFFMASK 0x1fff

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

int packet_parse(const uint8_t *nh, size_t nh_len, const uint8_t *th, size_t th_len,
		 struct packet_info *ret)
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
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_UDPLITE:
		return "udplite";
	case IPPROTO_DCCP:
		return "dccp";
	case IPPROTO_GRE:
		return "gre";
	case IPPROTO_ESP:
		return "esp";
	case IPPROTO_AH:
		return "ah";
	}
	snprintf(buf, len, "%u", l4proto);
	return buf;
}

/*
 * Formatting without stdio: these run several times per timeline. Each
 * returns the number of characters written (buf must have room).
 */
static size_t put_u(char *buf, unsigned int v)
{
	char digits[10];
	size_t n = 0, len;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (len = n; n; n--)
		*buf++ = digits[n - 1];
	return len;
}

static size_t put_ipv4(char *buf, const uint8_t *a)
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		if (i)
			buf[n++] = '.';
		n += put_u(buf + n, a[i]);
	}
	return n;
}

/* into buf (at least INET6_ADDRSTRLEN); its length, 0 if unknown */
static size_t addr_str(uint8_t l3, const uint8_t *a, char *buf)
{
	if (l3 == 4) {
		size_t n = put_ipv4(buf, a);

		buf[n] = '\0';
		return n;
	}
	/* IPv6 zero compression and mapped forms: as inet_ntop writes them */
	if (l3 == 6 && inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN))
		return strlen(buf);
	return 0;
}

void packet_addr_str(const struct packet_info *p, bool src, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];
	size_t n = addr_str(p->l3, src ? p->saddr : p->daddr, tmp);

	if (!len)
		return;
	if (!n) {
		tmp[0] = '?';
		n = 1;
	}
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
}

void packet_ep_str(uint8_t l3, const uint8_t *addr, bool has_port, uint16_t port, char *buf,
		   size_t len)
{
	/* "[" + address + "]:" + port + NUL */
	char tmp[INET6_ADDRSTRLEN + 9];
	size_t n = 0, a;

	if (!len)
		return;
	if (has_port && l3 == 6)
		tmp[n++] = '[';
	a = addr_str(l3, addr, tmp + n);
	if (!a)
		tmp[n + a++] = '?';
	n += a;
	if (has_port) {
		if (l3 == 6)
			tmp[n++] = ']';
		tmp[n++] = ':';
		n += put_u(tmp + n, port);
	}
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
}

void packet_endpoint_str(const struct packet_info *p, bool src, char *buf, size_t len)
{
	packet_ep_str(p->l3, src ? p->saddr : p->daddr, p->has_ports, src ? p->sport : p->dport,
		      buf, len);
}

void packet_tcp_flags_str(uint8_t flags, char *buf, size_t len)
{
	static const char *const names[8] = {
		"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr",
	};
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (unsigned int i = 0; i < 8; i++) {
		/* every name has three letters */
		size_t need = (off ? 1 : 0) + 3;

		if (!(flags & (1u << i)))
			continue;
		if (off + need >= len)
			return;
		if (off)
			buf[off++] = ',';
		memcpy(buf + off, names[i], 3);
		off += 3;
		buf[off] = '\0';
	}
}

bool packet_ipv6_ext(uint8_t nexthdr)
{
	switch (nexthdr) {
	case 0:	  /* hop-by-hop */
	case 43:  /* routing */
	case 44:  /* fragment */
	case 51:  /* authentication */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* host identity */
	case 140: /* shim6 */
		return true;
	default:
		return false;
	}
}
