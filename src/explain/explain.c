/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Explaining a timeline: what the rules did and why the packet ended where
 * it did. The edge: the one place that asks the resolver, once per
 * timeline; explain_text.c renders what is found here.
 *
 * Rules that did not match send no trace event. In a chain the packet
 * passed, the rules between two of its events (or before the first, or
 * after the last up to the chain's end) are the ones that did not match.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "explain.h"
#include "names.h"
#include "ruletext.h"
#include "strbuf.h"

#define NONE (-1)

/* ---- small helpers ---- */

/* The text of step i's rule, as resolved at the start of explain_timeline(). */
static const char *rule_text(const struct explain *ex, int i)
{
	return ex->rules[i].text;
}

static const char *rule_text_h(const struct resolver *r, uint8_t family, const char *table,
			       uint64_t handle)
{
	bool deleted;

	if (!r || !r->rule)
		return NULL;
	return r->rule(r->ctx, family, table, handle, &deleted);
}

/* An interface's name into buf ("" if unknown): the resolver's is short-lived. */
static void ifname_copy(const struct resolver *r, uint32_t ifindex, char buf[IF_NAMESIZE])
{
	const char *name = r && r->ifname ? r->ifname(r->ctx, ifindex) : NULL;

	snprintf(buf, IF_NAMESIZE, "%s", name ? name : "");
}

/* First step of each base chain entry, NONE when it was not kept. */
static int base_of(const struct timeline *tl, int i)
{
	bool whole;
	int b = timeline_entry_start(tl, i, &whole);

	return whole ? b : NONE;
}

/* ---- the path: jumps and gotos ---- */

static void find_via(const struct timeline *tl, struct explain *ex)
{
	struct tl_walk w;
	int cause = ex->sum.cause, base = base_of(tl, cause);

	ex->n_via = 0;
	/* The entry's start was not kept: no via rather than a wrong one. */
	if (base == NONE)
		return;
	tl_walk_begin(&w, tl->steps[base].chain);
	for (int i = base; i < cause; i++)
		tl_walk_step(&w, &tl->steps[i], i);
	/* Events missing in between: no via rather than a wrong one. */
	if (tl_walk_top(&w)->chain != tl->steps[cause].chain)
		return;
	for (unsigned int d = 1; d < w.depth; d++)
		ex->via[ex->n_via++] = w.st[d].via;
}

/* ---- accepts per base chain ---- */

static void find_accepts(const struct timeline *tl, struct explain *ex)
{
	ex->n_accepts = 0;
	for (int b = 0; b < tl->n_steps; b = timeline_entry_next(tl, b)) {
		int end = timeline_entry_next(tl, b);

		/* a chain whose end was not kept left by no verdict we know */
		if (tl->steps_dropped && end == tl->gap_at)
			continue;
		for (int i = end - 1; i >= b; i--) {
			const struct tl_step *s = &tl->steps[i];

			if (!s->has_verdict ||
			    timeline_verdict_of(s->verdict) == TL_VERDICT_UNKNOWN)
				continue;
			if (timeline_verdict_of(s->verdict) == TL_VERDICT_ACCEPT &&
			    ex->n_accepts < TIMELINE_MAX_HDRS)
				ex->accepts[ex->n_accepts++] = i;
			break;
		}
	}
}

/* ---- NAT ---- */

static bool parse_port(const char *s, size_t len, uint16_t *ret)
{
	unsigned int v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*ret = (uint16_t)v;
	return true;
}

/*
 * "1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:80", "2001:db8::1", ":80";
 * ranges and maps leave the address or port unknown.
 */
static void parse_nat_target(const struct ruletext_tok *t, struct explain_nat *n)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *s = t->s, *end = t->s + t->len, *port = NULL, *a_end;
	uint8_t bin[16];

	if (*s == '[') {
		a_end = memchr(s, ']', t->len);
		if (!a_end)
			return;
		s++;
		if (a_end + 1 < end && a_end[1] == ':')
			port = a_end + 2;
	} else if (memchr(s, '.', t->len) || *s == ':') {
		a_end = memchr(s, ':', t->len);
		if (a_end)
			port = a_end + 1;
		else
			a_end = end;
	} else {
		a_end = end; /* a bare IPv6 address */
	}
	if (a_end > s && (size_t)(a_end - s) < sizeof(addr)) {
		memcpy(addr, s, (size_t)(a_end - s));
		addr[a_end - s] = '\0';
		if (n->before.l3 == 4 && inet_pton(AF_INET, addr, bin) == 1) {
			memcpy(n->after.saddr, bin, 4);
			n->addr_known = true;
		} else if (n->before.l3 == 6 && inet_pton(AF_INET6, addr, bin) == 1) {
			memcpy(n->after.saddr, bin, 16);
			n->addr_known = true;
		}
	}
	if (port) {
		uint16_t p;

		if (parse_port(port, (size_t)(end - port), &p)) {
			n->after.sport = p;
			n->port_known = true;
		} else {
			n->port_known = false;
		}
	}
}

