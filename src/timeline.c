/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Grouping trace events into one timeline per packet.
 *
 * The kernel's trace id is a hash of the skb pointer, skb hash and input
 * interface: stable across the hooks of one packet, but reused by later
 * packets, and events of two CPUs interleave. What tells packets apart:
 *  - headers come only with the first event of each base chain, and one
 *    packet enters each base chain at most once, so headers for a base
 *    chain this timeline already entered start a new packet;
 *  - our own trace chain (priority -350) is the first base chain every
 *    traced packet enters, so its header event starts a timeline;
 *  - drop, stolen and queue are the last event of a packet.
 * Everything else ends on idle. Storage is preallocated: adding an event
 * allocates nothing, apart from the first copy of a new table/chain name.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "timeline.h"

#define NONE	(-1)

struct timeline_table {
	struct timeline_config cfg;
	struct strpool *names;
	const char *own_table;		/* interned */
	struct timeline *slots;
	int32_t *buckets;
	uint32_t bucket_mask;
	int32_t free_head;
	/* least recently active first */
	int32_t lru_head, lru_tail;
	unsigned int inflight;
	uint32_t seq;
	bool loss_window;	/* between an overrun report and an empty socket */
	struct timeline_stats stats;
};

static uint32_t id_bucket(const struct timeline_table *t, uint32_t id)
{
	/* Trace ids are already hashes; mix anyway against poor low bits. */
	return (id * 2654435761u) & t->bucket_mask;
}

int timeline_table_new(const struct timeline_config *cfg,
		       struct timeline_table **ret)
{
	struct timeline_table *t;
	uint32_t nbuckets = 16;
	int r = -ENOMEM;

	if (!cfg->emit || cfg->max_inflight == 0 || cfg->max_inflight > INT32_MAX / 4 ||
	    cfg->max_steps > TIMELINE_STEPS_CEILING)
		return -EINVAL;
	while (nbuckets < 2 * cfg->max_inflight)
		nbuckets <<= 1;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	if (t->cfg.idle_ns == 0)
		t->cfg.idle_ns = TIMELINE_IDLE_NS;
	if (t->cfg.max_steps == 0)
		t->cfg.max_steps = TIMELINE_MAX_STEPS;
	r = strpool_new(STRPOOL_MAX, &t->names);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	t->slots = calloc(cfg->max_inflight, sizeof(*t->slots));
	t->buckets = malloc(nbuckets * sizeof(*t->buckets));
	if (!t->slots || !t->buckets)
		goto fail;
	t->own_table = strpool_intern(t->names, cfg->own_table ? cfg->own_table : "");
	t->cfg.own_table = NULL;	/* the caller's string may not live on */
	t->bucket_mask = nbuckets - 1;
	for (uint32_t i = 0; i < nbuckets; i++)
		t->buckets[i] = NONE;
	for (unsigned int i = 0; i < cfg->max_inflight; i++)
		t->slots[i].next = i + 1 < cfg->max_inflight ? (int32_t)i + 1 : NONE;
	t->free_head = 0;
	t->lru_head = t->lru_tail = NONE;
	*ret = t;
	return 0;
fail:
	timeline_table_free(t);
	return r;
}

struct timeline_table *timeline_table_free(struct timeline_table *t)
{
	if (!t)
		return NULL;
	strpool_free(t->names);
	free(t->slots);
	free(t->buckets);
	free(t);
	return NULL;
}

static int32_t lookup(const struct timeline_table *t, uint32_t id)
{
	int32_t i = t->buckets[id_bucket(t, id)];

	while (i != NONE && t->slots[i].id != id)
		i = t->slots[i].hnext;
	return i;
}

static void lru_unlink(struct timeline_table *t, int32_t i)
{
	struct timeline *tl = &t->slots[i];

	if (tl->prev != NONE)
		t->slots[tl->prev].next = tl->next;
	else
		t->lru_head = tl->next;
	if (tl->next != NONE)
		t->slots[tl->next].prev = tl->prev;
	else
		t->lru_tail = tl->prev;
}

