/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bounded receive queue: chunks handed between one producer and one
 * consumer under a mutex (rxqueue.h says how and why).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rxqueue.h"

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

struct rxrec_hdr {
	uint32_t len;
	uint16_t type;
	uint16_t pad;
};
_Static_assert(sizeof(struct rxrec_hdr) == RXQUEUE_REC_HDR, "record header size");

struct chunk {
	struct chunk *next;
	size_t used; /* bytes of records written */
	char data[] __attribute__((aligned(8)));
};

struct rxqueue {
	pthread_mutex_t lock;
	/* under lock */
	struct chunk *head, *tail; /* published, oldest first */
	struct chunk *spare;	   /* unused, kept for reuse */
	unsigned int n_spare;
	unsigned int n_chunks; /* mapped, whoever owns them */
	unsigned int peak_chunks;
	uint64_t records, dropped, overruns; /* mirrored at publish */
	bool losing;			     /* a loss marker is not yet published */
	bool owed;			     /* ... or a loss end: the producer must write it */
	/* producer only */
	struct chunk *wr;
	unsigned int pend_enobufs; /* markers not yet written, in this order: */
	unsigned int pend_overrun;
	bool pend_end;
	bool loss_open; /* a loss was reported, socket not yet empty */
	bool dropping;	/* the last datagram was dropped */
	bool pushed;	/* a chunk was published since rxqueue_pushed() */
	uint64_t p_records, p_dropped, p_overruns;
	/* consumer only */
	struct chunk *rd;
	size_t rd_off;
	/* constant */
	size_t chunk_bytes; /* mapping size */
	size_t cap;	    /* record bytes per chunk */
	unsigned int max_chunks;
	unsigned int max_spare;
};

int rxqueue_new(size_t limit, struct rxqueue **ret)
{
	struct rxqueue *q;

	if (limit < RXQUEUE_MIN_LIMIT)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	if (pthread_mutex_init(&q->lock, NULL) != 0) {
		free(q);
		return -ENOMEM;
	}
	q->chunk_bytes = limit / 4 < RXQUEUE_CHUNK ? (limit / 4) & ~(size_t)4095 : RXQUEUE_CHUNK;
	q->cap = q->chunk_bytes - offsetof(struct chunk, data);
	q->max_chunks = (unsigned int)(limit / q->chunk_bytes);
	q->max_spare = RXQUEUE_SPARE_BYTES / q->chunk_bytes;
	if (q->max_spare > q->max_chunks / 4)
		q->max_spare = q->max_chunks / 4;
	*ret = q;
	return 0;
}

static void chunk_unmap(struct rxqueue *q, struct chunk *c)
{
	munmap(c, q->chunk_bytes);
}

static void chunk_list_unmap(struct rxqueue *q, struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		chunk_unmap(q, c);
		c = next;
	}
}

struct rxqueue *rxqueue_free(struct rxqueue *q)
{
	if (!q)
		return NULL;
	chunk_list_unmap(q, q->head);
	chunk_list_unmap(q, q->spare);
	if (q->wr)
		chunk_unmap(q, q->wr);
	if (q->rd)
		chunk_unmap(q, q->rd);
	pthread_mutex_destroy(&q->lock);
	free(q);
	return NULL;
}

size_t rxqueue_max_datagram(const struct rxqueue *q)
{
	return q->cap - RXQUEUE_REC_HDR;
}

/* [producer] A chunk to fill: a spare one, or a new mapping within the limit. */
static struct chunk *chunk_new(struct rxqueue *q)
{
	struct chunk *c;
	bool counted = false;

