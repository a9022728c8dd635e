/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What explain_timeline() found, in words: the one-line cause, NAT
 * rewrites, set hints and step names that text, JSON and the journal
 * share. Pure: everything comes from struct explain.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "explain.h"
#include "explain_text.h"
#include "names.h"
#include "owner.h"
#include "owner_render.h"
#include "strbuf.h"

const char *explain_verdict_kind(const struct explain *ex)
{
	if (ex->reject)
		return "reject";
	return timeline_verdict_name(ex->sum.verdict);
}

const char *explain_nat_kind_name(enum explain_nat_kind k)
{
	switch (k) {
	case EXPLAIN_NAT_DNAT:
		return "dnat";
	case EXPLAIN_NAT_REDIRECT:
		return "redirect";
	case EXPLAIN_NAT_SNAT:
		return "snat";
	case EXPLAIN_NAT_MASQUERADE:
		return "masquerade";
	case EXPLAIN_NAT_UNDNAT:
		return "un-dnat";
	}
	return "?";
}

const char *explain_nat_source_name(enum explain_nat_source s)
{
	switch (s) {
	case EXPLAIN_NAT_FROM_HEADERS:
		return "headers";
	case EXPLAIN_NAT_FROM_RULE:
		return "rule";
	case EXPLAIN_NAT_FROM_CONNTRACK:
		return "conntrack";
	}
	return "?";
}

void explain_nat_endpoints(const struct explain_nat *n, char *from, char *to, size_t len)
{
	bool src = n->type == TL_NAT_SNAT;
	struct packet_info after = n->after;

	packet_endpoint_str(&n->before, src, from, len);
	if (!n->addr_known) {
		snprintf(to, len, "?");
		return;
	}
	if (after.has_ports && !n->port_known) {
		/* the address is known, the port the kernel chose is not */
		char addr[PACKET_ADDRSTRLEN];

		packet_addr_str(&after, src, addr, sizeof(addr));
		snprintf(to, len, after.l3 == 6 ? "[%s]:?" : "%s:?", addr);
		return;
	}
	packet_endpoint_str(&after, src, to, len);
}

int explain_nat_str(const struct explain_nat *n, char *buf, size_t len)
{
	char from[PACKET_ADDRSTRLEN], to[PACKET_ADDRSTRLEN];
	const char *ifname = n->oif && n->oif_name[0] ? n->oif_name : NULL;

	explain_nat_endpoints(n, from, to, sizeof(from));
	if (n->kind == EXPLAIN_NAT_UNDNAT)
		return snprintf(buf, len,
				"un-dnat %s -> %s by conntrack at %s (the reply to the dnat)", from,
				to, n->hook ? n->hook : "postrouting");
	if (n->source == EXPLAIN_NAT_FROM_CONNTRACK && !n->addr_known)
		return snprintf(
			buf, len,
			"%s %s -> ? (conntrack: the connection is source-NATed; its address is not in the trace)",
			explain_nat_kind_name(n->kind), from);
	if (n->kind == EXPLAIN_NAT_MASQUERADE && !n->addr_known) {
		if (ifname)
			return snprintf(buf, len, "masquerade %s -> address of %s", from, ifname);
		return snprintf(buf, len, "masquerade %s -> address of the output interface", from);
	}
	if (ifname && n->kind == EXPLAIN_NAT_MASQUERADE)
		return snprintf(buf, len, "%s %s -> %s via %s", explain_nat_kind_name(n->kind),
				from, to, ifname);
	return snprintf(buf, len, "%s %s -> %s", explain_nat_kind_name(n->kind), from, to);
}

