/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a finished timeline: the accessors that find a step's base chain
 * entry and mark change, the jump-stack walker (struct tl_walk) and the
 * summary (verdict, cause, path, NAT rewrites). Grouping (timeline.c)
 * builds a timeline; everything after it reads one through here.
 */
#include <stddef.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "timeline_read.h"

#define NONE (-1)

const char *timeline_verdict_name(enum timeline_verdict v)
{
	switch (v) {
	case TL_VERDICT_ACCEPT:
		return "accept";
	case TL_VERDICT_DROP:
		return "drop";
	case TL_VERDICT_QUEUE:
		return "queue";
	case TL_VERDICT_STOLEN:
		return "stolen";
	case TL_VERDICT_UNKNOWN:
		break;
	}
	return "unknown";
}

enum timeline_verdict timeline_verdict_of(int32_t v)
{
	if (v < 0)
		return TL_VERDICT_UNKNOWN;
	switch (v & NF_VERDICT_MASK) {
	case NF_ACCEPT:
		return TL_VERDICT_ACCEPT;
	case NF_DROP:
		return TL_VERDICT_DROP;
	case NF_QUEUE:
		return TL_VERDICT_QUEUE;
	case NF_STOLEN:
		return TL_VERDICT_STOLEN;
	}
	return TL_VERDICT_UNKNOWN;
}

bool timeline_step_is_chain_end(const struct tl_step *s)
{
	return s->type == TRACE_TYPE_RULE && !s->has_handle && s->has_verdict &&
	       s->verdict == NFT_CONTINUE;
}

bool timeline_entry_begins(const struct timeline *tl, int i)
{
	return i == 0 || tl->steps[i].base != tl->steps[i - 1].base ||
	       (tl->steps_dropped && i == tl->gap_at);
}

int timeline_entry_start(const struct timeline *tl, int i, bool *ret_whole)
{
	int8_t base = tl->steps[i].base;
	int j = i;

	while (!timeline_entry_begins(tl, j))
		j--;
	if (ret_whole)
		*ret_whole = base != NONE && tl->steps[j].hdr == base;
	return j;
}

int timeline_entry_next(const struct timeline *tl, int i)
{
	for (i++; i < tl->n_steps; i++)
		if (timeline_entry_begins(tl, i))
			return i;
	return tl->n_steps;
}

bool timeline_mark_change(const struct timeline *tl, int i, uint32_t *ret_from, bool *ret_known)
{
	const struct tl_step *s = &tl->steps[i];

	if (!s->mark_changed)
		return false;
	/* a header event's entry mark is the one before it; else the step before */
	*ret_known = true;
	if (s->hdr >= 0)
		*ret_from = tl->hdrs[s->hdr].mark;
	else if (i > 0 && !(tl->steps_dropped && i == tl->gap_at))
		*ret_from = tl->steps[i - 1].mark;
	else
		*ret_known = false;
	return true;
}

const struct tl_ct *timeline_first_ct(const struct timeline *tl)
{
	for (int h = 0; h < tl->n_hdrs; h++)
		if (tl->hdrs[h].ct.present)
			return &tl->hdrs[h].ct;
	return NULL;
}

const struct tl_hdr *timeline_entry_hdr(const struct timeline *tl, int i)
{
	int8_t base = tl->steps[i].base;

	return base >= 0 && base < tl->n_hdrs ? &tl->hdrs[base] : NULL;
}

bool timeline_step_leaves_chain(const struct tl_step *s)
{
	return s->type == TRACE_TYPE_RETURN || timeline_step_is_chain_end(s) ||
	       (s->has_verdict && s->verdict == NFT_RETURN);
}

/*
 * Replay the jump stack from the base chain's first event to the cause, so
 * the path reads "forward -> allowed_dnats" even when rules in between
 * jumped elsewhere and returned.
 */
void tl_walk_begin(struct tl_walk *w, const char *base_chain)
{
	w->st[0] = (struct tl_frame){ .chain = base_chain, .via = -1 };
	w->depth = 1;
}

void tl_walk_pop(struct tl_walk *w)
{
	while (w->depth > 1 && w->st[w->depth - 1].is_goto)
		w->depth--;
	if (w->depth > 1)
		w->depth--;
}

bool tl_walk_step(struct tl_walk *w, const struct tl_step *s, int i)
{
	if (timeline_step_leaves_chain(s)) {
		tl_walk_pop(w);
		return true;
	}
	if (!s->has_verdict || !s->target || (s->verdict != NFT_JUMP && s->verdict != NFT_GOTO))
		return true;
	if (w->depth >= TL_MAX_PATH)
		return false;
	w->st[w->depth++] = (struct tl_frame){
		.chain = s->target,
		.via = i,
		.is_goto = s->verdict == NFT_GOTO,
	};
	return true;
}

