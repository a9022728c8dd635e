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
 *
 * Whose packet: our trace rule's own event (a rule event in our table)
 * marks a packet we selected. Every other tracer's packets reach the same
 * multicast group (another nattraced, a user's `meta nftrace set 1`); a
 * timeline that never gets our rule's event is counted as foreign and not
 * emitted, unless events were lost and its start may be among them.
 *
 * One packet can come under several trace ids: timeline_join.c joins a
 * new id to its packet. Reading a finished timeline is timeline_read.c.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <net/if_arp.h>
#include <linux/netfilter.h>

#include "timeline.h"
#include "timeline_int.h"

static uint32_t id_bucket(const struct timeline_table *t, uint32_t id)
{
	/* Trace ids are already hashes; mix anyway against poor low bits. */
	return (id * 2654435761u) & t->bucket_mask;
}

int timeline_table_new(const struct timeline_config *cfg, struct timeline_table **ret)
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
	r = strpool_new(STRPOOL_MAX, &t->pools[0]);
	if (r == 0)
		r = strpool_new(STRPOOL_MAX, &t->pools[1]);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	t->slots = calloc(cfg->max_inflight, sizeof(*t->slots));
	t->buckets = malloc(nbuckets * sizeof(*t->buckets));
	t->fp_buckets = malloc(nbuckets * sizeof(*t->fp_buckets));
	if (!t->slots || !t->buckets || !t->fp_buckets)
		goto fail;
	t->own_table = strdup(cfg->own_table ? cfg->own_table : "");
	t->cfg.own_table = NULL; /* the caller's string may not live on */
	if (!t->own_table)
		goto fail;
	t->bucket_mask = nbuckets - 1;
	for (uint32_t i = 0; i < nbuckets; i++)
		t->buckets[i] = t->fp_buckets[i] = NONE;
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
	strpool_free(t->pools[0]);
	strpool_free(t->pools[1]);
	free(t->own_table);
	free(t->slots);
	free(t->buckets);
	free(t->fp_buckets);
	free(t);
	return NULL;
}

static int32_t lookup(const struct timeline_table *t, uint32_t id)
{
	int32_t i = t->buckets[id_bucket(t, id)];

	while (i != NONE && t->slots[i].tl.id != id)
		i = t->slots[i].hnext;
	return i;
}

static void hash_unlink(struct timeline_table *t, int32_t i)
{
	struct timeline *tl = &t->slots[i].tl;
	int32_t *pp = &t->buckets[id_bucket(t, tl->id)];

	while (*pp != i)
		pp = &t->slots[*pp].hnext;
	*pp = slot_of(tl)->hnext;
}

static void hash_link(struct timeline_table *t, int32_t i)
{
	struct timeline *tl = &t->slots[i].tl;
	uint32_t b = id_bucket(t, tl->id);

	slot_of(tl)->hnext = t->buckets[b];
	t->buckets[b] = i;
}

/* Known from now on by id as well. */
static void add_id(struct timeline_table *t, int32_t i, uint32_t id)
{
	struct timeline *tl = &t->slots[i].tl;

	hash_unlink(t, i);
	tl->id = id;
	hash_link(t, i);
	if (tl->n_ids < TIMELINE_MAX_IDS)
		tl->ids[tl->n_ids++] = id;
	else
		tl->ids_dropped++;
	t->stats.joined++;
}

/* ---- slots ---- */

static void lru_unlink(struct timeline_table *t, int32_t i)
{
	struct timeline *tl = &t->slots[i].tl;

	if (slot_of(tl)->prev != NONE)
		t->slots[slot_of(tl)->prev].next = slot_of(tl)->next;
	else
		t->lru_head = slot_of(tl)->next;
	if (slot_of(tl)->next != NONE)
		t->slots[slot_of(tl)->next].prev = slot_of(tl)->prev;
	else
		t->lru_tail = slot_of(tl)->prev;
}

