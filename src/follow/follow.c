/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The connections --follow traces, as the daemon counts them.
 *
 * Every connection gets the same time limit, so the order they started in
 * is the order their limits pass: one list, oldest first, holds every
 * slot in use and serves both as the expiry queue and for follow_flush().
 * A connection closed early waits the same grace as every other closed
 * one for its record: a second list, in the order they closed. One that
 * ended at its packet bound keeps its slot after its record, until its
 * time limit (lingering): its element stays in the kernel's set until
 * then, so that a connection still new cannot be added again, and the
 * slots in use stay the set's. Lookup by conntrack id goes through a
 * chained hash over a fixed array of max entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "follow.h"

#define NONE (-1)

/* TCP header flag bits (byte 13). */
#define TCP_FIN 0x01
#define TCP_RST 0x04

struct follow_table {
	struct follow_config cfg;
	struct follow_conn *slots;
	int32_t *buckets;
	uint32_t bucket_mask;
	int32_t free_head;
	int32_t head, tail;   /* every slot in use, oldest first */
	int32_t chead, ctail; /* closing, first closed first (cprev, cnext) */
	unsigned int count;
	unsigned int kept;
	size_t text_total;
	uint32_t ended[FOLLOW_ENDED_RING];
	unsigned int n_ended, ended_at;
	struct follow_stats stats;
};

static uint32_t bucket_of(const struct follow_table *t, uint32_t id)
{
	return (id * 2654435761u) & t->bucket_mask;
}

int follow_table_new(const struct follow_config *cfg, struct follow_table **ret)
{
	struct follow_table *t;
	uint32_t nbuckets = 16;

	if (!cfg || !ret || cfg->max == 0 || cfg->max > (1u << 24) || cfg->packets == 0)
		return -EINVAL;
	while (nbuckets < 2 * cfg->max)
		nbuckets <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	t->slots = calloc(cfg->max, sizeof(*t->slots));
	t->buckets = malloc(nbuckets * sizeof(*t->buckets));
	if (!t->slots || !t->buckets) {
		follow_table_free(t);
		return -ENOMEM;
	}
	t->bucket_mask = nbuckets - 1;
	for (uint32_t i = 0; i < nbuckets; i++)
		t->buckets[i] = NONE;
	for (unsigned int i = 0; i < cfg->max; i++)
		t->slots[i].next = i + 1 < cfg->max ? (int32_t)i + 1 : NONE;
	t->free_head = 0;
	t->head = t->tail = t->chead = t->ctail = NONE;
	*ret = t;
	return 0;
}

struct follow_table *follow_table_free(struct follow_table *t)
{
	if (!t)
		return NULL;
	if (t->slots)
		for (unsigned int i = 0; i < t->cfg.max; i++) {
			free(t->slots[i].text);
			free(t->slots[i].text_ends);
		}
	free(t->slots);
	free(t->buckets);
	free(t);
	return NULL;
}

struct follow_conn *follow_find(struct follow_table *t, uint32_t ct_id)
{
	for (int32_t i = t->buckets[bucket_of(t, ct_id)]; i != NONE; i = t->slots[i].hnext)
		if (t->slots[i].ct_id == ct_id)
			return &t->slots[i];
	return NULL;
}

void follow_refuse(struct follow_table *t, uint32_t ct_id)
{
	t->ended[t->ended_at] = ct_id;
	t->ended_at = (t->ended_at + 1) % FOLLOW_ENDED_RING;
	if (t->n_ended < FOLLOW_ENDED_RING)
		t->n_ended++;
}

bool follow_ended_recently(const struct follow_table *t, uint32_t ct_id)
{
	for (unsigned int i = 0; i < t->n_ended; i++)
		if (t->ended[i] == ct_id)
			return true;
	return false;
}

void follow_missed(struct follow_table *t, uint32_t ct_id)
{
	if (follow_ended_recently(t, ct_id) || follow_find(t, ct_id))
		return;
	t->stats.full++;
	follow_refuse(t, ct_id);
}

struct follow_conn *follow_start(struct follow_table *t, uint32_t ct_id, uint64_t now_ns)
{
	struct follow_conn *c;
	uint32_t b;
	int32_t i;