static bool nat_rule_kind(const char *text, bool src, enum explain_nat_kind *ret,
			  struct ruletext_tok *t, unsigned int *ret_n, int *ret_at)
{
	unsigned int n;
	int at;

	if (!text)
		return false;
	n = ruletext_split(text, t, RULETEXT_MAX_TOKENS);
	*ret_n = n;
	if (src) {
		if ((at = ruletext_find(t, n, "snat")) != NONE)
			*ret = EXPLAIN_NAT_SNAT;
		else if ((at = ruletext_find(t, n, "masquerade")) != NONE)
			*ret = EXPLAIN_NAT_MASQUERADE;
		else
			return false;
	} else {
		if ((at = ruletext_find(t, n, "dnat")) != NONE)
			*ret = EXPLAIN_NAT_DNAT;
		else if ((at = ruletext_find(t, n, "redirect")) != NONE)
			*ret = EXPLAIN_NAT_REDIRECT;
		else
			return false;
	}
	*ret_at = at;
	return true;
}

/* The NAT rule among steps [from, to) that rewrote the source or destination. */
static int find_nat_rule(const struct timeline *tl, const struct explain *ex, int from, int to,
			 bool src, enum explain_nat_kind *ret)
{
	struct ruletext_tok t[RULETEXT_MAX_TOKENS];
	unsigned int n;
	int at;

	for (int i = to - 1; i >= from; i--) {
		const struct tl_step *s = &tl->steps[i];

		if (!s->has_handle)
			continue;
		if (nat_rule_kind(rule_text(ex, i), src, ret, t, &n, &at))
			return i;
	}
	return NONE;
}

static void nat_from_headers(const struct timeline *tl, struct explain *ex)
{
	for (unsigned int k = 0; k < ex->sum.n_nat && ex->n_nat < EXPLAIN_MAX_NAT; k++) {
		const struct tl_nat *tn = &ex->sum.nat[k];
		struct explain_nat *n = &ex->nat[ex->n_nat++];
		bool src = tn->type == TL_NAT_SNAT;
		enum explain_nat_kind kind = src ? EXPLAIN_NAT_SNAT : EXPLAIN_NAT_DNAT;

		memset(n, 0, sizeof(*n));
		n->type = tn->type;
		n->source = EXPLAIN_NAT_FROM_HEADERS;
		n->before = tn->before;
		n->after = tn->after;
		n->addr_known = n->port_known = true;
		n->at_step = tn->step;
		/* The last NAT rule of that kind before the changed headers. */
		n->rule_step =
			tn->step == NONE ? NONE : find_nat_rule(tl, ex, 0, tn->step, src, &kind);
		n->kind = kind;
		n->hook = n->rule_step != NONE ? ex->hooks[n->rule_step] : NULL;
	}
}

static const struct tl_hdr *hdr_of_step(const struct timeline *tl, int i)
{
	return timeline_entry_hdr(tl, i);
}

/* Source NAT happens as the packet leaves the last hook: from the rule. */
static void nat_from_rules(const struct timeline *tl, const struct resolver *r, struct explain *ex)
{
	struct ruletext_tok t[RULETEXT_MAX_TOKENS];

	for (int i = 0; i < tl->n_steps && ex->n_nat < EXPLAIN_MAX_NAT; i++) {
		const struct tl_step *s = &tl->steps[i];
		const char *hook = ex->hooks[i];
		const struct tl_hdr *h;
		struct explain_nat *n;
		enum explain_nat_kind kind;
		unsigned int nt;
		int at;
		bool used = false;

		if (!s->has_handle || !hook ||
		    (strcmp(hook, "postrouting") != 0 && strcmp(hook, "input") != 0))
			continue;
		if (!s->has_verdict || timeline_verdict_of(s->verdict) != TL_VERDICT_ACCEPT)
			continue;
		if (!nat_rule_kind(rule_text(ex, i), true, &kind, t, &nt, &at))
			continue;
		for (unsigned int k = 0; k < ex->n_nat; k++)
			if (ex->nat[k].rule_step == i)
				used = true;
		h = hdr_of_step(tl, i);
		if (used || !h || !h->pkt_valid)
			continue;
		n = &ex->nat[ex->n_nat++];
		memset(n, 0, sizeof(*n));
		n->type = TL_NAT_SNAT;
		n->kind = kind;
		n->source = EXPLAIN_NAT_FROM_RULE;
		n->before = n->after = h->pkt;
		/*
		 * The kernel keeps the source port only if the tuple stays
		 * unique, and picks one with random, fully-random, persistent
		 * or a range: only a single port in the rule, or conntrack,
		 * tells it.
		 */
		n->port_known = false;
		n->at_step = NONE;
		n->rule_step = i;
		n->hook = hook;
		if (kind == EXPLAIN_NAT_SNAT) {
			int to = at + 1;

			if (to < (int)nt &&
			    (ruletext_is(&t[to], "ip") || ruletext_is(&t[to], "ip6")))
				to++;
			/* "snat to ip saddr map { ... }" names no one address */
			if (to + 1 < (int)nt && ruletext_is(&t[to], "to"))
				parse_nat_target(&t[to + 1], n);
		} else {
			uint8_t addr[16];

			if (h->present & TRACE_HAS_OIF) {
				n->oif = h->oif;
				ifname_copy(r, n->oif, n->oif_name);
			}
			if (n->oif && r && r->ifaddr &&
			    r->ifaddr(r->xctx, n->oif, h->pkt.l3, addr) == 0) {
				memcpy(n->after.saddr, addr, h->pkt.l3 == 4 ? 4 : 16);
				n->addr_known = true;
			}
			if (at + 2 < (int)nt && ruletext_is(&t[at + 1], "to"))
				parse_nat_target(&t[at + 2], n);
		}
	}
}