static void lru_append(struct timeline_table *t, int32_t i)
{
	struct timeline *tl = &t->slots[i].tl;

	slot_of(tl)->prev = t->lru_tail;
	slot_of(tl)->next = NONE;
	if (t->lru_tail != NONE)
		t->slots[t->lru_tail].next = i;
	else
		t->lru_head = i;
	t->lru_tail = i;
}

static void release(struct timeline_table *t, int32_t i)
{
	struct timeline *tl = &t->slots[i].tl;

	hash_unlink(t, i);
	tl_fp_unlink(t, i);
	lru_unlink(t, i);
	t->live[slot_of(tl)->pool]--;
	slot_of(tl)->in_use = false;
	slot_of(tl)->next = t->free_head;
	t->free_head = i;
	t->inflight--;
}

/* In place: the last events were written round a ring; put them in order. */
static void reverse(struct tl_step *s, unsigned int a, unsigned int b)
{
	while (a + 1 < b) {
		struct tl_step tmp = s[a];

		s[a++] = s[--b];
		s[b] = tmp;
	}
}

static unsigned int kept_head(const struct timeline_table *t)
{
	return t->cfg.max_steps / 2;
}

static void linearize(struct timeline_table *t, struct timeline *tl)
{
	unsigned int head = kept_head(t), max = t->cfg.max_steps;
	unsigned int k = slot_of(tl)->ring % (max - head);

	if (!tl->steps_dropped)
		return;
	/* rotate steps[head, max) left by k */
	reverse(tl->steps, head, head + k);
	reverse(tl->steps, head + k, max);
	reverse(tl->steps, head, max);
	tl->gap_at = (uint16_t)head;
}

static void emit(struct timeline_table *t, int32_t i, enum timeline_end why)
{
	struct timeline *tl = &t->slots[i].tl;

	if (why == TL_END_EVICTED)
		tl->lossy = true;
	linearize(t, tl);
	if (!tl->ended && t->last_unjoined_ns && t->last_unjoined_ns >= tl->last_ns)
		tl->unjoined_after = true;
	if (!tl->started && !tl->lossy) {
		/* never selected by our rule: another tracer's packet */
		t->stats.foreign++;
		release(t, i);
		return;
	}
	t->stats.timelines++;
	if (!timeline_complete(tl))
		t->stats.incomplete++;
	t->cfg.emit(t->cfg.emit_ctx, tl, why);
	release(t, i);
}

static int32_t create(struct timeline_table *t, uint32_t id, uint64_t now_ns)
{
	struct timeline *tl;
	int32_t i;

	if (t->free_head == NONE) {
		t->stats.evicted++;
		emit(t, t->lru_head, TL_END_EVICTED);
	}
	i = t->free_head;
	tl = &t->slots[i].tl;
	t->free_head = slot_of(tl)->next;
	/* Only the fields before the arrays need clearing; arrays are counted. */
	memset(tl, 0, offsetof(struct timeline, hdrs));
	tl->id = id;
	tl->ids[0] = id;
	tl->n_ids = 1;
	slot_of(tl)->cur_base = NONE;
	/* the last events go round the ring from its start: see linearize() */
	slot_of(tl)->ring = 0;
	slot_of(tl)->seen = false;
	tl->first_ns = tl->last_ns = now_ns;
	tl->seq = t->seq++;
	slot_of(tl)->in_use = true;
	slot_of(tl)->pool = t->cur;
	t->live[t->cur]++;
	hash_link(t, i);
	lru_append(t, i);
	t->inflight++;
	return i;
}

/* The current pool is full: start a new one if the older is unused. */
static void rotate_pools(struct timeline_table *t)
{
	uint8_t other = t->cur ^ 1;

	if (t->live[other])
		return;
	strpool_reset(t->pools[other]);
	t->cur = other;
}

