/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_RXTHREAD_H
#define NATTRACED_RXTHREAD_H

/*
 * The receive thread: it only drains a netlink socket (recvmmsg, as
 * nlsock_recv_batch() does) into a bounded rxqueue, so that a burst waits
 * in user space, where the queue's bound is ours, rather than in the
 * socket buffer, where the kernel charges about 1 KiB per trace message
 * and drops what does not fit. The main loop is the one consumer.
 *
 * Threads: this thread (the queue's producer) and the caller's (the
 * consumer). Records go through the queue (rxqueue.h: chunks handed over
 * under its mutex). Control goes through a mutex of our own (stop, sync
 * requests, the error) and two eventfds: wake_fd wakes this thread for a
 * stop or a sync; rxthread_fd() becomes readable for the consumer when
 * records were published or a sync was answered. The thread blocks every
 * signal: they stay with the main loop's signalfd.
 *
 * Wakeups are coalesced: after a receive that found anything (but less
 * than a burst), the thread sleeps RXTHREAD_COALESCE_MS before it reads
 * again (the socket buffer
 * holds far more than that many milliseconds of any stream), so a steady
 * stream costs about 1000 / RXTHREAD_COALESCE_MS wakeups a second on each
 * side instead of one per packet. The consumer is also woken whenever a
 * chunk of the queue fills up, so a burst is processed as it arrives.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nlsock.h"
#include "rxqueue.h"

#define RXTHREAD_COALESCE_MS 10
/* The thread's nice value, where it may raise its priority (root). */
#define RXTHREAD_NICE	     -10
/* Idle this long, the queue gives back its spare memory beyond 1 MiB. */
#define RXTHREAD_TRIM_MS     1000
#define RXTHREAD_TRIM_KEEP   (1u << 20)
/* A read of this many datagrams is a burst: read on without the pause. */
#define RXTHREAD_BURST	     1024
/* Datagrams read before the queue is published, under a flood. */
#define RXTHREAD_DRAIN_MAX   65536

struct rxthread;

/*
 * Start reading sock (which the thread then owns for reading; the caller
 * keeps it open until rxthread_free()) into a queue of limit bytes.
 * Returns 0 or -errno.
 */
int rxthread_start(struct nlsock *sock, size_t limit, struct rxthread **ret);
/* Readable when there is something to read; read it with rxthread_ack(). */
int rxthread_fd(const struct rxthread *t);
/* Clear rxthread_fd()'s readiness (after poll() said so). */
void rxthread_ack(struct rxthread *t);

/*
 * The next record, as rxqueue_next(). Found empty while a loss marker is
 * owed (rxqueue_owed()), it wakes the thread to write it.
 */
const void *rxthread_next(struct rxthread *t, enum rxrec_type *ret_type, size_t *ret_len);

/* As rxqueue_losing(). */
bool rxthread_losing(struct rxthread *t);

/*
 * Ask the thread to read what the socket holds now (at most
 * RXTHREAD_DRAIN_MAX datagrams) and publish it. Returns a ticket;
 * rxthread_synced() is true once that was done (rxthread_fd() becomes
 * readable then). For exact statistics: read the counter, sync, consume.
 */
uint64_t rxthread_sync(struct rxthread *t);
bool rxthread_synced(struct rxthread *t, uint64_t ticket);

/* A receive error other than ENOBUFS ended the thread: -errno, else 0. */
int rxthread_error(struct rxthread *t);

/*
 * Stop and join the thread. Afterwards the caller is the only thread:
 * consume what is left, call rxthread_flush() (loss markers that did not
 * fit while the queue was full), and consume again.
 */
void rxthread_stop(struct rxthread *t);
void rxthread_flush(struct rxthread *t);

void rxthread_stats(struct rxthread *t, struct rxqueue_stats *ret);
/* Stops the thread if needed; does not close the socket. */
struct rxthread *rxthread_free(struct rxthread *t);

#endif
