/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The live packet's conntrack entry, recreated in the clone through
 * ctnetlink, so that a packet of an established connection (a reply, a
 * later packet) is replayed as one and not as a connection's first. The
 * tuples come from the record (replaypkt.c: the NAT mapping, or the
 * packet's own); a NATed connection gets its NAT set up by the kernel
 * from the reply tuple, as conntrackd does. The TCP state is established,
 * with window tracking liberal: the windows were not recorded.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>

#include "clone.h"
#include "clone_int.h"
#include "replaypkt.h"

/* seconds: long enough for the replay, short enough to be gone after */
#define CLONE_CT_TIMEOUT 120

static void set_addrs(struct nf_conntrack *ct, uint8_t l3, int v4, int v6, const uint8_t *addr)
{
	if (l3 == 6)
		nfct_set_attr(ct, v6, addr);
	else
		nfct_set_attr(ct, v4, addr);
}

/* The original tuple, and NAT where the recorded reply tuple is not it turned. */
static void fill(struct nf_conntrack *ct, const struct replay_ct *c, uint8_t l3, uint8_t l4proto)
{
	size_t n = l3 == 6 ? 16 : 4;
	uint8_t tcp_liberal = IP_CT_TCP_FLAG_BE_LIBERAL;

	nfct_set_attr_u8(ct, ATTR_L3PROTO, l3 == 6 ? AF_INET6 : AF_INET);
	nfct_set_attr_u8(ct, ATTR_L4PROTO, l4proto);
	set_addrs(ct, l3, ATTR_IPV4_SRC, ATTR_IPV6_SRC, c->orig_src);
	set_addrs(ct, l3, ATTR_IPV4_DST, ATTR_IPV6_DST, c->orig_dst);
	nfct_set_attr_u16(ct, ATTR_PORT_SRC, htons(c->orig_sport));
	nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(c->orig_dport));
	/* the reply tuple goes as the original turned: the kernel applies the NAT to it */
	nfct_setobjopt(ct, NFCT_SOPT_SETUP_REPLY);
	/* destination NAT: the reply comes from elsewhere than the original went */
	if (memcmp(c->orig_dst, c->reply_src, n) || c->orig_dport != c->reply_sport) {
		set_addrs(ct, l3, ATTR_DNAT_IPV4, ATTR_DNAT_IPV6, c->reply_src);
		nfct_set_attr_u16(ct, ATTR_DNAT_PORT, htons(c->reply_sport));
	}
	/* source NAT: the reply goes elsewhere than the original came from */
	if (memcmp(c->orig_src, c->reply_dst, n) || c->orig_sport != c->reply_dport) {
		set_addrs(ct, l3, ATTR_SNAT_IPV4, ATTR_SNAT_IPV6, c->reply_dst);
		nfct_set_attr_u16(ct, ATTR_SNAT_PORT, htons(c->reply_dport));
	}
	nfct_set_attr_u32(ct, ATTR_STATUS, IPS_SEEN_REPLY | IPS_ASSURED);
	nfct_set_attr_u32(ct, ATTR_TIMEOUT, CLONE_CT_TIMEOUT);
	if (l4proto == IPPROTO_TCP) {
		nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
		nfct_set_attr_u8(ct, ATTR_TCP_FLAGS_ORIG, tcp_liberal);
		nfct_set_attr_u8(ct, ATTR_TCP_MASK_ORIG, tcp_liberal);
		nfct_set_attr_u8(ct, ATTR_TCP_FLAGS_REPL, tcp_liberal);
		nfct_set_attr_u8(ct, ATTR_TCP_MASK_REPL, tcp_liberal);
	}
}

int clone_conntrack_create(const struct clone *c, const struct replay_ct *rc, uint8_t l3,
			   uint8_t l4proto, char *err, size_t errlen)
{
	struct nf_conntrack *ct;
	struct nfct_handle *h;
	int back, r;

	r = clone_visit(c, &back);
	if (r < 0)
		return r;
	h = nfct_open(CONNTRACK, 0);
	ct = nfct_new();
	r = h && ct ? 0 : -errno;
	if (r == 0) {
		fill(ct, rc, l3, l4proto);
		r = nfct_query(h, NFCT_Q_CREATE, ct) < 0 ? -errno : 0;
	}
	if (r < 0)
		snprintf(err, errlen, "cannot recreate the connection's conntrack entry: %s",
			 strerror(-r));
	if (ct)
		nfct_destroy(ct);
	if (h)
		nfct_close(h);
	clone_return(back);
	return r;
}