static const char *intern(struct timeline_table *t, struct timeline *tl, const char *s)
{
	const char *p;

	if (!s)
		return NULL;
	p = strpool_intern(t->pools[slot_of(tl)->pool], s);
	if (!p) {
		/* this one keeps its pool; later timelines get a fresh one */
		if (slot_of(tl)->pool == t->cur)
			rotate_pools(t);
		t->stats.names_dropped++;
		tl->names_lost = true;
		return "?";
	}
	return p;
}

/* Steps that name a header slot about to be reused lose their link. */
static void forget_hdr(struct timeline *tl, int h)
{
	for (unsigned int i = 0; i < tl->n_steps; i++) {
		if (tl->steps[i].hdr == h)
			tl->steps[i].hdr = NONE;
		if (tl->steps[i].base == h)
			tl->steps[i].base = NONE;
	}
}

/*
 * The packet's mark as the kernel reported it with an event: it sends the
 * mark as it is after the event's rule ran, and only when it is not 0.
 */
static uint32_t event_mark(const struct trace_event *ev)
{
	return ev->present & TRACE_HAS_MARK ? ev->mark : 0;
}

/*
 * The mark before this event: as the packet's previous event reported
 * it. The first event of a packet is our trace rule's, which changes no
 * mark, so its own mark is the mark on arrival.
 */
static uint32_t mark_before(const struct timeline *tl, const struct trace_event *ev)
{
	return slot_of(tl)->seen ? slot_of(tl)->last_mark : event_mark(ev);
}

static uint8_t cut_len(const uint8_t *p, uint16_t len, uint16_t max)
{
	return p ? (uint8_t)(len < max ? len : max) : 0;
}

/* The bytes themselves, for --pcap: the kernel's bounds are the arrays'. */
static void copy_raw(struct tl_hdr *h, const struct trace_event *ev)
{
	h->iiftype = ev->present & TRACE_HAS_IIFTYPE ? ev->iiftype : 0;
	h->ll_len = cut_len(ev->ll, ev->ll_len, TRACE_LL_MAX);
	h->nh_len = cut_len(ev->nh, ev->nh_len, TRACE_NH_MAX);
	h->th_len = cut_len(ev->th, ev->th_len, TRACE_TH_MAX);
	/* a header the event lacks is NULL with length 0: memcpy may not see it */
	if (h->ll_len)
		memcpy(h->raw, ev->ll, h->ll_len);
	if (h->nh_len)
		memcpy(h->raw + h->ll_len, ev->nh, h->nh_len);
	if (h->th_len)
		memcpy(h->raw + h->ll_len + h->nh_len, ev->th, h->th_len);
}

static int add_hdr(struct timeline_table *t, struct timeline *tl, const struct trace_event *ev,
		   const char *table, const char *chain, bool own)
{
	struct tl_hdr *h;
	int at = tl->n_hdrs;

	if (tl->n_hdrs >= TIMELINE_MAX_HDRS) {
		/* keep the first ones and the latest: the verdict's chain */
		at = TIMELINE_MAX_HDRS - 1;
		forget_hdr(tl, at);
		tl->hdrs_dropped++;
		t->stats.hdrs_dropped++;
	}
	h = &tl->hdrs[at];
	memset(h, 0, sizeof(*h));
	h->table = table;
	h->chain = chain;
	h->family = ev->family;
	h->own = own;
	h->pkt_valid = packet_parse(ev->nh, ev->nh_len, ev->th, ev->th_len, &h->pkt) == 0;
	h->iif = ev->iif;
	h->oif = ev->oif;
	/* on entry: the chain's first event may be the rule that set it */
	h->mark = mark_before(tl, ev);
	h->oiftype = ev->oiftype;
	h->present = ev->present & (TRACE_HAS_IIF | TRACE_HAS_OIF | TRACE_HAS_OIFTYPE);
	if (h->mark)
		h->present |= TRACE_HAS_MARK;
	h->ct.present = ev->present & (TRACE_HAS_CT_ID | TRACE_HAS_CT_DIRECTION |
				       TRACE_HAS_CT_STATUS | TRACE_HAS_CT_STATE);
	h->ct.id = ev->ct_id;
	h->ct.direction = ev->ct_direction;
	h->ct.status = ev->ct_status;
	h->ct.state = ev->ct_state;
	copy_raw(h, ev);
	if (at == tl->n_hdrs)
		tl->n_hdrs++;
	return at;
}

