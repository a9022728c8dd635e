/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An accepted packet whose timeline ends before its last hook (explain.c's
 * part): lost outside the ruleset, or gone where no chain sees it, and the
 * kernel's word on why (vanish.h).
 */
#include <string.h>

#include <linux/netfilter.h>

#include "explain.h"
#include "explain_int.h"
#include "names.h"
#include "ruletext.h"

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
	i = explain_find_nat_rule(tl, ex, timeline_entry_start(tl, tl->n_steps - 1, NULL),
				  tl->n_steps, false, &kind);
	if (i != NONE && explain_nat_rule_kind(rule_text(ex, i), false, &kind, t, &nt, &at)) {
		while (++at < (int)nt && !ruletext_is(&t[at], "to"))
			;
		if (at + 1 < (int)nt)
			explain_parse_nat_target(&t[at + 1], &n);
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

void explain_find_outside(const struct timeline *tl, const struct resolver *r, struct explain *ex)
{
	ex->outside = false;
	ex->after_ruleset = false;
	ex->asked_kernel = false;
	ex->outside_after = NULL;
	ex->outside_expected = 0;
	memset(&ex->outside_why, 0, sizeof(ex->outside_why));
	find_outside(tl, r, ex);
}
