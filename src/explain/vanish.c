/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Naming why an accepted packet vanished between two hooks, from facts the
 * edge read in the traced namespace. The order follows the kernel's input
 * path (net/ipv4/route.c ip_route_input_slow, net/ipv4/ip_forward.c,
 * net/ipv6/ip6_output.c ip6_forward): martian addresses, the route lookup
 * (its error names the route type: no route -ENETUNREACH, unreachable
 * -EHOSTUNREACH, blackhole -EINVAL, prohibit -EACCES), forwarding, then
 * the reverse-path filter. On 6.18 an input lookup refused by rp_filter or
 * a martian answers -EINVAL like a blackhole, and forwarding off answers
 * -EHOSTUNREACH like an unreachable route, so the route to the destination
 * without an input interface, the sysctls and the route back to the source
 * tell them apart.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include "vanish.h"

#define TCP_SYN 0x02
#define TCP_ACK 0x10

void vanish_facts_init(struct vanish_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->ip_forward = f->fwd_all = f->fwd_iif = -1;
	f->rp_all = f->rp_iif = -1;
	f->out_mtu = f->in_mtu = -1;
	f->force_fwd_iif = -1;
}

/* A packet whose socket lookup can say something: TCP SYN, or UDP. */
static bool socket_checkable(const struct packet_info *p)
{
	if (!p->has_ports)
		return false;
	if (p->l4proto == IPPROTO_TCP)
		return (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	return p->l4proto == IPPROTO_UDP;
}

bool vanish_checkable(const struct vanish_query *q)
{
	const struct packet_info *p = &q->pkt;

	if (p->l3 != 4 && p->l3 != 6)
		return false;
	switch (q->hook) {
	case VANISH_HOOK_PREROUTING:
		return q->iif != 0;
	case VANISH_HOOK_FORWARD:
	case VANISH_HOOK_OUTPUT:
		return true;
	case VANISH_HOOK_INPUT:
		/*
		 * Only a packet that opens a connection can miss a listener:
		 * a TCP SYN, or UDP. Anything else is answered by the socket
		 * that exists, or by nobody, which is not ours to judge.
		 */
		return socket_checkable(p);
	default:
		return false;
	}
}

unsigned int vanish_needs(const struct vanish_query *q)
{
	if (!vanish_checkable(q) || !q->daddr_known)
		return 0;
	switch (q->hook) {
	case VANISH_HOOK_PREROUTING:
		/* the edge asks the last three only when the input lookup fails,
		 * and the socket only when it says local */
		return VANISH_NEED_SYSCTL | VANISH_NEED_INPUT | VANISH_NEED_TO_DST |
		       (q->pkt.l3 == 4 ? VANISH_NEED_TO_SRC : 0) |
		       (socket_checkable(&q->pkt) ? VANISH_NEED_SOCKET : 0);
	case VANISH_HOOK_FORWARD:
	case VANISH_HOOK_OUTPUT:
		return VANISH_NEED_TO_DST;
	case VANISH_HOOK_INPUT:
		return VANISH_NEED_SOCKET;
	default:
		return 0;
	}
}

const char *vanish_reason_name(enum vanish_reason r)
{
	switch (r) {
	case VANISH_NOT_ASKED:
		return "not_checked";
	case VANISH_NOT_CHECKED:
		return "not_checked";
	case VANISH_UNKNOWN:
		return "unknown";
	case VANISH_DELIVERED:
		return "delivered";
	case VANISH_FORWARDING_OFF:
		return "forwarding_off";
	case VANISH_NO_ROUTE:
		return "no_route";
	case VANISH_UNREACHABLE_ROUTE:
		return "unreachable_route";
	case VANISH_BLACKHOLE_ROUTE:
		return "blackhole_route";
	case VANISH_PROHIBIT_ROUTE:
		return "prohibit_route";
	case VANISH_RP_FILTER:
		return "rp_filter";
	case VANISH_MARTIAN_SOURCE:
		return "martian_source";
	case VANISH_MARTIAN_DESTINATION:
		return "martian_destination";
	case VANISH_NO_LISTENER:
		return "no_listener";
	case VANISH_TOO_BIG:
		return "too_big";
	}
	return "unknown";
}

bool vanish_reason_named(enum vanish_reason r)
{
	return r >= VANISH_FORWARDING_OFF;
}

static void result(struct vanish_result *ret, enum vanish_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void result(struct vanish_result *ret, enum vanish_reason reason, const char *fmt, ...)
{
	va_list ap;

	ret->reason = reason;
	va_start(ap, fmt);
	vsnprintf(ret->evidence, sizeof(ret->evidence), fmt, ap);
	va_end(ap);
}

/* " (from iif wan0, mark 0x7)" */
static void from_str(const struct vanish_query *q, const struct vanish_facts *f, char *buf,
		     size_t len)
{
	char mark[32] = "";

	if (q->mark)
		snprintf(mark, sizeof(mark), "mark 0x%x", q->mark);
	if (f->iifname[0])
		snprintf(buf, len, " (from iif %s%s%s)", f->iifname, *mark ? ", " : "", mark);
	else if (*mark)
		snprintf(buf, len, " (%s)", mark);
	else if (len)
		buf[0] = '\0';
}

/* The kernel's own reasons for refusing a source or destination (route.c). */
static const char *martian4(const uint8_t *a, bool src)
{
	if (a[0] == 0)
		return "an address in 0.0.0.0/8";
	if (a[0] == 127)
		return "a loopback address arriving on another interface";
	if (src && a[0] >= 224 && a[0] < 240)
		return "a multicast address";
	if (src && a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
		return "the limited broadcast address";
	return NULL;
}

/* Forwarding off for this packet? Then what says so, in what: "KNOB is 0 ..." */
static bool forwarding_off(const struct vanish_query *q, const struct vanish_facts *f, char *what,
			   size_t len)
{
	if (q->pkt.l3 == 4) {
		if (f->ip_forward == 0) {
			snprintf(what, len, "net.ipv4.ip_forward is 0 in this namespace");
			return true;
		}
		if (f->fwd_iif == 0 && f->iifname[0]) {
			snprintf(what, len, "net.ipv4.conf.%s.forwarding is 0 in this namespace",
				 f->iifname);
			return true;
		}
		return false;
	}
	/* ip6_forward() looks at conf.all, and since 6.17 the input's force_forwarding */
	if (f->fwd_all == 0 && f->force_fwd_iif <= 0) {
		/* RTM_GETNETCONF does not carry force_forwarding (6.18): /proc/sys only */
		if (f->force_fwd_iif < 0 && f->iifname[0])
			snprintf(
				what, len,
				"net.ipv6.conf.all.forwarding is 0 in this namespace (net.ipv6.conf.%s.force_forwarding, which would forward it anyway, could not be read)",
				f->iifname);
		else
			snprintf(what, len, "net.ipv6.conf.all.forwarding is 0 in this namespace");
		return true;
	}
	return false;
}

static enum vanish_reason route_reason(int err)
{
	switch (err) {
	case -ENETUNREACH:
		return VANISH_NO_ROUTE;
	case -EHOSTUNREACH:
		return VANISH_UNREACHABLE_ROUTE;
	case -EINVAL:
		return VANISH_BLACKHOLE_ROUTE;
	case -EACCES:
		return VANISH_PROHIBIT_ROUTE;
	default:
		return VANISH_NOT_CHECKED;
	}
}

static void route_result(const struct vanish_facts *f, struct vanish_result *ret, const char *dst,
			 const char *from)
{
	enum vanish_reason why = route_reason(f->to_dst.err);

	switch (why) {
	case VANISH_NO_ROUTE:
		result(ret, why, "no route to %s%s", dst, from);
		break;
	case VANISH_UNREACHABLE_ROUTE:
	case VANISH_BLACKHOLE_ROUTE:
	case VANISH_PROHIBIT_ROUTE:
		result(ret, why, "no route to %s%s: the route is of type %s", dst, from,
		       why == VANISH_UNREACHABLE_ROUTE ? "unreachable"
		       : why == VANISH_BLACKHOLE_ROUTE ? "blackhole"
						       : "prohibit");
		break;
	default:
		result(ret, VANISH_NOT_CHECKED, "the route lookup for %s failed: %s", dst,
		       strerror(-f->to_dst.err));
		break;
	}
}

/* rp_filter: 0 off, 1 strict, 2 loose; the kernel uses max(all, IIF). */
static bool rp_filter_refuses(const struct vanish_query *q, const struct vanish_facts *f,
			      struct vanish_result *ret, const char *src)
{
	int rp = f->rp_all > f->rp_iif ? f->rp_all : f->rp_iif;
	char knob[64];

	if (q->pkt.l3 != 4 || rp <= 0 || !f->to_src.asked || !f->iifname[0])
		return false;
	if (f->rp_iif >= f->rp_all)
		snprintf(knob, sizeof(knob), "net.ipv4.conf.%s.rp_filter", f->iifname);
	else
		snprintf(knob, sizeof(knob), "net.ipv4.conf.all.rp_filter");
	if (f->to_src.err) {
		result(ret, VANISH_RP_FILTER,
		       "reverse-path filter: %s is %d (%s) and there is no route back to %s", knob,
		       rp, rp == 1 ? "strict" : "loose", src);
		return true;
	}
	if (rp == 1 && f->to_src.oif != q->iif) {
		result(ret, VANISH_RP_FILTER,
		       "reverse-path filter: %s is 1 (strict) and the route back to %s leaves through %s, not %s",
		       knob, src, f->to_src.oifname[0] ? f->to_src.oifname : "another interface",
		       f->iifname);
		return true;
	}
	return false;
}

static void set_next(struct vanish_result *ret, enum vanish_next next, const struct vanish_query *q,
		     const struct vanish_route *rt)
{
	ret->next = next;
	ret->next_l3 = q->pkt.l3;
	if (!rt)
		return;
	memcpy(ret->next_oif, rt->oifname, sizeof(ret->next_oif));
	ret->next_has_gateway = rt->has_gateway;
	memcpy(ret->next_gateway, rt->gateway, sizeof(ret->next_gateway));
}

/*
 * A packet the kernel delivers on this host: does a socket take it? The
 * lookup runs after the packet, so a socket that closed in between looks
 * like none. Only a packet that cannot belong to an earlier socket's
 * traffic proves a refusal: a TCP SYN that conntrack (when it says) calls
 * new, or a UDP datagram conntrack calls new in the original direction.
 * A reply, or a packet of a connection conntrack saw answered, had a
 * socket: then the miss is "not known", never "no listener".
 */
static void decide_local(const struct vanish_query *q, const struct vanish_facts *f,
			 struct vanish_result *ret)
{
	const struct packet_info *p = &q->pkt;
	bool tcp = p->l4proto == IPPROTO_TCP, proves;
	const char *proto = tcp ? "tcp" : "udp";
	char dst[PACKET_ADDRSTRLEN + 8];

	ret->next = VANISH_NEXT_LOCAL;
	ret->next_l3 = p->l3;
	if (p->l4proto == IPPROTO_ICMP || p->l4proto == IPPROTO_ICMPV6) {
		result(ret, VANISH_DELIVERED, "the kernel answers %s itself",
		       p->l3 == 4 ? "icmp" : "icmpv6");
		return;
	}
	if (!socket_checkable(p)) {
		result(ret, VANISH_UNKNOWN,
		       "no socket lookup for a packet that does not open a connection");
		return;
	}
	packet_endpoint_str(p, false, dst, sizeof(dst));
	if (!f->sock_asked || (f->sock_err && f->sock_err != -ENOENT)) {
		result(ret, VANISH_NOT_CHECKED, "%s",
		       f->missing[0] ? f->missing : "the socket lookup was not made");
		return;
	}
	if (f->sock_err == 0) {
		result(ret, VANISH_DELIVERED, "a socket takes %s %s", proto, dst);
		return;
	}
	if (tcp)
		proves = !q->ct_known || (q->ct_new && !q->ct_reply);
	else
		proves = q->ct_known && q->ct_new && !q->ct_reply;
	if (proves) {
		result(ret, VANISH_NO_LISTENER,
		       "no listener: no socket on this host takes %s %s, the kernel answers %s",
		       proto, dst, tcp ? "with a reset" : "with ICMP port unreachable");
		return;
	}
	if (q->ct_known)
		result(ret, VANISH_UNKNOWN,
		       "no socket takes %s %s any more, but conntrack calls the packet %s, so a socket had its connection; it may have closed since",
		       proto, dst, q->ct_reply ? "a reply" : "part of an answered connection");
	else
		result(ret, VANISH_UNKNOWN,
		       "no socket takes %s %s any more, and without conntrack state in the trace nothing tells whether one did when the packet came",
		       proto, dst);
}

static void decide_prerouting(const struct vanish_query *q, const struct vanish_facts *f,
			      struct vanish_result *ret)
{
	char src[PACKET_ADDRSTRLEN], dst[PACKET_ADDRSTRLEN], from[64], knob[200];
	const char *m;

	packet_addr_str(&q->pkt, true, src, sizeof(src));
	packet_addr_str(&q->pkt, false, dst, sizeof(dst));
	from_str(q, f, from, sizeof(from));
	/* the edge asks for the route to the destination only when the input lookup fails */
	if (!f->input.asked || (f->input.err && !f->to_dst.asked)) {
		result(ret, VANISH_NOT_CHECKED, "%s",
		       f->missing[0] ? f->missing : "the route lookups were not made");
		return;
	}
	if (f->input.err == 0) {
		if (f->input.type == RTN_UNICAST && forwarding_off(q, f, knob, sizeof(knob))) {
			result(ret, VANISH_FORWARDING_OFF, "not forwarded: %s", knob);
			return;
		}
		/*
		 * ip_forward() and ip6_forward() drop a packet too big for the
		 * route before the forward hook (IPv4 only with DF set: without
		 * it the packet is fragmented and goes on). A packet longer than
		 * its input interface's MTU was put together by GRO; its
		 * segments may fit: no claim then.
		 */
		if (f->input.type == RTN_UNICAST && f->out_mtu > 0 && f->in_mtu > 0 &&
		    q->pkt.length > f->out_mtu && q->pkt.length <= f->in_mtu) {
			result(ret, VANISH_TOO_BIG,
			       "too big: a %u-byte packet for a route out %s with MTU %d; the kernel answers %s",
			       q->pkt.length,
			       f->input.oifname[0] ? f->input.oifname : "an interface", f->out_mtu,
			       q->pkt.l3 == 4 ? "ICMP fragmentation needed (the packet has DF set)"
					      : "ICMPv6 packet too big");
			return;
		}
		if (f->input.type == RTN_LOCAL) {
			/* an input chain exists and never saw it: lost on the way */
			if (q->expected & (1u << VANISH_HOOK_INPUT))
				result(ret, VANISH_UNKNOWN,
				       "this host's input route lookup delivers it locally now%s",
				       from);
			else
				decide_local(q, f, ret);
			return;
		}
		if (f->input.type != RTN_UNICAST) {
			result(ret, VANISH_UNKNOWN,
			       "this host's input route lookup answers a route of type %u%s",
			       f->input.type, from);
			return;
		}
		/* IPv4's input lookup fails when forwarding is off; IPv6's does not */
		if (q->pkt.l3 == 6 && f->fwd_all < 0 && f->force_fwd_iif < 0) {
			result(ret, VANISH_UNKNOWN,
			       "this host's input route lookup forwards it out %s now, but whether forwarding is on could not be read%s",
			       f->input.oifname[0] ? f->input.oifname : "an interface", from);
			return;
		}
		result(ret, VANISH_UNKNOWN,
		       "this host's input route lookup forwards it out %s now, and forwarding is on%s",
		       f->input.oifname[0] ? f->input.oifname : "an interface", from);
		/* where a forward or postrouting chain exists it was lost on the way */
		if (!(q->expected & (1u << VANISH_HOOK_FORWARD | 1u << VANISH_HOOK_POSTROUTING)))
			set_next(ret, VANISH_NEXT_FORWARD, q, &f->input);
		return;
	}
	/* The kernel refused the packet: in the order route.c checks. */
	if (q->pkt.l3 == 4) {
		if ((m = martian4(q->pkt.saddr, true))) {
			result(ret, VANISH_MARTIAN_SOURCE, "martian source %s%s: %s", src, from, m);
			return;
		}
		if ((m = martian4(q->pkt.daddr, false))) {
			result(ret, VANISH_MARTIAN_DESTINATION, "martian destination %s%s: %s", dst,
			       from, m);
			return;
		}
	}
	if (f->to_dst.err) {
		route_result(f, ret, dst, from);
		return;
	}
	if (f->to_dst.type == RTN_UNICAST && forwarding_off(q, f, knob, sizeof(knob))) {
		result(ret, VANISH_FORWARDING_OFF, "not forwarded: %s", knob);
		return;
	}
	if (q->pkt.l3 == 4 && f->to_src.asked && f->to_src.err == 0 &&
	    f->to_src.type == RTN_LOCAL) {
		result(ret, VANISH_MARTIAN_SOURCE, "martian source %s%s: an address of this host",
		       src, from);
		return;
	}
	if (rp_filter_refuses(q, f, ret, src))
		return;
	result(ret, VANISH_UNKNOWN,
	       "this host's input route lookup refuses it (%s)%s, "
	       "but neither routes, forwarding nor rp_filter say why",
	       strerror(-f->input.err), from);
}

void vanish_decide(const struct vanish_query *q, const struct vanish_facts *f,
		   struct vanish_result *ret)
{
	char dst[PACKET_ADDRSTRLEN], from[64];

	memset(ret, 0, sizeof(*ret));
	if (!vanish_checkable(q)) {
		result(ret, VANISH_NOT_CHECKED, "nothing to check for this packet");
		return;
	}
	if (!q->daddr_known) {
		result(ret, VANISH_NOT_CHECKED, "its destination after NAT is not known");
		return;
	}
	switch (q->hook) {
	case VANISH_HOOK_PREROUTING:
		decide_prerouting(q, f, ret);
		return;
	case VANISH_HOOK_FORWARD:
	case VANISH_HOOK_OUTPUT:
		packet_addr_str(&q->pkt, false, dst, sizeof(dst));
		from_str(q, f, from, sizeof(from));
		if (!f->to_dst.asked) {
			result(ret, VANISH_NOT_CHECKED, "%s",
			       f->missing[0] ? f->missing : "the route lookup was not made");
			return;
		}
		/* a mark set on the way can reroute it (ip_route_me_harder) */
		if (f->to_dst.err) {
			route_result(f, ret, dst, from);
			return;
		}
		result(ret, VANISH_UNKNOWN, "the route to %s leaves through %s", dst,
		       f->to_dst.oifname[0] ? f->to_dst.oifname : "an interface");
		/* the route after forward was chosen at prerouting: this one */
		if (!(q->expected & (1u << VANISH_HOOK_POSTROUTING)))
			set_next(ret,
				 q->hook == VANISH_HOOK_FORWARD ? VANISH_NEXT_FORWARD
								: VANISH_NEXT_OUT,
				 q, &f->to_dst);
		return;
	case VANISH_HOOK_INPUT:
		decide_local(q, f, ret);
		return;
	default:
		result(ret, VANISH_NOT_CHECKED, "nothing to check at this hook");
		return;
	}
}

int vanish_cause_str(const struct vanish_result *v, char *buf, size_t len)
{
	switch (v->reason) {
	case VANISH_NOT_ASKED:
		return snprintf(buf, len,
				"dropped outside the ruleset (routing, rp_filter, no listener)");
	case VANISH_NOT_CHECKED:
		return snprintf(buf, len, "dropped outside the ruleset, why was not checked: %s",
				v->evidence);
	case VANISH_UNKNOWN:
	case VANISH_DELIVERED:
		return snprintf(buf, len, "dropped outside the ruleset, why is not known: %s",
				v->evidence);
	case VANISH_NO_LISTENER:
		return snprintf(buf, len, "refused outside the ruleset: %s", v->evidence);
	default:
		return snprintf(buf, len, "dropped outside the ruleset: %s", v->evidence);
	}
}

const char *vanish_next_name(const struct vanish_result *v)
{
	switch (v->next) {
	case VANISH_NEXT_LOCAL:
		if (v->reason == VANISH_DELIVERED)
			return "delivered";
		return v->reason == VANISH_NOT_CHECKED ? "not_checked" : "not_known";
	case VANISH_NEXT_FORWARD:
		return "forwarded";
	case VANISH_NEXT_OUT:
		return "sent";
	default:
		return v->reason == VANISH_NOT_CHECKED || v->reason == VANISH_NOT_ASKED
			       ? "not_checked"
			       : "not_known";
	}
}

void vanish_next_gateway_str(const struct vanish_result *v, char *buf, size_t len)
{
	if (len)
		buf[0] = '\0';
	if (v->next == VANISH_NEXT_NONE || v->next == VANISH_NEXT_LOCAL || !v->next_has_gateway ||
	    !inet_ntop(v->next_l3 == 6 ? AF_INET6 : AF_INET, v->next_gateway, buf, (socklen_t)len))
		if (len)
			buf[0] = '\0';
}

/* " via 203.0.113.254" or ", its destination on link" */
static void via_str(const struct vanish_result *v, char *buf, size_t len)
{
	char gw[INET6_ADDRSTRLEN];

	vanish_next_gateway_str(v, gw, sizeof(gw));
	if (gw[0])
		snprintf(buf, len, " via %s", gw);
	else
		snprintf(buf, len, ", its destination on link");
}

int vanish_next_str(const struct vanish_result *v, char *buf, size_t len)
{
	char via[INET6_ADDRSTRLEN + 32];

	via_str(v, via, sizeof(via));
	switch (v->next) {
	case VANISH_NEXT_FORWARD:
	case VANISH_NEXT_OUT:
		return snprintf(buf, len, "%s out of %s%s",
				v->next == VANISH_NEXT_FORWARD ? "forwarded" : "sent",
				v->next_oif[0] ? v->next_oif : "an interface", via);
	case VANISH_NEXT_LOCAL:
		if (v->reason == VANISH_DELIVERED)
			return snprintf(buf, len, "delivered locally: %s", v->evidence);
		if (v->reason == VANISH_NOT_CHECKED)
			return snprintf(
				buf, len,
				"delivered to this host by its route; whether a socket takes it was not checked: %s",
				v->evidence);
		return snprintf(
			buf, len,
			"delivered to this host by its route; whether a socket takes it is not known: %s",
			v->evidence);
	default:
		return snprintf(buf, len, "where it goes was not checked: %s",
				v->evidence[0] ? v->evidence : "no answer");
	}
}