/* A connection NATed earlier: later packets pass no NAT chain, ct says so. */
static void nat_from_conntrack(const struct timeline *tl, struct explain *ex)
{
	const struct tl_hdr *h = NULL;
	struct explain_nat *n;

	for (unsigned int k = 0; k < ex->n_nat; k++)
		if (ex->nat[k].type == TL_NAT_SNAT)
			return;
	for (int i = tl->n_hdrs - 1; i >= 0 && !h; i--)
		if (tl->hdrs[i].pkt_valid && (tl->hdrs[i].ct.present & TRACE_HAS_CT_STATUS))
			h = &tl->hdrs[i];
	if (!h || !(h->ct.status & TRACE_CT_SRC_NAT) || ex->n_nat >= EXPLAIN_MAX_NAT)
		return;
	if ((h->ct.present & TRACE_HAS_CT_DIRECTION) && h->ct.direction != 0)
		return; /* a reply: its destination is restored, seen in headers */
	n = &ex->nat[ex->n_nat++];
	memset(n, 0, sizeof(*n));
	n->type = TL_NAT_SNAT;
	n->kind = EXPLAIN_NAT_SNAT;
	n->source = EXPLAIN_NAT_FROM_CONNTRACK;
	n->before = n->after = h->pkt;
	n->at_step = NONE;
	n->rule_step = NONE;
}

static bool same_ep(const struct packet_info *p, const struct natmap_ep *ep)
{
	return memcmp(p->saddr, ep->addr, p->l3 == 4 ? 4 : 16) == 0 &&
	       (!p->has_ports || p->sport == ep->port);
}

/*
 * Source NAT from conntrack: the connection's reply tuple is addressed to
 * the source it really got, port included.
 */
static void nat_from_mapping(const struct timeline *tl, const struct resolver *r,
			     struct explain *ex)
{
	const struct tl_ct *ct = timeline_first_ct(tl);
	const struct packet_info *orig;
	const struct natmap *m;

	ex->has_mapping = false;
	if (!ex->n_nat || !r || !r->mapping || !ex->sum.packet)
		return;
	orig = &ex->sum.packet->pkt;
	/* a reply's tuple is the reply tuple: its NAT shows in its headers */
	if (ct && (ct->present & TRACE_HAS_CT_DIRECTION) && ct->direction != 0)
		return;
	m = r->mapping(r->ctx, ct, orig);
	if (!m || m->l3 != orig->l3)
		return;
	ex->mapping = *m;
	ex->has_mapping = true;
	if (!(m->nat & NATMAP_NAT_SNAT))
		return;
	for (unsigned int k = 0; k < ex->n_nat; k++) {
		struct explain_nat *n = &ex->nat[k];

		if (n->type != TL_NAT_SNAT || n->source == EXPLAIN_NAT_FROM_HEADERS ||
		    !same_ep(&n->before, &m->orig_src))
			continue;
		memcpy(n->after.saddr, m->reply_dst.addr, 16);
		n->after.sport = m->reply_dst.port;
		n->addr_known = n->port_known = n->from_ct = true;
	}
}

/*
 * A reply of a DNATed connection: conntrack gives its source back the
 * address the client asked for, as it leaves (postrouting, or input for
 * a local client), after every chain it passes. Only the mapping knows.
 */