	if (follow_find(t, ct_id))
		return NULL;
	if (t->free_head == NONE) {
		t->stats.full++;
		return NULL;
	}
	i = t->free_head;
	c = &t->slots[i];
	t->free_head = c->next;
	memset(c, 0, sizeof(*c));
	c->ct_id = ct_id;
	c->start_ns = now_ns;
	c->deadline_ns = now_ns + t->cfg.timeout_ns;
	c->in_use = true;
	b = bucket_of(t, ct_id);
	c->hnext = t->buckets[b];
	t->buckets[b] = i;
	c->cprev = c->cnext = NONE;
	c->prev = t->tail;
	c->next = NONE;
	if (t->tail != NONE)
		t->slots[t->tail].next = i;
	else
		t->head = i;
	t->tail = i;
	t->count++;
	t->stats.followed++;
	return c;
}

static void unlink_main(struct follow_table *t, struct follow_conn *c)
{
	if (c->prev != NONE)
		t->slots[c->prev].next = c->next;
	else
		t->head = c->next;
	if (c->next != NONE)
		t->slots[c->next].prev = c->prev;
	else
		t->tail = c->prev;
}

static void unlink_closing(struct follow_table *t, struct follow_conn *c)
{
	if (c->cprev != NONE)
		t->slots[c->cprev].cnext = c->cnext;
	else
		t->chead = c->cnext;
	if (c->cnext != NONE)
		t->slots[c->cnext].cprev = c->cprev;
	else
		t->ctail = c->cprev;
}

void follow_close(struct follow_table *t, struct follow_conn *c, enum follow_end why,
		  uint64_t at_ns)
{
	int32_t i = (int32_t)(c - t->slots);

	if (c->closing || c->lingering)
		return;
	c->closing = true;
	c->close_why = why;
	c->close_ns = at_ns;
	c->cprev = t->ctail;
	c->cnext = NONE;
	if (t->ctail != NONE)
		t->slots[t->ctail].cnext = i;
	else
		t->chead = i;
	t->ctail = i;
}

bool follow_packet(struct follow_table *t, struct follow_conn *c, enum follow_dir dir,
		   uint8_t tcp_flags)
{
	c->packets++;
	t->stats.packets++;
	if (dir == FOLLOW_DIR_REPLY)
		c->replies++;
	if (tcp_flags & TCP_RST)
		c->rst = true;
	if (tcp_flags & TCP_FIN) {
		if (dir == FOLLOW_DIR_REPLY)
			c->fin_reply = true;
		else
			c->fin_original = true;
	}
	/* closing already: a packet that was in flight, counted, nothing more */
	return !c->closing &&
	       (c->packets >= t->cfg.packets || c->rst || (c->fin_original && c->fin_reply));
}

int follow_keep_text(struct follow_table *t, struct follow_conn *c, const char *text, size_t len)
{
	size_t *ends;
	char *p;

	if (c->text_len + len > FOLLOW_TEXT_MAX || t->text_total + len > FOLLOW_TEXT_TOTAL) {
		c->text_overflow = true;
		return -ENOSPC;
	}
	ends = realloc(c->text_ends, (c->n_kept + 1) * sizeof(*ends));
	if (!ends) {
		c->text_overflow = true;
		return -ENOSPC;
	}
	c->text_ends = ends;
	p = realloc(c->text, c->text_len + len);
	if (!p) {
		c->text_overflow = true;
		return -ENOSPC;
	}
	memcpy(p + c->text_len, text, len);
	c->text = p;
	c->text_len += len;
	c->text_ends[c->n_kept++] = c->text_len;
	t->text_total += len;
	t->kept++;
	return 0;
}

/* Give the slot back. */
static void release(struct follow_table *t, struct follow_conn *c)
{
	int32_t i = (int32_t)(c - t->slots);

	unlink_main(t, c);
	c->lingering = false;
	c->in_use = false;
	c->next = t->free_head;
	t->free_head = i;
	t->count--;
}

/*
 * The connection's record: end() is called, it is no longer found, its
 * text is freed. With linger, its slot stays until its time limit.
 */