static void lru_append(struct timeline_table *t, int32_t i)
{
	struct timeline *tl = &t->slots[i];

	tl->prev = t->lru_tail;
	tl->next = NONE;
	if (t->lru_tail != NONE)
		t->slots[t->lru_tail].next = i;
	else
		t->lru_head = i;
	t->lru_tail = i;
}

static void release(struct timeline_table *t, int32_t i)
{
	struct timeline *tl = &t->slots[i];
	int32_t *pp = &t->buckets[id_bucket(t, tl->id)];

	while (*pp != i)
		pp = &t->slots[*pp].hnext;
	*pp = tl->hnext;
	lru_unlink(t, i);
	tl->in_use = false;
	tl->next = t->free_head;
	t->free_head = i;
	t->inflight--;
}

static void emit(struct timeline_table *t, int32_t i, enum timeline_end why)
{
	struct timeline *tl = &t->slots[i];

	if (why == TL_END_EVICTED)
		tl->lossy = true;
	t->stats.timelines++;
	if (!timeline_complete(tl))
		t->stats.incomplete++;
	t->cfg.emit(t->cfg.emit_ctx, tl, why);
	release(t, i);
}

static int32_t create(struct timeline_table *t, uint32_t id, uint64_t now_ns)
{
	struct timeline *tl;
	uint32_t b;
	int32_t i;

	if (t->free_head == NONE) {
		t->stats.evicted++;
		emit(t, t->lru_head, TL_END_EVICTED);
	}
	i = t->free_head;
	tl = &t->slots[i];
	t->free_head = tl->next;
	/* Only the header of the slot needs clearing; arrays are counted. */
	memset(tl, 0, offsetof(struct timeline, steps));
	tl->id = id;
	tl->first_ns = tl->last_ns = now_ns;
	tl->seq = t->seq++;
	tl->in_use = true;
	b = id_bucket(t, id);
	tl->hnext = t->buckets[b];
	t->buckets[b] = i;
	lru_append(t, i);
	t->inflight++;
	return i;
}

static const char *intern(struct timeline_table *t, const char *s)
{
	const char *p;

	if (!s)
		return NULL;
	p = strpool_intern(t->names, s);
	if (!p) {
		t->stats.names_dropped++;
		return "?";
	}
	return p;
}

static bool entered(const struct timeline *tl, uint8_t family,
		    const char *table, const char *chain)
{
	for (unsigned int i = 0; i < tl->n_hdrs; i++)
		if (tl->hdrs[i].chain == chain && tl->hdrs[i].table == table &&
		    tl->hdrs[i].family == family)
			return true;
	return false;
}

static int add_hdr(struct timeline *tl, const struct trace_event *ev,
		   const char *table, const char *chain, bool own)
{
	struct tl_hdr *h;

	if (tl->n_hdrs >= TIMELINE_MAX_HDRS) {
		tl->hdrs_dropped++;
		return NONE;
	}
	h = &tl->hdrs[tl->n_hdrs];
	memset(h, 0, sizeof(*h));
	h->table = table;
	h->chain = chain;
	h->family = ev->family;
	h->own = own;
	h->pkt_valid = packet_parse(ev->nh, ev->nh_len, ev->th, ev->th_len,
				    &h->pkt) == 0;
	h->iif = ev->iif;
	h->oif = ev->oif;
	h->mark = ev->mark;
	h->present = ev->present & (TRACE_HAS_IIF | TRACE_HAS_OIF | TRACE_HAS_MARK);
	h->ct.present = ev->present & (TRACE_HAS_CT_ID | TRACE_HAS_CT_DIRECTION |
				       TRACE_HAS_CT_STATUS | TRACE_HAS_CT_STATE);
	h->ct.id = ev->ct_id;
	h->ct.direction = ev->ct_direction;
	h->ct.status = ev->ct_status;
	h->ct.state = ev->ct_state;
	return tl->n_hdrs++;
}