int explain_hint_str(const struct explain_hint *h, char *buf, size_t len)
{
	const char *fam = trace_family_name(h->family);
	const char *what = h->is_map ? "map" : "set";

	if (!h->evaluated)
		return snprintf(buf, len, "%s%s%s %s %s %s %s not evaluated: %s",
				h->key[0] ? h->key : "", h->key[0] ? " in " : "", what, fam,
				h->table, h->set, h->key[0] ? "was" : "lookup", h->reason);
	if (h->negated)
		return snprintf(buf, len, "%s is %sin %s %s %s %s (the rule wants it absent)",
				h->key, h->member ? "" : "not ", what, fam, h->table, h->set);
	return snprintf(buf, len, "%s is %sin %s %s %s %s%s", h->key, h->member ? "" : "not ", what,
			fam, h->table, h->set,
			h->member ? " (the rule failed on another condition)" : "");
}

int explain_hint_command(const struct explain_hint *h, char *buf, size_t len)
{
	if (!h->evaluated || !h->suggest) {
		if (len)
			buf[0] = '\0';
		return 0;
	}
	char elem[EXPLAIN_KEY_MAX + 32];
	size_t off = 0;

	/*
	 * A command to copy: the ruleset's names quoted for the shell, and
	 * the element too when the key holds more than addresses, ports and
	 * numbers (an interface name in double quotes, which a shell would
	 * expand "$(...)" in).
	 */
	snprintf(elem, sizeof(elem), "{ %s%s }", h->key, h->is_map ? " : VERDICT" : "");
	strbuf_add(buf, len, &off, "nft add element %s ", trace_family_name(h->family));
	strbuf_shell_word(buf, len, &off, h->table);
	strbuf_add(buf, len, &off, " ");
	strbuf_shell_word(buf, len, &off, h->set);
	if (strspn(h->key, "abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:/_- ") == strlen(h->key))
		strbuf_add(buf, len, &off, " %s", elem);
	else
		strbuf_add(buf, len, &off, " "), strbuf_shell_word(buf, len, &off, elem);
	return (int)off;
}

int explain_step_str(const struct tl_step *s, const struct explain_rule *rule, bool with_comment,
		     char *buf, size_t len)
{
	char comment[256];
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	if (s->type == TRACE_TYPE_POLICY)
		return snprintf(buf, len, "policy");
	if (!s->has_handle)
		return snprintf(buf, len, "end of chain");
	if (!rule->text)
		return snprintf(buf, len, "rule handle %" PRIu64 " (%s)", s->handle,
				rule->deleted ? "deleted" : "unknown");
	/* its handle is the clone's: no rule the user can edit has it */
	if (rule->added)
		return snprintf(buf, len, "rule `%s` (added by the change)", rule->text);
	strbuf_add(buf, len, &off, "rule `%s` (handle %" PRIu64, rule->text, s->handle);
	if (with_comment && explain_rule_comment(rule->text, comment, sizeof(comment)))
		strbuf_add(buf, len, &off, ", comment \"%s\"", comment);
	strbuf_add(buf, len, &off, "%s)", rule->deleted ? ", deleted" : "");
	return (int)off;
}

static void put_step(char *buf, size_t len, size_t *off, const struct explain *ex,
		     const struct timeline *tl, int i)
{
	int w = explain_step_str(&tl->steps[i], &ex->rules[i], true, *off < len ? buf + *off : NULL,
				 *off < len ? len - *off : 0);

	if (w > 0)
		*off += (size_t)w;
}

const char *explain_ifname(const struct explain *ex, const struct timeline *tl,
			   const struct tl_hdr *h, bool in)
{
	ptrdiff_t i = h - tl->hdrs;
	const char *name;

	if (i < 0 || i >= tl->n_hdrs)
		return NULL;
	name = in ? ex->iif[i] : ex->oif[i];
	return name[0] ? name : NULL;
}

