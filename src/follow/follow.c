/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The connections --follow traces, as the daemon counts them.
 *
 * Every connection gets the same time limit, so the order they started in
 * is the order their limits pass: one list, oldest first, serves both as
 * the expiry queue and for follow_flush(). A connection closed early
 * waits the same grace as every other closed one: a second list, in the
 * order they closed. Lookup by conntrack id goes through a chained hash
 * over a fixed array of max entries.
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
	int32_t head, tail;   /* oldest first */
	int32_t chead, ctail; /* closing, first closed first */
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

static void unlink_conn(struct follow_table *t, struct follow_conn *c)
{
	int32_t *head = c->closing ? &t->chead : &t->head;
	int32_t *tail = c->closing ? &t->ctail : &t->tail;

	if (c->prev != NONE)
		t->slots[c->prev].next = c->next;
	else
		*head = c->next;
	if (c->next != NONE)
		t->slots[c->next].prev = c->prev;
	else
		*tail = c->prev;
}

void follow_close(struct follow_table *t, struct follow_conn *c, enum follow_end why,
		  uint64_t at_ns)
{
	int32_t i = (int32_t)(c - t->slots);

	if (c->closing)
		return;
	unlink_conn(t, c);
	c->closing = true;
	c->close_why = why;
	c->deadline_ns = at_ns;
	c->prev = t->ctail;
	c->next = NONE;
	if (t->ctail != NONE)
		t->slots[t->ctail].next = i;
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

void follow_end(struct follow_table *t, struct follow_conn *c, enum follow_end why,
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
	unlink_conn(t, c);
	t->text_total -= c->text_len;
	t->kept -= c->n_kept;
	free(c->text);
	free(c->text_ends);
	c->text = NULL;
	c->text_ends = NULL;
	c->text_len = 0;
	c->n_kept = 0;
	c->closing = false;
	c->in_use = false;
	c->next = t->free_head;
	t->free_head = i;
	t->count--;
}

void follow_expire(struct follow_table *t, uint64_t now_ns, follow_end_fn end, void *ctx)
{
	while (t->chead != NONE && t->slots[t->chead].deadline_ns <= now_ns)
		follow_end(t, &t->slots[t->chead], t->slots[t->chead].close_why, end, ctx);
	while (t->head != NONE && t->slots[t->head].deadline_ns <= now_ns)
		follow_end(t, &t->slots[t->head], FOLLOW_END_TIMEOUT, end, ctx);
}

void follow_flush(struct follow_table *t, follow_end_fn end, void *ctx)
{
	while (t->chead != NONE)
		follow_end(t, &t->slots[t->chead], t->slots[t->chead].close_why, end, ctx);
	while (t->head != NONE)
		follow_end(t, &t->slots[t->head], FOLLOW_END_FLUSH, end, ctx);
}

int64_t follow_next_expiry(const struct follow_table *t, uint64_t now_ns)
{
	uint64_t due = UINT64_MAX;

	if (t->head != NONE)
		due = t->slots[t->head].deadline_ns;
	if (t->chead != NONE && t->slots[t->chead].deadline_ns < due)
		due = t->slots[t->chead].deadline_ns;
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
