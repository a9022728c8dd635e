/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_RXQUEUE_H
#define NATTRACED_RXQUEUE_H

/*
 * A bounded FIFO of received netlink datagrams and loss markers, between
 * one producer (the receive thread, rxthread.c) and one consumer (the
 * main loop). It lets the receive thread drain the kernel's socket buffer
 * at the kernel's pace while timelines are grouped, explained and written
 * at theirs: a burst waits here instead of overrunning the socket.
 *
 * Synchronisation: memory moves between the two sides in chunks, and a
 * chunk has exactly one owner at a time. The producer fills its current
 * chunk without a lock; rxqueue_publish() (or a full chunk) appends it to
 * the published list under the mutex; the consumer takes the oldest
 * published chunk under the mutex, reads it without a lock and gives it
 * back (to the spare list or the system) under the mutex when it moves
 * on. The mutex is the only synchronisation and it orders every hand-over,
 * so the bytes of a chunk written before its publication are visible to
 * the consumer that takes it. It is taken once per chunk, not per
 * datagram. Functions are marked [producer] or [consumer]: each must only
 * be called by its side (a single thread may play both, as the tests do).
 *
 * Memory: at most limit bytes of chunks exist at once (published, being
 * filled, being read, spare). Chunks are mapped when a burst needs them
 * and unmapped when it has been read (a few spares are kept), so the
 * resident size falls back once a burst is written out.
 *
 * Losses: a datagram that finds the queue full is dropped. The producer
 * side records each loss (a queue overrun, or an ENOBUFS the socket
 * reported) as a marker in the stream, at the place where the gap is, and
 * the end of the loss window where the socket was next found empty; the
 * consumer sees them in order with the datagrams (see timeline.h,
 * timeline_loss_begin()).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rxrec_type {
	RXREC_DGRAM = 1,    /* a datagram as the kernel sent it */
	RXREC_TRUNC,	    /* a datagram longer than the receive buffer (cut) */
	RXREC_LOSS_ENOBUFS, /* the socket overran: messages before this were lost */
	RXREC_LOSS_OVERRUN, /* this queue overran: datagrams here were dropped */
	RXREC_LOSS_END,	    /* the socket was found empty after a loss */
};

/* Chunks are this large, or limit / 4 for a small limit. */
#define RXQUEUE_CHUNK	    (256u * 1024)
#define RXQUEUE_MIN_LIMIT   (64u * 1024)
/*
 * Chunks kept for reuse: 16 MiB (at most a quarter of the limit). A queue
 * that swings within this range maps and unmaps nothing: a new mapping
 * costs a page fault per 4 KiB, an unmapping a TLB shootdown on every
 * CPU the threads run on, both paid by the receive thread mid-burst.
 */
#define RXQUEUE_SPARE_BYTES (16u << 20)
/* Per record: a header, the datagram rounded up to 8 bytes. */
#define RXQUEUE_REC_HDR	    8u

struct rxqueue;

struct rxqueue_stats {
	uint64_t records;  /* datagrams stored */
	uint64_t dropped;  /* datagrams dropped, queue full */
	uint64_t overruns; /* runs of drops (each a gap) */
	size_t peak_bytes; /* most chunk memory mapped at once */
};

/*
 * A queue of at most limit bytes (at least RXQUEUE_MIN_LIMIT). Returns 0,
 * -EINVAL or -ENOMEM. No memory is mapped until the first datagram.
 */
int rxqueue_new(size_t limit, struct rxqueue **ret);
struct rxqueue *rxqueue_free(struct rxqueue *q);
/* The largest datagram a record holds. */
size_t rxqueue_max_datagram(const struct rxqueue *q);

/*
 * [producer] Store one datagram (RXREC_DGRAM or RXREC_TRUNC, len bytes,
 * at most rxqueue_max_datagram()). Returns 0, or -ENOBUFS when the queue
 * is full: the datagram is dropped, counted, and a RXREC_LOSS_OVERRUN
 * marker goes in front of the next datagram that fits.
 */
int rxqueue_put(struct rxqueue *q, enum rxrec_type type, const void *data, size_t len);
/* [producer] The socket reported ENOBUFS: a RXREC_LOSS_ENOBUFS marker. */
void rxqueue_note_enobufs(struct rxqueue *q);
/*
 * [producer] Publish what was stored. With socket_empty (the socket was
 * just found empty), a loss window still open is closed (RXREC_LOSS_END)
 * first. Returns true if anything new became visible to the consumer
 * since the last rxqueue_publish() or rxqueue_pushed().
 */
bool rxqueue_publish(struct rxqueue *q, bool socket_empty);
/*
 * [producer] Whether a chunk became visible (it filled up during
 * rxqueue_put()) since the last call: time to wake the consumer.
 */
bool rxqueue_pushed(struct rxqueue *q);

/*
 * [consumer] The next record in order: its payload (valid until the next
 * call), type and length; NULL when nothing published is left to read.
 */
const void *rxqueue_next(struct rxqueue *q, enum rxrec_type *ret_type, size_t *ret_len);
/*
 * [consumer] A loss happened whose marker is not published yet (the queue
 * is full, or the marker waits in the chunk being filled). Timelines in
 * flight may have lost events: none may end as idle until the marker has
 * been read.
 */
bool rxqueue_losing(struct rxqueue *q);

/*
 * [consumer] A loss marker or a loss end is owed and not yet published.
 * Only the producer writes markers, and it writes them when it next runs:
 * a consumer that found the queue empty (room again) while one is owed
 * must wake it (rxthread_next() does), or the marker waits for the next
 * datagram, and timelines in flight cannot end meanwhile.
 */
bool rxqueue_owed(struct rxqueue *q);

/*
 * [producer] Unmap the spare chunks beyond keep_bytes: after a burst, once
 * the stream has been idle a while, so the resident size falls back.
 */
void rxqueue_trim(struct rxqueue *q, size_t keep_bytes);

/* A snapshot of the counters (either side; takes the mutex). */
void rxqueue_stats(struct rxqueue *q, struct rxqueue_stats *ret);

#endif