const char *explain_hdr_hook(const struct timeline *tl, const struct explain *ex,
			     const struct tl_hdr *h)
{
	ptrdiff_t idx = h - tl->hdrs;

	if (idx < 0 || idx >= tl->n_hdrs)
		return NULL;
	if (h->own)
		return h->chain && !strncmp(h->chain, "trace_", 6) ? names_hook_static(h->chain + 6)
								   : NULL;
	for (int i = 0; i < tl->n_steps; i++)
		if (tl->steps[i].base == idx && ex->hooks[i])
			return ex->hooks[i];
	return NULL;
}

int explain_cause_str(const struct timeline *tl, const struct explain *ex, char *buf, size_t len)
{
	const struct tl_step *s;
	const char *family;
	const struct owner *owner = &ex->cause_owner;
	char words[512];
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	if (ex->sum.last_seen >= 0) {
		s = &tl->steps[ex->sum.last_seen];
		strbuf_add(
			buf, len, &off,
			"unknown: events were lost, and the packet may have gone on after the last one seen, ");
		strbuf_add(buf, len, &off, "%s by ", trace_verdict_name(s->verdict));
		put_step(buf, len, &off, ex, tl, ex->sum.last_seen);
		strbuf_add(buf, len, &off, " in %s %s %s", trace_family_name(s->family), s->table,
			   s->chain);
		if (ex->hooks[ex->sum.last_seen])
			strbuf_add(buf, len, &off, " at hook %s", ex->hooks[ex->sum.last_seen]);
		return (int)off;
	}
	if (ex->sum.only_own)
		return snprintf(
			buf, len,
			"accept: no base chain but nattraced's own saw the packet, nothing in the ruleset stopped it");
	if (ex->sum.cause < 0)
		return snprintf(buf, len, "unknown: the trace ends without a verdict");
	s = &tl->steps[ex->sum.cause];
	family = trace_family_name(s->family);
	strbuf_add(buf, len, &off, "%s by ", explain_verdict_kind(ex));
	put_step(buf, len, &off, ex, tl, ex->sum.cause);
	strbuf_add(buf, len, &off, " in %s %s %s", family, s->table, s->chain);
	/* who wrote it, in its terms: " (firewalld zone public)" */
	if (ex->has_cause_owner && owner->manager) {
		owner_str(owner, false, words, sizeof(words));
		strbuf_add(buf, len, &off, " (%s)", words);
	}
	if (ex->sum.n_path > 1)
		strbuf_add(buf, len, &off, ", reached from %s %s %s", family, s->table,
			   ex->sum.path[0]);
	if (ex->cause_hook)
		strbuf_add(buf, len, &off, " at hook %s", ex->cause_hook);
	for (unsigned int i = 0; i < ex->n_via; i++) {
		const struct tl_step *v = &tl->steps[ex->via[i]];

		strbuf_add(buf, len, &off, "%s %s %s", i ? " ->" : " via",
			   trace_verdict_name(v->verdict), v->target);
		if (v->has_handle)
			strbuf_add(buf, len, &off, " (handle %" PRIu64 ")", v->handle);
	}
	if (owner->iptables_nft)
		strbuf_add(
			buf, len, &off,
			"; table %s %s is managed by iptables-nft: `%s` shows the rule in iptables syntax",
			family, s->table, owner->iptables_cmd);
	if (ex->outside) {
		unsigned int left = (unsigned int)__builtin_popcount(ex->outside_expected);
		char why[VANISH_EVIDENCE_MAX + 64];

		/* at input (no listener) no hook is expected next */
		strbuf_add(buf, len, &off,
			   ex->outside_expected ? "; then the packet never reached " : "; then ");
		for (int h = 0; h < NF_INET_NUMHOOKS; h++) {
			if (!(ex->outside_expected & (1u << h)))
				continue;
			left--;
			strbuf_add(buf, len, &off, "%s%s", names_hook((unsigned int)h),
				   left > 1    ? ", "
				   : left == 1 ? " or "
					       : ": ");
		}
		vanish_cause_str(&ex->outside_why, why, sizeof(why));
		strbuf_add(buf, len, &off, "%s", why);
	}
	return (int)off;
}