static void retire(struct follow_table *t, struct follow_conn *c, enum follow_end why, bool linger,
		   follow_end_fn end, void *ctx)
{
	int32_t i = (int32_t)(c - t->slots);
	int32_t *pp;

	if (!follow_reply_seen(c))
		t->stats.no_reply++;
	if (end)
		end(ctx, c, why);
	follow_refuse(t, c->ct_id);
	for (pp = &t->buckets[bucket_of(t, c->ct_id)]; *pp != NONE; pp = &t->slots[*pp].hnext)
		if (*pp == i) {
			*pp = c->hnext;
			break;
		}
	if (c->closing)
		unlink_closing(t, c);
	c->closing = false;
	t->text_total -= c->text_len;
	t->kept -= c->n_kept;
	free(c->text);
	free(c->text_ends);
	c->text = NULL;
	c->text_ends = NULL;
	c->text_len = 0;
	c->n_kept = 0;
	if (linger)
		c->lingering = true;
	else
		release(t, c);
}

void follow_end(struct follow_table *t, struct follow_conn *c, enum follow_end why,
		follow_end_fn end, void *ctx)
{
	retire(t, c, why, false, end, ctx);
}

void follow_expire(struct follow_table *t, uint64_t now_ns, follow_end_fn end, void *ctx)
{
	struct follow_conn *c;

	/* at its packet bound the kernel traces no more, but keeps its element */
	while (t->chead != NONE && (c = &t->slots[t->chead])->close_ns <= now_ns)
		retire(t, c, c->close_why,
		       c->close_why == FOLLOW_END_PACKETS && c->deadline_ns > now_ns, end, ctx);
	while (t->head != NONE && (c = &t->slots[t->head])->deadline_ns <= now_ns) {
		if (c->lingering)
			release(t, c);
		else
			/* closed, its grace not over: the kernel traced nothing since its limit */
			retire(t, c, c->closing ? c->close_why : FOLLOW_END_TIMEOUT, false, end,
			       ctx);
	}
}

void follow_flush(struct follow_table *t, follow_end_fn end, void *ctx)
{
	struct follow_conn *c;

	while (t->chead != NONE)
		retire(t, &t->slots[t->chead], t->slots[t->chead].close_why, false, end, ctx);
	while (t->head != NONE) {
		c = &t->slots[t->head];
		if (c->lingering)
			release(t, c);
		else
			retire(t, c, FOLLOW_END_FLUSH, false, end, ctx);
	}
}

int64_t follow_next_expiry(const struct follow_table *t, uint64_t now_ns)
{
	uint64_t due = UINT64_MAX;

	if (t->head != NONE)
		due = t->slots[t->head].deadline_ns;
	if (t->chead != NONE && t->slots[t->chead].close_ns < due)
		due = t->slots[t->chead].close_ns;
	if (due == UINT64_MAX)
		return -1;
	return due > now_ns ? (int64_t)(due - now_ns) : 0;
}

unsigned int follow_count(const struct follow_table *t)
{
	return t->count;
}

unsigned int follow_kept(const struct follow_table *t)
{
	return t->kept;
}

const struct follow_stats *follow_stats(const struct follow_table *t)
{
	return &t->stats;
}

enum follow_end follow_done_reason(const struct follow_conn *c)
{
	return c->rst || (c->fin_original && c->fin_reply) ? FOLLOW_END_CLOSED : FOLLOW_END_PACKETS;
}

bool follow_reply_seen(const struct follow_conn *c)
{
	return c->replies > 0;
}

const char *follow_end_name(enum follow_end why)
{
	switch (why) {
	case FOLLOW_END_TIMEOUT:
		return "timeout";
	case FOLLOW_END_PACKETS:
		return "packets";
	case FOLLOW_END_CLOSED:
		return "closed";
	case FOLLOW_END_FLUSH:
		return "stopped";
	}
	return "?";
}

const char *follow_dir_name(enum follow_dir dir)
{
	return dir == FOLLOW_DIR_REPLY ? "reply" : "original";
}

bool follow_kernel_ok(int probe, bool release_sends_ct)
{
	/* the kernel's own answer wins; its release speaks only without one */
	return probe > 0 || (probe < 0 && release_sends_ct);
}
