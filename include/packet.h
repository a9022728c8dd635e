/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_PACKET_H
#define NATTRACED_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "[" + 39 + "]:" + 5 + NUL, with room to spare */
#define PACKET_ADDRSTRLEN 64

/* The fields of a traced packet that a person reads. */
struct packet_info {
	uint8_t l3;		      /* 4 or 6, 0 if unknown */
	uint8_t l4proto;	      /* IPPROTO_* */
	uint8_t saddr[16], daddr[16]; /* IPv4 in the first 4 bytes */
	uint16_t sport, dport;	      /* host order; 0 if none */
	bool has_ports;
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	bool has_icmp;
	uint16_t length; /* from the IP header */
	/*
	 * Fields NAT does not rewrite, to recognise one packet under two
	 * trace ids: IPv4 identification, IPv6 flow label, TCP sequence.
	 */
	uint16_t ip_id;
	uint32_t flow_label;
	uint32_t tcp_seq;
	bool has_seq;
};

/*
 * Parse the network and transport header bytes of a trace event.
 * Returns 0, or -EINVAL if the network header is too short to know the
 * addresses. A short transport header leaves the ports unknown.
 */
int packet_parse(const uint8_t *nh, size_t nh_len, const uint8_t *th, size_t th_len,
		 struct packet_info *ret);

const char *packet_proto_name(uint8_t l4proto, char *buf, size_t len);
/* "198.51.100.1" or "2001:db8::1" */
void packet_addr_str(const struct packet_info *p, bool src, char *buf, size_t len);
/*
 * An endpoint: "198.51.100.1:1222", "[2001:db8::1]:22", or the address
 * alone without a port ("?" for an unknown address family). The one
 * format of every endpoint nattraced prints.
 */
void packet_ep_str(uint8_t l3, const uint8_t *addr, bool has_port, uint16_t port, char *buf,
		   size_t len);
/* The packet's source or destination endpoint, as packet_ep_str() writes it. */
void packet_endpoint_str(const struct packet_info *p, bool src, char *buf, size_t len);
/*
 * An IPv6 extension header that a transport header follows (the
 * kernel's ipv6_ext_hdr() and mobility, host identity, shim6), not 59:
 * after "no next header" nothing follows.
 */
bool packet_ipv6_ext(uint8_t nexthdr);
/* "syn,ack" */
void packet_tcp_flags_str(uint8_t flags, char *buf, size_t len);

#endif