static void nat_from_reply(const struct timeline *tl, const struct resolver *r, struct explain *ex)
{
	const struct tl_ct *ct = timeline_first_ct(tl);
	const char *last_hook = tl->n_steps ? ex->hooks[tl->n_steps - 1] : NULL;
	const struct packet_info *pkt;
	const struct natmap *m;
	struct explain_nat *n;

	if (!ct || !(ct->present & TRACE_HAS_CT_DIRECTION) || ct->direction == 0 || !r ||
	    !r->mapping || !ex->sum.packet || ex->n_nat >= EXPLAIN_MAX_NAT ||
	    ex->sum.verdict == TL_VERDICT_DROP)
		return;
	pkt = &ex->sum.packet->pkt;
	m = r->mapping(r->ctx, ct, pkt);
	if (!m || m->l3 != pkt->l3 || !(m->nat & NATMAP_NAT_DNAT) || !same_ep(pkt, &m->reply_src))
		return;
	ex->mapping = *m;
	ex->has_mapping = true;
	n = &ex->nat[ex->n_nat++];
	memset(n, 0, sizeof(*n));
	n->type = TL_NAT_SNAT;
	n->kind = EXPLAIN_NAT_UNDNAT;
	n->source = EXPLAIN_NAT_FROM_CONNTRACK;
	n->before = n->after = *pkt;
	memcpy(n->after.saddr, m->orig_dst.addr, 16);
	n->after.sport = m->orig_dst.port;
	n->addr_known = n->port_known = n->from_ct = true;
	n->at_step = NONE;
	n->rule_step = NONE;
	/* a local client: its reply's source is restored at input */
	n->hook = last_hook && strcmp(last_hook, "input") == 0 ? "input" : "postrouting";
}

/* ---- lost outside the ruleset ---- */

/*
 * Ask the kernel why (vanish.h), with the packet as it left the last hook:
 * a dnat or redirect in that chain is not in its headers yet.
 */
static void ask_vanish(const struct timeline *tl, const struct resolver *r,
		       const struct tl_hdr *last, int bit, unsigned int expect, struct explain *ex)
{
	struct vanish_query q = {
		.pkt = last->pkt,
		.daddr_known = true,
		.hook = bit,
		.expected = expect,
		.iif = (last->present & TRACE_HAS_IIF) ? last->iif : 0,
		/* as it left: a rule of the last chain may have set it */
		.mark = tl->n_steps ? tl->steps[tl->n_steps - 1].mark : 0,
	};
	struct explain_nat n = { .before = last->pkt };
	struct ruletext_tok t[RULETEXT_MAX_TOKENS];
	enum explain_nat_kind kind;
	unsigned int nt;
	int i, at;

	if (!r->vanish || !last->pkt_valid || tl->n_steps == 0)
		return;
	/* conntrack's word on the packet, as the kernel sent it (6.16+) */
	if (last->ct.present & TRACE_HAS_CT_STATE) {
		q.ct_known = true;
		q.ct_new =
			(last->ct.state & TRACE_CT_STATE_NEW) &&
			!(last->ct.state & (TRACE_CT_STATE_ESTABLISHED | TRACE_CT_STATE_RELATED));
		q.ct_reply = (last->ct.present & TRACE_HAS_CT_DIRECTION) && last->ct.direction;
	}
	i = find_nat_rule(tl, ex, timeline_entry_start(tl, tl->n_steps - 1, NULL), tl->n_steps,
			  false, &kind);
	if (i != NONE && nat_rule_kind(rule_text(ex, i), false, &kind, t, &nt, &at)) {
		while (++at < (int)nt && !ruletext_is(&t[at], "to"))
			;
		if (at + 1 < (int)nt)
			parse_nat_target(&t[at + 1], &n);
		if (kind == EXPLAIN_NAT_REDIRECT)
			n.addr_known = q.iif && r->ifaddr &&
				       r->ifaddr(r->xctx, q.iif, q.pkt.l3, n.after.saddr) == 0;
		q.daddr_known = n.addr_known;
		memcpy(q.pkt.daddr, n.after.saddr, 16);
		if (n.port_known)
			q.pkt.dport = n.after.sport;
	}
	/* nothing the checks could say: a packet without iif, ICMP at input, ... */
	if (!vanish_checkable(&q) && !expect)
		return;
	r->vanish(r->vctx, &q, &ex->outside_why);
	ex->asked_kernel = true;
}

/*
 * An accepted packet whose timeline ends before its last hook (input or
 * postrouting) either went on where no chain of the ruleset sees it, or
 * the kernel dropped it. No event tells the two apart: the kernel's route
 * lookup for the packet (after NAT, with its iif and mark), its forwarding
 * and rp_filter settings and its socket lookup do. Without the kernel to
 * ask (no vanish callback), only a later hook with base chains that never
 * saw the packet proves a loss.
 */