static void add_step(struct timeline_table *t, struct timeline *tl,
		     const struct trace_event *ev, const char *table,
		     const char *chain, int hdr)
{
	struct tl_step *s;

	if (tl->n_steps >= t->cfg.max_steps) {
		tl->steps_dropped++;
		tl->lossy = true;
		t->stats.steps_dropped++;
		return;
	}
	s = &tl->steps[tl->n_steps++];
	s->table = table;
	s->chain = chain;
	s->target = ev->present & TRACE_HAS_TARGET ? intern(t, ev->target) : NULL;
	s->handle = ev->handle;
	s->has_handle = ev->present & TRACE_HAS_HANDLE;
	s->type = (uint8_t)ev->type;
	s->family = ev->family;
	s->hdr = (int8_t)hdr;
	/* A policy event names the policy, not a verdict: make it one. */
	if (ev->present & TRACE_HAS_VERDICT) {
		s->verdict = ev->verdict;
		s->has_verdict = true;
	} else if (ev->type == TRACE_TYPE_POLICY && (ev->present & TRACE_HAS_POLICY)) {
		s->verdict = (int32_t)ev->policy;
		s->has_verdict = true;
	} else {
		s->has_verdict = false;
	}
}

void timeline_add(struct timeline_table *t, const struct trace_event *ev,
		  uint64_t now_ns)
{
	const char *table = intern(t, ev->table);
	const char *chain = intern(t, ev->chain);
	bool own = table == t->own_table && ev->family == t->cfg.own_family;
	bool headers = ev->present & TRACE_HAS_NH;
	struct timeline *tl;
	int32_t i;
	int hdr = NONE;

	t->stats.events++;
	if (own)
		t->stats.own_events++;

	i = lookup(t, ev->id);
	if (i != NONE && headers &&
	    entered(&t->slots[i], ev->family, table, chain)) {
		/* The same base chain again: this id now names a new packet. */
		emit(t, i, TL_END_REUSED);
		i = NONE;
	}
	if (i == NONE) {
		i = create(t, ev->id, now_ns);
		/* Without our chain's header event the start was missed. */
		t->slots[i].started = own && headers;
	}
	tl = &t->slots[i];
	tl->last_ns = now_ns;
	if (t->loss_window)
		tl->lossy = true;
	lru_unlink(t, i);
	lru_append(t, i);
	if (ev->present & TRACE_HAS_NFPROTO)
		tl->nfproto = (uint8_t)ev->nfproto;

	if (headers)
		hdr = add_hdr(tl, ev, table, chain, own);
	/* Our own chain's events are bookkeeping: they do not become steps. */
	if (!own)
		add_step(t, tl, ev, table, chain, hdr);

	if ((ev->present & TRACE_HAS_VERDICT) && trace_verdict_is_final(ev->verdict)) {
		tl->ended = true;
		emit(t, i, TL_END_VERDICT);
	} else if (ev->type == TRACE_TYPE_POLICY && (ev->present & TRACE_HAS_POLICY) &&
		   trace_verdict_is_final((int32_t)ev->policy)) {
		tl->ended = true;
		emit(t, i, TL_END_VERDICT);
	}
}

void timeline_expire(struct timeline_table *t, uint64_t now_ns)
{
	while (t->lru_head != NONE &&
	       t->slots[t->lru_head].last_ns + t->cfg.idle_ns <= now_ns)
		emit(t, t->lru_head, TL_END_IDLE);
}

int64_t timeline_next_expiry(const struct timeline_table *t, uint64_t now_ns)
{
	uint64_t due;

	if (t->lru_head == NONE)
		return -1;
	due = t->slots[t->lru_head].last_ns + t->cfg.idle_ns;
	return due > now_ns ? (int64_t)(due - now_ns) : 0;
}

void timeline_flush(struct timeline_table *t)
{
	/* Oldest first, so output stays in the order packets were seen. */
	while (t->lru_head != NONE)
		emit(t, t->lru_head, TL_END_FLUSH);
}

void timeline_mark_lossy(struct timeline_table *t)
{
	for (int32_t i = t->lru_head; i != NONE; i = t->slots[i].next)
		t->slots[i].lossy = true;
}

void timeline_loss_begin(struct timeline_table *t)
{
	timeline_mark_lossy(t);
	t->loss_window = true;
}

void timeline_loss_end(struct timeline_table *t)
{
	if (!t->loss_window)
		return;
	/* a packet whose last events were lost is still waiting for them */
	timeline_mark_lossy(t);
	t->loss_window = false;
}