	pthread_mutex_lock(&q->lock);
	if (q->spare) {
		c = q->spare;
		q->spare = c->next;
		q->n_spare--;
		pthread_mutex_unlock(&q->lock);
		goto out;
	}
	if (q->n_chunks < q->max_chunks) {
		/* counted before mapping, so the limit holds without the lock */
		q->n_chunks++;
		if (q->n_chunks > q->peak_chunks)
			q->peak_chunks = q->n_chunks;
		counted = true;
	}
	pthread_mutex_unlock(&q->lock);
	if (!counted)
		return NULL;
	/* populated: one system call instead of a page fault per page */
	c = mmap(NULL, q->chunk_bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (c == MAP_FAILED) {
		pthread_mutex_lock(&q->lock);
		q->n_chunks--;
		pthread_mutex_unlock(&q->lock);
		return NULL;
	}
out:
	c->next = NULL;
	c->used = 0;
	return c;
}

/* [consumer] A chunk that was read: keep a few, unmap the rest. */
static void chunk_put(struct rxqueue *q, struct chunk *c)
{
	pthread_mutex_lock(&q->lock);
	if (q->n_spare < q->max_spare) {
		c->next = q->spare;
		q->spare = c;
		q->n_spare++;
		c = NULL;
	} else {
		q->n_chunks--;
	}
	pthread_mutex_unlock(&q->lock);
	if (c)
		chunk_unmap(q, c);
}

/* [producer] Append the current chunk to the published list. */
static void push_current(struct rxqueue *q)
{
	struct chunk *c = q->wr;

	pthread_mutex_lock(&q->lock);
	if (c && c->used) {
		c->next = NULL;
		if (q->tail)
			q->tail->next = c;
		else
			q->head = c;
		q->tail = c;
		q->wr = NULL;
		q->pushed = true;
	}
	/* what was written went out with the chunk; what is owed is not */
	q->losing = q->pend_enobufs || q->pend_overrun;
	q->owed = q->losing || q->pend_end;
	q->records = q->p_records;
	q->dropped = q->p_dropped;
	q->overruns = q->p_overruns;
	pthread_mutex_unlock(&q->lock);
}

/* [producer] Room for one record of len bytes in q->wr, or false. */
static bool make_room(struct rxqueue *q, size_t len)
{
	size_t need = RXQUEUE_REC_HDR + ALIGN8(len);

	if (q->wr && q->wr->used + need <= q->cap)
		return true;
	if (q->wr)
		push_current(q);
	q->wr = chunk_new(q);
	return q->wr != NULL;
}

static bool write_rec(struct rxqueue *q, enum rxrec_type type, const void *data, size_t len)
{
	struct rxrec_hdr *h;

	if (!make_room(q, len))
		return false;
	h = (struct rxrec_hdr *)(q->wr->data + q->wr->used);
	*h = (struct rxrec_hdr){ .len = (uint32_t)len, .type = (uint16_t)type };
	if (len)
		memcpy(h + 1, data, len);
	q->wr->used += RXQUEUE_REC_HDR + ALIGN8(len);
	return true;
}

/* [producer] Write the markers owed, in order; false if they did not fit. */
static bool write_pending(struct rxqueue *q)
{
	for (; q->pend_enobufs; q->pend_enobufs--)
		if (!write_rec(q, RXREC_LOSS_ENOBUFS, NULL, 0))
			return false;
	for (; q->pend_overrun; q->pend_overrun--)
		if (!write_rec(q, RXREC_LOSS_OVERRUN, NULL, 0))
			return false;
	if (q->pend_end) {
		if (!write_rec(q, RXREC_LOSS_END, NULL, 0))
			return false;
		q->pend_end = false;
	}
	return true;
}

/*
 * A loss begins: it reopens the window, so an end still owed is void.
 * The consumer learns at once that a marker is on its way (rxqueue_losing).
 */
static void loss_begins(struct rxqueue *q)
{
	q->loss_open = true;
	q->pend_end = false;
	pthread_mutex_lock(&q->lock);
	q->losing = true;
	q->owed = true;
	pthread_mutex_unlock(&q->lock);
}

int rxqueue_put(struct rxqueue *q, enum rxrec_type type, const void *data, size_t len)
{
	if (len > rxqueue_max_datagram(q))
		len = rxqueue_max_datagram(q), type = RXREC_TRUNC;
	if (write_pending(q) && write_rec(q, type, data, len)) {
		q->dropping = false;
		q->p_records++;
		return 0;
	}
	if (!q->dropping) {
		q->dropping = true;
		q->pend_overrun++;
		q->p_overruns++;
		loss_begins(q);
	}
	/* each drop keeps the window open, once per run is enough to tell */
	q->loss_open = true;
	q->pend_end = false;
	q->p_dropped++;
	return -ENOBUFS;
}

void rxqueue_note_enobufs(struct rxqueue *q)
{
	q->pend_enobufs++;
	loss_begins(q);
	write_pending(q);
}

bool rxqueue_pushed(struct rxqueue *q)
{
	bool r = q->pushed;

	q->pushed = false;
	return r;
}

bool rxqueue_publish(struct rxqueue *q, bool socket_empty)
{
	if (socket_empty && q->loss_open) {
		q->loss_open = false;
		q->pend_end = true;
	}
	write_pending(q);
	push_current(q);
	return rxqueue_pushed(q);
}

const void *rxqueue_next(struct rxqueue *q, enum rxrec_type *ret_type, size_t *ret_len)
{
	for (;;) {
		struct chunk *done = NULL;

		if (q->rd && q->rd_off < q->rd->used) {
			const struct rxrec_hdr *h = (const void *)(q->rd->data + q->rd_off);

			q->rd_off += RXQUEUE_REC_HDR + ALIGN8(h->len);
			*ret_type = h->type;
			*ret_len = h->len;
			return h + 1;
		}
		done = q->rd;
		pthread_mutex_lock(&q->lock);
		q->rd = q->head;
		if (q->rd) {
			q->head = q->rd->next;
			if (!q->head)
				q->tail = NULL;
		}
		pthread_mutex_unlock(&q->lock);
		q->rd_off = 0;
		if (done)
			chunk_put(q, done);
		if (!q->rd)
			return NULL;
	}
}

bool rxqueue_losing(struct rxqueue *q)
{
	bool r;

	pthread_mutex_lock(&q->lock);
	r = q->losing;
	pthread_mutex_unlock(&q->lock);
	return r;
}

bool rxqueue_owed(struct rxqueue *q)
{
	bool r;

	pthread_mutex_lock(&q->lock);
	r = q->owed;
	pthread_mutex_unlock(&q->lock);
	return r;
}

void rxqueue_trim(struct rxqueue *q, size_t keep_bytes)
{
	unsigned int keep = (unsigned int)(keep_bytes / q->chunk_bytes);
	struct chunk *drop = NULL;

	pthread_mutex_lock(&q->lock);
	while (q->n_spare > keep) {
		struct chunk *c = q->spare;

		q->spare = c->next;
		q->n_spare--;
		q->n_chunks--;
		c->next = drop;
		drop = c;
	}
	pthread_mutex_unlock(&q->lock);
	chunk_list_unmap(q, drop);
}

void rxqueue_stats(struct rxqueue *q, struct rxqueue_stats *ret)
{
	pthread_mutex_lock(&q->lock);
	*ret = (struct rxqueue_stats){
		.records = q->records,
		.dropped = q->dropped,
		.overruns = q->overruns,
		.peak_bytes = (size_t)q->peak_chunks * q->chunk_bytes,
	};
	pthread_mutex_unlock(&q->lock);
}