static void find_outside(const struct timeline *tl, const struct resolver *r, struct explain *ex)
{
	const struct tl_hdr *last = NULL;
	unsigned int all = 0, nat = 0, later;
	const struct vanish_result *v = &ex->outside_why;
	const char *hook;
	int bit;

	/* a packet under another trace id may have been this one, later */
	if (ex->sum.verdict != TL_VERDICT_ACCEPT || !timeline_complete(tl) || tl->unjoined_after ||
	    !r || !r->base_hooks || !r->hook || tl->n_hdrs == 0)
		return;
	last = &tl->hdrs[tl->n_hdrs - 1];
	hook = r->hook(r->ctx, last->family, last->table, last->chain);
	bit = names_hook_parse(hook);
	if (bit == NONE)
		return;
	r->base_hooks(r->xctx,
		      tl->nfproto ? tl->nfproto : (last->pkt.l3 == 6 ? NFPROTO_IPV6 : NFPROTO_IPV4),
		      &all, &nat);
	/*
	 * nat chains see a connection's first packet only, and the source NAT
	 * ones only until the connection is source-NATed: count them only
	 * when the packet's conntrack state says they must come.
	 */
	if ((last->ct.present & TRACE_HAS_CT_STATE) && (last->ct.state & TRACE_CT_STATE_NEW) &&
	    !(last->ct.status & (TRACE_CT_CONFIRMED | TRACE_CT_SRC_NAT_DONE)))
		all |= nat & (1u << NF_INET_LOCAL_IN | 1u << NF_INET_POST_ROUTING);
	/* later hooks of the packet's path with base chains, which it never reached */
	switch (bit) {
	case NF_INET_PRE_ROUTING:
		later = all & (1u << NF_INET_LOCAL_IN | 1u << NF_INET_FORWARD |
			       1u << NF_INET_POST_ROUTING);
		break;
	case NF_INET_FORWARD:
	case NF_INET_LOCAL_OUT:
		later = all & (1u << NF_INET_POST_ROUTING);
		break;
	case NF_INET_LOCAL_IN:
		later = 0;
		break;
	default:
		return; /* postrouting: the packet leaves */
	}
	if (!r->vanish) {
		/* after prerouting, delivered (input) or forwarded (forward, postrouting) */
		if (bit == NF_INET_PRE_ROUTING &&
		    !((all & (1u << NF_INET_LOCAL_IN)) &&
		      (all & (1u << NF_INET_FORWARD | 1u << NF_INET_POST_ROUTING))))
			return;
		if (!later)
			return;
		ex->outside = true;
		ex->outside_after = hook;
		ex->outside_expected = later;
		return;
	}
	ask_vanish(tl, r, last, bit, later, ex);
	if (!ex->asked_kernel)
		return;
	ex->outside_after = hook;
	/*
	 * Lost: the kernel names why; or it would send the packet on, yet a
	 * later chain that must have seen it did not (no next then).
	 */
	if (vanish_reason_named(v->reason) || (v->next == VANISH_NEXT_NONE && later)) {
		ex->outside = true;
		ex->outside_expected = later;
		/* a refused packet at input or after a local route: input only */
		if (v->reason == VANISH_NO_LISTENER)
			ex->outside_expected = later & (1u << NF_INET_LOCAL_IN);
		return;
	}
	ex->after_ruleset = true;
}

/* ---- set membership hints ---- */

struct hintctx {
	const struct timeline *tl;
	const struct resolver *r;
	struct explain *ex;
	const struct tl_hdr *hdr; /* the packet as it was at this hook */
	uint32_t mark;		  /* its mark where the rules looked at now ran */
	unsigned int rules_read;
	uint64_t handles[EXPLAIN_MAX_CHAIN_RULES];
};

