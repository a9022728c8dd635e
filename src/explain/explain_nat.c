/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What NAT did to a packet (explain.c's part): rewrites seen between base
 * chains, the rule that did each, the connection's source NAT from
 * conntrack, the mapping and a reply's restored source.
 */
#include <arpa/inet.h>
#include <string.h>

#include "explain.h"
#include "explain_int.h"
#include "ruletext.h"

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
void explain_parse_nat_target(const struct ruletext_tok *t, struct explain_nat *n)
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

bool explain_nat_rule_kind(const char *text, bool src, enum explain_nat_kind *ret,
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
int explain_find_nat_rule(const struct timeline *tl, const struct explain *ex, int from, int to,
			  bool src, enum explain_nat_kind *ret)
{
	struct ruletext_tok t[RULETEXT_MAX_TOKENS];
	unsigned int n;
	int at;

	for (int i = to - 1; i >= from; i--) {
		const struct tl_step *s = &tl->steps[i];

		if (!s->has_handle)
			continue;
		if (explain_nat_rule_kind(rule_text(ex, i), src, ret, t, &n, &at))
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
		n->rule_step = tn->step == NONE
				       ? NONE
				       : explain_find_nat_rule(tl, ex, 0, tn->step, src, &kind);
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
		if (!explain_nat_rule_kind(rule_text(ex, i), true, &kind, t, &nt, &at))
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
				explain_parse_nat_target(&t[to + 1], n);
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
				explain_parse_nat_target(&t[at + 2], n);
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

void explain_find_nat(const struct timeline *tl, const struct resolver *r, struct explain *ex)
{
	ex->n_nat = 0;
	nat_from_headers(tl, ex);
	nat_from_rules(tl, r, ex);
	nat_from_conntrack(tl, ex);
	nat_from_mapping(tl, r, ex);
	nat_from_reply(tl, r, ex);
}
