/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Set membership hints (explain.c's part): for a dropped packet, the set
 * lookups in the cause's base chain that did not match, with the packet's
 * key checked against the set.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "explain_int.h"
#include "ruletext.h"
#include "strbuf.h"

static const char *rule_text_h(const struct resolver *r, uint8_t family, const char *table,
			       const char *chain, uint64_t handle)
{
	bool deleted;

	if (!r || !r->rule)
		return NULL;
	return r->rule(r->ctx, family, table, chain, handle, &deleted);
}

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
		text = rule_text_h(r, where->family, where->table, chain, c->handles[i]);
		if (!text || !strchr(text, '@'))
			continue;
		nl = explain_rule_lookups(text, l, EXPLAIN_MAX_LOOKUPS);
		for (unsigned int k = 0; k < nl; k++)
			check_lookup(c, where, chain, c->handles[i], text, &l[k]);
	}
}

/* Replay the cause's base chain, looking at the rules that did not match. */
void explain_find_hints(const struct timeline *tl, const struct resolver *r, struct explain *ex)
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