/* An interface name nft can take between quotes. */
static bool quotable(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 ||
		    (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/*
 * The key for the packet at this hook. 1: built; 0: the rule cannot match
 * this packet whatever the set holds (an ip6 key for an IPv4 packet, tcp
 * ports for udp): no hint; -1: not evaluated, reason set.
 */
static int build_key(const struct explain_lookup *l, const struct tl_hdr *h, uint32_t mark,
		     const struct resolver *r, char *buf, size_t len, char *reason, size_t rlen)
{
	const struct packet_info *p = &h->pkt;
	size_t off = 0;
	char a[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	for (unsigned int k = 0; k < l->n_sel; k++) {
		const char *name;

		if (k)
			strbuf_add(buf, len, &off, " . ");
		switch (l->sel[k]) {
		case EXPLAIN_SEL_IP_SADDR:
		case EXPLAIN_SEL_IP_DADDR:
			if (p->l3 != 4)
				return 0;
			inet_ntop(AF_INET, l->sel[k] == EXPLAIN_SEL_IP_SADDR ? p->saddr : p->daddr,
				  a, sizeof(a));
			strbuf_add(buf, len, &off, "%s", a);
			break;
		case EXPLAIN_SEL_IP6_SADDR:
		case EXPLAIN_SEL_IP6_DADDR:
			if (p->l3 != 6)
				return 0;
			inet_ntop(AF_INET6,
				  l->sel[k] == EXPLAIN_SEL_IP6_SADDR ? p->saddr : p->daddr, a,
				  sizeof(a));
			strbuf_add(buf, len, &off, "%s", a);
			break;
		case EXPLAIN_SEL_TCP_SPORT:
		case EXPLAIN_SEL_TCP_DPORT:
		case EXPLAIN_SEL_UDP_SPORT:
		case EXPLAIN_SEL_UDP_DPORT:
		case EXPLAIN_SEL_TH_SPORT:
		case EXPLAIN_SEL_TH_DPORT: {
			enum explain_selector s = l->sel[k];
			bool src = s == EXPLAIN_SEL_TCP_SPORT || s == EXPLAIN_SEL_UDP_SPORT ||
				   s == EXPLAIN_SEL_TH_SPORT;

			if ((s == EXPLAIN_SEL_TCP_SPORT || s == EXPLAIN_SEL_TCP_DPORT) &&
			    p->l4proto != IPPROTO_TCP)
				return 0;
			if ((s == EXPLAIN_SEL_UDP_SPORT || s == EXPLAIN_SEL_UDP_DPORT) &&
			    p->l4proto != IPPROTO_UDP)
				return 0;
			if (!p->has_ports) {
				if (s == EXPLAIN_SEL_TH_SPORT || s == EXPLAIN_SEL_TH_DPORT)
					return 0;
				snprintf(reason, rlen, "the ports of this packet are unknown");
				return -1;
			}
			strbuf_add(buf, len, &off, "%u", src ? p->sport : p->dport);
			break;
		}
		case EXPLAIN_SEL_L4PROTO:
			if (p->l4proto == IPPROTO_TCP)
				strbuf_add(buf, len, &off, "tcp");
			else if (p->l4proto == IPPROTO_UDP)
				strbuf_add(buf, len, &off, "udp");
			else
				strbuf_add(buf, len, &off, "%u", p->l4proto);
			break;
		case EXPLAIN_SEL_IIFNAME:
		case EXPLAIN_SEL_OIFNAME: {
			bool in = l->sel[k] == EXPLAIN_SEL_IIFNAME;
			uint32_t present = in ? TRACE_HAS_IIF : TRACE_HAS_OIF;

			if (!(h->present & present)) {
				snprintf(reason, rlen,
					 "the packet has no %s interface at this hook",
					 in ? "input" : "output");
				return -1;
			}
			name = r && r->ifname ? r->ifname(r->ctx, in ? h->iif : h->oif) : NULL;
			if (!name || !quotable(name)) {
				snprintf(reason, rlen, "the %s interface's name is unknown",
					 in ? "input" : "output");
				return -1;
			}
			strbuf_add(buf, len, &off, "\"%s\"", name);
			break;
		}
		case EXPLAIN_SEL_MARK:
			/* as the rule saw it: a rule before it may have changed it */
			strbuf_add(buf, len, &off, "0x%08" PRIx32, mark);
			break;
		case EXPLAIN_SEL_UNSUPPORTED:
			snprintf(reason, rlen, "key expression `%s` is not supported", l->expr);
			return -1;
		}
	}
	if (off >= len) {
		snprintf(reason, rlen, "the key is too long");
		return -1;
	}
	return 1;
}

static bool verdict_word(const char *text)
{
	return ruletext_has_word(text, "accept") || ruletext_has_word(text, "jump") ||
	       ruletext_has_word(text, "goto");
}

static void check_lookup(struct hintctx *c, const struct tl_step *where, const char *chain,
			 uint64_t handle, const char *text, const struct explain_lookup *l)
{
	struct explain *ex = c->ex;
	struct explain_hint *h;
	char key[EXPLAIN_KEY_MAX], reason[EXPLAIN_REASON_MAX] = "";
	int k = -1, m;

	if (!l->supported)
		snprintf(reason, sizeof(reason), "key expression `%s` is not supported", l->expr);
	else if (!c->hdr || !c->hdr->pkt_valid)
		snprintf(reason, sizeof(reason), "the packet's headers at this hook are unknown");
	else {
		k = build_key(l, c->hdr, c->mark, c->r, key, sizeof(key), reason, sizeof(reason));
		if (k == 0)
			return; /* cannot match this packet: not a set question */
	}
	if (ex->n_hints >= EXPLAIN_MAX_HINTS) {
		ex->hints_dropped++;
		return;
	}
	h = &ex->hints[ex->n_hints++];
	memset(h, 0, sizeof(*h));
	h->family = where->family;
	h->table = where->table;
	h->chain = chain;
	h->handle = handle;
	h->is_map = l->is_map;
	h->negated = l->negated;
	memcpy(h->set, l->set, sizeof(h->set));
	if (k == 1)
		memcpy(h->key, key, sizeof(h->key));
	if (k != 1) {
		memcpy(h->reason, reason, sizeof(h->reason));
		return;
	}
	if (!l->set_name_ok || !ruletext_plain_name(where->table, strlen(where->table))) {
		snprintf(h->reason, sizeof(h->reason), "the set or table name needs quoting");
		return;
	}
	/* The same question twice in one packet: one query. */
	for (unsigned int i = 0; i + 1 < ex->n_hints; i++) {
		const struct explain_hint *o = &ex->hints[i];

		if (o->evaluated && o->family == h->family && strcmp(o->table, h->table) == 0 &&
		    strcmp(o->set, h->set) == 0 && strcmp(o->key, h->key) == 0) {
			h->evaluated = true;
			h->member = o->member;
			goto evaluated;
		}
	}
	if (!c->r || !c->r->set_member) {
		snprintf(h->reason, sizeof(h->reason), "set contents are not available");
		return;
	}
	if (ex->queries >= EXPLAIN_MAX_QUERIES) {
		snprintf(h->reason, sizeof(h->reason), "more than %d set lookups in one packet",
			 EXPLAIN_MAX_QUERIES);
		return;
	}
	ex->queries++;
	m = c->r->set_member(c->r->xctx, h->family, h->table, h->set, h->key, h->reason,
			     sizeof(h->reason));
	if (m < 0)
		return;
	h->evaluated = true;
	h->member = m > 0;
	h->reason[0] = '\0';
evaluated:
	/* Adding the key helps only a rule that would then accept or jump. */
	h->suggest = !h->member && !h->negated && (h->is_map || verdict_word(text));
}

/* Rules of the top chain after handle 'after' (0: from the start) and
 * before handle 'before' (0: to the end) did not match: look at their sets. */
static void scan_skipped(struct hintctx *c, const struct tl_step *where, const char *chain,
			 uint64_t after, uint64_t before)
{
	const struct resolver *r = c->r;
	unsigned int n = 0, i = 0;

	if (!r || !r->chain_rules ||
	    r->chain_rules(r->xctx, where->family, where->table, chain, c->handles,
			   EXPLAIN_MAX_CHAIN_RULES, &n) < 0)
		return;
	if (after) {
		while (i < n && c->handles[i] != after)
			i++;
		if (i == n)
			return; /* the listing does not have it: no claim */
		i++;
	}
	for (; i < n && c->handles[i] != before; i++) {
		struct explain_lookup l[EXPLAIN_MAX_LOOKUPS];
		const char *text;
		unsigned int nl;

		if (c->rules_read++ >= EXPLAIN_MAX_RULES)
			return;
		text = rule_text_h(r, where->family, where->table, c->handles[i]);
		if (!text || !strchr(text, '@'))
			continue;
		nl = explain_rule_lookups(text, l, EXPLAIN_MAX_LOOKUPS);
		for (unsigned int k = 0; k < nl; k++)
			check_lookup(c, where, chain, c->handles[i], text, &l[k]);
	}
}

/* Replay the cause's base chain, looking at the rules that did not match. */
static void find_hints(const struct timeline *tl, const struct resolver *r, struct explain *ex)
{
	struct hintctx *c, cbuf;
	struct tl_walk w;
	int cause = ex->sum.cause, base = base_of(tl, cause);

	/* the rules before the entry's first kept event are unknown */
	if (base == NONE)
		return;
	c = &cbuf;
	c->tl = tl;
	c->r = r;
	c->ex = ex;
	c->rules_read = 0;
	c->hdr = tl->steps[base].hdr >= 0 ? &tl->hdrs[tl->steps[base].hdr] : NULL;
	tl_walk_begin(&w, tl->steps[base].chain);
	for (int i = base; i <= cause; i++) {
		const struct tl_step *s = &tl->steps[i];
		struct tl_frame *top = tl_walk_top(&w);

		/* the rules before this event saw the mark the one before left */
		c->mark = i > base ? tl->steps[i - 1].mark : c->hdr ? c->hdr->mark : s->mark;
		if (s->type == TRACE_TYPE_POLICY) {
			if (!w.st[0].done)
				scan_skipped(c, s, w.st[0].chain, w.st[0].last, 0);
			w.st[0].done = true;
			continue;
		}
		/* Events missing: stop rather than blame the wrong rules. */
		if (s->chain != top->chain)
			return;
		if (!s->has_handle) {
			if (timeline_step_leaves_chain(s)) {
				scan_skipped(c, s, top->chain, top->last, 0);
				top->done = true;
				tl_walk_pop(&w);
			}
			continue;
		}
		scan_skipped(c, s, top->chain, top->last, s->handle);
		top->last = s->handle;
		if (i == cause)
			break;
		if (!tl_walk_step(&w, s, i))
			return;
	}
}

/* ---- putting it together ---- */

/* Everything the renderers name: rule texts and interfaces. */
static void resolve_names(const struct timeline *tl, const struct resolver *r, struct explain *ex)
{
	for (int i = 0; i < tl->n_steps; i++) {
		const struct tl_step *s = &tl->steps[i];

		ex->rules[i] = (struct explain_rule){};
		if (s->has_handle && r && r->rule)
			ex->rules[i].text = r->rule(r->ctx, s->family, s->table, s->handle,
						    &ex->rules[i].deleted);
	}
	for (int h = 0; h < tl->n_hdrs; h++) {
		const struct tl_hdr *hd = &tl->hdrs[h];

		ex->iif[h][0] = ex->oif[h][0] = '\0';
		if (hd->present & TRACE_HAS_IIF)
			ifname_copy(r, hd->iif, ex->iif[h]);
		if (hd->present & TRACE_HAS_OIF)
			ifname_copy(r, hd->oif, ex->oif[h]);
	}
}

void explain_timeline(const struct timeline *tl, const struct resolver *r, struct explain *ret)
{
	const char *hook = NULL;

	timeline_summarize(tl, &ret->sum);
	resolve_names(tl, r, ret);
	for (int i = 0; i < tl->n_steps; i++) {
		const struct tl_hdr *h = timeline_entry_hdr(tl, i);

		if (i == 0 || tl->steps[i].base != tl->steps[i - 1].base)
			hook = h && r && r->hook ? r->hook(r->ctx, h->family, h->table, h->chain)
						 : NULL;
		ret->hooks[i] = hook;
	}
	ret->cause_hook = ret->sum.cause >= 0 ? ret->hooks[ret->sum.cause] : NULL;
	ret->reject = ret->sum.cause >= 0 && ret->sum.verdict == TL_VERDICT_DROP &&
		      ruletext_has_word(rule_text(ret, ret->sum.cause), "reject");
	ret->n_via = 0;
	if (ret->sum.cause >= 0)
		find_via(tl, ret);
	find_accepts(tl, ret);
	ret->n_nat = 0;
	nat_from_headers(tl, ret);
	nat_from_rules(tl, r, ret);
	nat_from_conntrack(tl, ret);
	nat_from_mapping(tl, r, ret);
	nat_from_reply(tl, r, ret);
	ret->outside = false;
	ret->after_ruleset = false;
	ret->asked_kernel = false;
	ret->outside_after = NULL;
	ret->outside_expected = 0;
	memset(&ret->outside_why, 0, sizeof(ret->outside_why));
	find_outside(tl, r, ret);
	ret->n_hints = 0;
	ret->hints_dropped = 0;
	ret->queries = 0;
	/* Membership costs a netlink round trip: only where a packet died. */
	if (ret->sum.cause >= 0 && ret->sum.verdict == TL_VERDICT_DROP)
		find_hints(tl, r, ret);
	/* after the cause and its vias: text, JSON and journal all name it */
	owner_kube_resolve(tl, r, ret);
	ret->has_cause_owner = owner_of_cause(tl, ret, &ret->cause_owner);
}

/* ---- conntrack attributes ---- */

bool explain_ct_watch(struct explain_ct_watch *w, const struct timeline *tl,
		      const struct resolver *r)
{
	bool after_ct = false;

	if (w->seen || w->warned)
		return false;
	for (int h = 0; h < tl->n_hdrs; h++) {
		const struct tl_hdr *hd = &tl->hdrs[h];
		int bit;

		if (hd->ct.present) {
			w->seen = true;
			return false;
		}
		if (hd->own || !r || !r->hook)
			continue;
		bit = names_hook_parse(r->hook(r->ctx, hd->family, hd->table, hd->chain));
		if (bit == NF_INET_LOCAL_IN || bit == NF_INET_FORWARD ||
		    bit == NF_INET_POST_ROUTING)
			after_ct = true;
	}
	if (!after_ct || !timeline_complete(tl))
		return false;
	w->warned = true;
	return true;
}

bool explain_kernel_sends_ct(const char *release)
{
	unsigned int major = 0, minor = 0;

	if (!release || sscanf(release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 16);
}
