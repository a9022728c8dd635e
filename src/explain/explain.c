/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Explaining a timeline: what the rules did and why the packet ended where
 * it did. The edge: the one place that asks the resolver, once per
 * timeline; explain_text.c renders what is found here.
 *
 * Rules that did not match send no trace event. In a chain the packet
 * passed, the rules between two of its events (or before the first, or
 * after the last up to the chain's end) are the ones that did not match.
 *
 * Here: the entry point (explain_timeline()), the path to the cause and
 * the accepts; NAT is explain_nat.c, a packet lost outside the ruleset
 * explain_outside.c, set membership hints explain_hints.c.
 */
#include <stdio.h>
#include <string.h>

#include <linux/netfilter.h>

#include "explain.h"
#include "explain_int.h"
#include "names.h"
#include "ruletext.h"

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

/* ---- putting it together ---- */

/* Everything the renderers name: rule texts and interfaces. */
static void resolve_names(const struct timeline *tl, const struct resolver *r, struct explain *ex)
{
	for (int i = 0; i < tl->n_steps; i++) {
		const struct tl_step *s = &tl->steps[i];

		ex->rules[i] = (struct explain_rule){};
		if (s->has_handle && r && r->rule)
			ex->rules[i].text = r->rule(r->ctx, s->family, s->table, s->chain,
						    s->handle, &ex->rules[i].deleted);
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
	explain_find_nat(tl, r, ret);
	explain_find_outside(tl, r, ret);
	ret->n_hints = 0;
	ret->hints_dropped = 0;
	ret->queries = 0;
	/* Membership costs a netlink round trip: only where a packet died. */
	if (ret->sum.cause >= 0 && ret->sum.verdict == TL_VERDICT_DROP)
		explain_find_hints(tl, r, ret);
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