unsigned int timeline_inflight(const struct timeline_table *t)
{
	return t->inflight;
}

const struct timeline_stats *timeline_stats(const struct timeline_table *t)
{
	return &t->stats;
}

bool timeline_complete(const struct timeline *tl)
{
	return tl->started && !tl->lossy && tl->steps_dropped == 0 &&
	       tl->hdrs_dropped == 0;
}

const char *timeline_verdict_name(enum timeline_verdict v)
{
	switch (v) {
	case TL_VERDICT_ACCEPT:	return "accept";
	case TL_VERDICT_DROP:	return "drop";
	case TL_VERDICT_QUEUE:	return "queue";
	case TL_VERDICT_STOLEN:	return "stolen";
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
	case NF_ACCEPT:	return TL_VERDICT_ACCEPT;
	case NF_DROP:	return TL_VERDICT_DROP;
	case NF_QUEUE:	return TL_VERDICT_QUEUE;
	case NF_STOLEN:	return TL_VERDICT_STOLEN;
	}
	return TL_VERDICT_UNKNOWN;
}

bool timeline_step_is_chain_end(const struct tl_step *s)
{
	return s->type == TRACE_TYPE_RULE && !s->has_handle && s->has_verdict &&
	       s->verdict == NFT_CONTINUE;
}

static bool leaves_chain(const struct tl_step *s)
{
	return s->type == TRACE_TYPE_RETURN || timeline_step_is_chain_end(s) ||
	       (s->has_verdict && s->verdict == NFT_RETURN);
}

/*
 * Replay the jump stack from the base chain's first event to the cause, so
 * the path reads "forward -> allowed_dnats" even when rules in between
 * jumped elsewhere and returned.
 */
static void build_path(const struct timeline *tl, int cause,
		       struct tl_summary *sum)
{
	const char *stack[TL_MAX_PATH];
	unsigned int depth = 0;
	int base = cause;

	while (base > 0 && tl->steps[base].hdr == NONE)
		base--;
	stack[depth++] = tl->steps[base].chain;
	for (int i = base; i < cause; i++) {
		const struct tl_step *s = &tl->steps[i];

		if (leaves_chain(s)) {
			if (depth > 1)
				depth--;
		} else if (s->has_verdict && s->target && s->verdict == NFT_JUMP) {
			if (depth < TL_MAX_PATH)
				stack[depth++] = s->target;
		} else if (s->has_verdict && s->target && s->verdict == NFT_GOTO) {
			/* goto replaces the caller, except the base chain */
			if (depth > 1)
				stack[depth - 1] = s->target;
			else if (depth < TL_MAX_PATH)
				stack[depth++] = s->target;
		}
	}
	/* Events missing in between: fall back to base and cause chain. */
	if (stack[depth - 1] != tl->steps[cause].chain) {
		depth = 1;
		if (tl->steps[cause].chain != stack[0])
			stack[depth++] = tl->steps[cause].chain;
	}
	memcpy(sum->path, stack, depth * sizeof(stack[0]));
	sum->n_path = depth;
}

static bool same_addr(const struct packet_info *a, const struct packet_info *b,
		      bool src)
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

void timeline_summarize(const struct timeline *tl, struct tl_summary *ret)
{
	struct tl_summary sum = { .cause = NONE };

	for (int h = 0; h < tl->n_hdrs && !sum.packet; h++)
		if (tl->hdrs[h].pkt_valid)
			sum.packet = &tl->hdrs[h];

	/*
	 * A base chain's last event is a rule with an absolute verdict or
	 * its policy, and a packet's last base chain decides its fate.
	 */
	for (int i = tl->n_steps - 1; i >= 0; i--) {
		const struct tl_step *s = &tl->steps[i];
		enum timeline_verdict v;

		if (!s->has_verdict)
			continue;
		v = timeline_verdict_of(s->verdict);
		if (v != TL_VERDICT_UNKNOWN) {
			sum.verdict = v;
			sum.cause = i;
		}
		break;
	}
	if (sum.cause != NONE)
		build_path(tl, sum.cause, &sum);
	find_nat(tl, &sum);
	*ret = sum;
}