void tl_walk_sync(struct tl_walk *w, const char *chain)
{
	while (w->depth > 1 && w->st[w->depth - 1].chain != chain)
		w->depth--;
	if (w->st[w->depth - 1].chain != chain)
		tl_walk_begin(w, chain);
}

unsigned int tl_walk_path(const struct tl_walk *w, const char **ret)
{
	unsigned int n = 0;

	for (unsigned int k = 0; k < w->depth; k++)
		if (k == 0 || k + 1 == w->depth || !w->st[k + 1].is_goto)
			ret[n++] = w->st[k].chain;
	return n;
}

static void build_path(const struct timeline *tl, int cause, struct tl_summary *sum)
{
	const struct tl_hdr *entry = timeline_entry_hdr(tl, cause);
	struct tl_walk w;
	bool whole;
	int base = timeline_entry_start(tl, cause, &whole);

	tl_walk_begin(&w, entry ? entry->chain : tl->steps[base].chain);
	for (int i = base; whole && i < cause; i++)
		tl_walk_step(&w, &tl->steps[i], i);
	sum->n_path = tl_walk_path(&w, sum->path);
	/* Events missing in between: fall back to base and cause chain. */
	if (sum->path[sum->n_path - 1] != tl->steps[cause].chain) {
		sum->n_path = 1;
		if (tl->steps[cause].chain != sum->path[0])
			sum->path[sum->n_path++] = tl->steps[cause].chain;
	}
}

static bool same_addr(const struct packet_info *a, const struct packet_info *b, bool src)
{
	size_t len = a->l3 == 4 ? 4 : 16;

	if (src)
		return memcmp(a->saddr, b->saddr, len) == 0 && a->sport == b->sport;
	return memcmp(a->daddr, b->daddr, len) == 0 && a->dport == b->dport;
}

static int step_of_hdr(const struct timeline *tl, int hdr)
{
	for (int i = 0; i < tl->n_steps; i++)
		if (tl->steps[i].hdr == hdr)
			return i;
	return NONE;
}

static void find_nat(const struct timeline *tl, struct tl_summary *sum)
{
	const struct tl_hdr *prev = NULL;

	for (int h = 0; h < tl->n_hdrs; h++) {
		const struct tl_hdr *cur = &tl->hdrs[h];

		if (!cur->pkt_valid)
			continue;
		if (prev && prev->pkt.l3 == cur->pkt.l3) {
			for (int src = 0; src <= 1; src++) {
				struct tl_nat *n;

				if (same_addr(&prev->pkt, &cur->pkt, src) ||
				    sum->n_nat >= TL_MAX_NAT)
					continue;
				n = &sum->nat[sum->n_nat++];
				n->type = src ? TL_NAT_SNAT : TL_NAT_DNAT;
				n->before = prev->pkt;
				n->after = cur->pkt;
				n->step = step_of_hdr(tl, h);
			}
		}
		prev = cur;
	}
}

/*
 * Can more of this packet have come after its last event seen? Not after
 * a drop, queue or stolen; otherwise only if events were lost while it
 * was in flight (an overrun, eviction) or it was never seen to start.
 */
static bool end_may_be_missing(const struct timeline *tl)
{
	return tl->lossy || !tl->started;
}

void timeline_summarize(const struct timeline *tl, struct tl_summary *ret)
{
	struct tl_summary sum = { .cause = NONE, .last_seen = NONE };

	for (int h = 0; h < tl->n_hdrs && !sum.packet; h++)
		if (tl->hdrs[h].pkt_valid)
			sum.packet = &tl->hdrs[h];

	/*
	 * A base chain's last event is a rule with an absolute verdict or
	 * its policy, and a packet's last base chain decides its fate, when
	 * it is the last: an accept is final only if nothing can be missing
	 * after it.
	 */
	for (int i = tl->n_steps - 1; i >= 0; i--) {
		const struct tl_step *s = &tl->steps[i];
		enum timeline_verdict v;

		if (!s->has_verdict)
			continue;
		v = timeline_verdict_of(s->verdict);
		if (v == TL_VERDICT_UNKNOWN)
			break;
		if (!tl->ended && end_may_be_missing(tl)) {
			sum.last_seen = i;
			break;
		}
		sum.verdict = v;
		sum.cause = i;
		break;
	}
	if (tl->n_steps == 0 && tl->own_accepted && !end_may_be_missing(tl)) {
		sum.verdict = TL_VERDICT_ACCEPT;
		sum.only_own = true;
	}
	if (sum.cause != NONE)
		build_path(tl, sum.cause, &sum);
	find_nat(tl, &sum);
	*ret = sum;
}