static void add_step(struct timeline_table *t, struct timeline *tl, const struct trace_event *ev,
		     const char *table, const char *chain, int hdr)
{
	unsigned int max = t->cfg.max_steps, head = kept_head(t);
	struct tl_step *s;

	if (tl->n_steps < max) {
		s = &tl->steps[tl->n_steps++];
	} else {
		/* full: the last events go round a ring after the first half */
		s = &tl->steps[head + slot_of(tl)->ring % (max - head)];
		slot_of(tl)->ring++;
		tl->steps_dropped++;
		t->stats.steps_dropped++;
	}
	s->table = table;
	s->chain = chain;
	s->target = ev->present & TRACE_HAS_TARGET ? intern(t, tl, ev->target) : NULL;
	s->handle = ev->handle;
	s->has_handle = ev->present & TRACE_HAS_HANDLE;
	s->type = (uint8_t)ev->type;
	s->family = ev->family;
	s->hdr = (int8_t)hdr;
	s->base = slot_of(tl)->cur_base;
	s->mark = event_mark(ev);
	s->mark_changed = s->mark != mark_before(tl, ev);
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

static bool accepts(const struct trace_event *ev)
{
	if (ev->type == TRACE_TYPE_POLICY)
		return (ev->present & TRACE_HAS_POLICY) && ev->policy == NF_ACCEPT;
	return (ev->present & TRACE_HAS_VERDICT) && ev->verdict == NF_ACCEPT;
}

/* nat chains see it: a new connection not yet confirmed, or not known. */
static bool first_packet(const struct tl_hdr *h)
{
	if (!(h->ct.present & TRACE_HAS_CT_STATE))
		return true;
	return (h->ct.state & TRACE_CT_STATE_NEW) &&
	       !((h->ct.present & TRACE_HAS_CT_STATUS) && (h->ct.status & TRACE_CT_CONFIRMED));
}

/*
 * An accept in the packet's last base chain: nothing of it can follow. A
 * packet leaving through loopback comes back under a new id, so it waits.
 */
static bool accepted_for_good(const struct timeline_table *t, const struct timeline *tl)
{
	const struct tl_hdr *h;

	if (!t->cfg.final_accept || slot_of(tl)->cur_base < 0 || !tl->started)
		return false;
	h = &tl->hdrs[slot_of(tl)->cur_base];
	if ((h->present & TRACE_HAS_OIFTYPE) && h->oiftype == ARPHRD_LOOPBACK)
		return false;
	return t->cfg.final_accept(t->cfg.final_ctx, h->family, h->table, h->chain,
				   first_packet(h));
}

/* The timeline this event belongs to, new or continued. */
static int32_t timeline_of(struct timeline_table *t, const struct trace_event *ev, bool selects,
			   uint64_t now_ns)
{
	bool headers = ev->present & TRACE_HAS_NH;
	struct packet_info pkt;
	int32_t i = lookup(t, ev->id);

	if (i != NONE && headers && ev->table && ev->chain &&
	    tl_entered(&t->slots[i].tl, ev->family, ev->table, ev->chain)) {
		/* The same base chain again: this id now names a new packet. */
		emit(t, i, TL_END_REUSED);
		i = NONE;
	}
	if (i != NONE)
		return i;
	/*
	 * Also for our own rule: with several --hooks it selects the packet
	 * again after its id changed (unless nftrace was already set).
	 */
	if (headers && ev->table && ev->chain &&
	    packet_parse(ev->nh, ev->nh_len, ev->th, ev->th_len, &pkt) == 0) {
		i = tl_find_continued(t, &pkt, ev->family, ev->table, ev->chain);
		if (i != NONE) {
			add_id(t, i, ev->id);
			return i;
		}
		if (!selects)
			t->last_unjoined_ns = now_ns;
	}
	return create(t, ev->id, now_ns);
}

void timeline_add(struct timeline_table *t, const struct trace_event *ev, uint64_t now_ns)
{
	bool own = ev->family == t->cfg.own_family && ev->table &&
		   strcmp(ev->table, t->own_table) == 0;
	bool headers = ev->present & TRACE_HAS_NH;
	/*
	 * Our trace rule matched: it set nftrace, the packet is ours. (The
	 * end of our chain is a rule event too, without a handle.)
	 */
	bool selects = own && ev->type == TRACE_TYPE_RULE && (ev->present & TRACE_HAS_HANDLE);
	const char *table, *chain;
	struct timeline *tl;
	int32_t i;
	int hdr = NONE;

	t->stats.events++;
	if (own)
		t->stats.own_events++;

	i = timeline_of(t, ev, selects, now_ns);
	tl = &t->slots[i].tl;
	table = intern(t, tl, ev->table);
	chain = intern(t, tl, ev->chain);
	if (selects && tl->started)
		t->stats.reselected++;
	else if (selects)
		tl->started = true;
	if (selects && tl->n_sel < TIMELINE_MAX_SEL)
		tl->sel_handles[tl->n_sel++] = ev->handle;
	tl->last_ns = now_ns;
	if (t->loss_window)
		tl->lossy = true;
	lru_unlink(t, i);
	lru_append(t, i);
	if (ev->present & TRACE_HAS_NFPROTO)
		tl->nfproto = (uint8_t)ev->nfproto;

	if (headers) {
		hdr = add_hdr(t, tl, ev, table, chain, own);
		if (!own)
			slot_of(tl)->cur_base = (int8_t)hdr;
		if (tl->started && tl->hdrs[hdr].pkt_valid)
			tl_fp_update(t, i, &tl->hdrs[hdr].pkt);
	}
	/* Our own chain's events are bookkeeping: they do not become steps. */
	if (!own)
		add_step(t, tl, ev, table, chain, hdr);
	else if (ev->type == TRACE_TYPE_POLICY && (ev->present & TRACE_HAS_POLICY) &&
		 ev->policy == NF_ACCEPT)
		tl->own_accepted = true;
	slot_of(tl)->last_mark = event_mark(ev);
	slot_of(tl)->seen = true;

	if ((ev->present & TRACE_HAS_VERDICT) && trace_verdict_is_final(ev->verdict)) {
		tl->ended = true;
		emit(t, i, TL_END_VERDICT);
	} else if (ev->type == TRACE_TYPE_POLICY && (ev->present & TRACE_HAS_POLICY) &&
		   trace_verdict_is_final((int32_t)ev->policy)) {
		tl->ended = true;
		emit(t, i, TL_END_VERDICT);
	} else if (!own && accepts(ev) && accepted_for_good(t, tl)) {
		tl->ended = true;
		emit(t, i, TL_END_ACCEPTED);
	}
}

void timeline_expire(struct timeline_table *t, uint64_t now_ns)
{
	while (t->lru_head != NONE && t->slots[t->lru_head].tl.last_ns + t->cfg.idle_ns <= now_ns)
		emit(t, t->lru_head, TL_END_IDLE);
}

int64_t timeline_next_expiry(const struct timeline_table *t, uint64_t now_ns)
{
	uint64_t due;

	if (t->lru_head == NONE)
		return -1;
	due = t->slots[t->lru_head].tl.last_ns + t->cfg.idle_ns;
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
		t->slots[i].tl.lossy = true;
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
	return tl->started && !tl->lossy && !tl->names_lost && tl->steps_dropped == 0 &&
	       tl->hdrs_dropped == 0;
}
