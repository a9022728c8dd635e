/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receive thread (rxthread.h): recvmmsg into the bounded queue,
 * nothing else.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rxthread.h"

struct rxthread {
	struct nlsock *sock;
	struct rxqueue *q;
	struct nlsock_batch *batch; /* thread only */
	pthread_t tid;
	bool started, joined;
	int wake_fd;  /* consumer -> thread: stop, sync */
	int ready_fd; /* thread -> consumer: published */
	pthread_mutex_t lock;
	/* under lock */
	bool stop;
	uint64_t sync_req, sync_done;
	int error;
};

static void signal_fd(int fd)
{
	uint64_t one = 1;

	/* An eventfd write fails only when the counter would overflow. */
	(void)!write(fd, &one, sizeof(one));
}

static void clear_fd(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

/*
 * Read until the socket is empty (returns 1), the bound is reached
 * (returns 0) or an error other than ENOBUFS (-errno). *ret_got counts the
 * datagrams read.
 */
static int drain(struct rxthread *t, unsigned int *ret_got)
{
	struct nlsock_batch *b = t->batch;
	unsigned int got = 0;

	while (got < RXTHREAD_DRAIN_MAX) {
		int n = nlsock_recv_batch(t->sock, b);

		if (n == -EAGAIN) {
			*ret_got = got;
			return 1;
		}
		if (n == -EINTR)
			continue;
		if (n == -ENOBUFS) {
			rxqueue_note_enobufs(t->q);
			continue;
		}
		if (n < 0) {
			*ret_got = got;
			return n;
		}
		for (unsigned int k = 0; k < b->n; k++) {
			if (b->len[k] < 0)
				rxqueue_put(t->q, RXREC_TRUNC, NULL, 0);
			else
				rxqueue_put(t->q, RXREC_DGRAM, b->buf[k], (size_t)b->len[k]);
		}
		got += b->n;
		/* a chunk filled up: the consumer can start on it now */
		if (rxqueue_pushed(t->q))
			signal_fd(t->ready_fd);
	}
	*ret_got = got;
	return 0;
}

static void *rx_main(void *arg)
{
	struct rxthread *t = arg;
	uint64_t answered = 0;
	bool trimmed = true;

	/*
	 * Reading must win over everything else the host runs during a
	 * burst, processing included: a higher priority for this thread
	 * only, best effort (it needs CAP_SYS_NICE, which the service does
	 * not have; its seccomp filter answers EPERM).
	 */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), RXTHREAD_NICE);

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = t->wake_fd, .events = POLLIN },
			{ .fd = nlsock_fd(t->sock), .events = POLLIN },
		};
		unsigned int got = 0;
		uint64_t req;
		bool stop;
		int r = drain(t, &got);

		if (r < 0) {
			rxqueue_publish(t->q, false);
			pthread_mutex_lock(&t->lock);
			t->error = r;
			pthread_mutex_unlock(&t->lock);
			signal_fd(t->ready_fd);
			break;
		}
		if (rxqueue_publish(t->q, r == 1))
			signal_fd(t->ready_fd);
		pthread_mutex_lock(&t->lock);
		req = t->sync_req;
		stop = t->stop;
		if (req != answered)
			t->sync_done = req;
		pthread_mutex_unlock(&t->lock);
		if (req != answered) {
			answered = req;
			signal_fd(t->ready_fd);
		}
		if (stop)
			break;
		if (r == 0 || got >= RXTHREAD_BURST)
			continue; /* a flood or a burst: read on */
		/*
		 * Something came: let more gather before the next read, so a
		 * steady stream is read in batches (a stop or sync cuts the
		 * pause short). Nothing came: wait for the socket.
		 */
		if (got) {
			trimmed = false;
			r = poll(pfd, 1, RXTHREAD_COALESCE_MS);
		} else {
			/* idle after a burst: give memory back, then wait */
			r = poll(pfd, 2, trimmed ? -1 : RXTHREAD_TRIM_MS);
			if (r == 0) {
				rxqueue_trim(t->q, RXTHREAD_TRIM_KEEP);
				trimmed = true;
			}
		}
		if (r > 0 && (pfd[0].revents & POLLIN))
			clear_fd(t->wake_fd);
	}
	return NULL;
}

int rxthread_start(struct nlsock *sock, size_t limit, struct rxthread **ret)
{
	struct rxthread *t;
	sigset_t all, old;
	int r;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->sock = sock;
	t->wake_fd = t->ready_fd = -1;
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t);
		return -ENOMEM;
	}
	r = rxqueue_new(limit, &t->q);
	if (r < 0)
		goto fail;
	t->batch = malloc(sizeof(*t->batch));
	t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	t->ready_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!t->batch || t->wake_fd < 0 || t->ready_fd < 0) {
		r = t->batch ? -errno : -ENOMEM;
		goto fail;
	}
	/* Signals stay with the main loop's signalfd: block them all here. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&t->tid, NULL, rx_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto fail;
	t->started = true;
	*ret = t;
	return 0;
fail:
	rxthread_free(t);
	return r;
}

int rxthread_fd(const struct rxthread *t)
{
	return t->ready_fd;
}

void rxthread_ack(struct rxthread *t)
{
	clear_fd(t->ready_fd);
}

const void *rxthread_next(struct rxthread *t, enum rxrec_type *ret_type, size_t *ret_len)
{
	const void *rec = rxqueue_next(t->q, ret_type, ret_len);

	/*
	 * Read to the end while a marker is owed: there is room for it now,
	 * and the thread may be asleep until the next datagram. Wake it to
	 * write the marker (its loop publishes after any wakeup).
	 */
	if (!rec && rxqueue_owed(t->q))
		signal_fd(t->wake_fd);
	return rec;
}

bool rxthread_losing(struct rxthread *t)
{
	return rxqueue_losing(t->q);
}

uint64_t rxthread_sync(struct rxthread *t)
{
	uint64_t ticket;

	pthread_mutex_lock(&t->lock);
	ticket = ++t->sync_req;
	pthread_mutex_unlock(&t->lock);
	signal_fd(t->wake_fd);
	return ticket;
}

bool rxthread_synced(struct rxthread *t, uint64_t ticket)
{
	bool r;

	pthread_mutex_lock(&t->lock);
	/* a thread that ended (error, stop) answers nothing more */
	r = t->sync_done >= ticket || t->error || t->joined;
	pthread_mutex_unlock(&t->lock);
	return r;
}

int rxthread_error(struct rxthread *t)
{
	int r;

	pthread_mutex_lock(&t->lock);
	r = t->error;
	pthread_mutex_unlock(&t->lock);
	return r;
}

void rxthread_stop(struct rxthread *t)
{
	if (!t->started || t->joined)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_mutex_unlock(&t->lock);
	signal_fd(t->wake_fd);
	pthread_join(t->tid, NULL);
	pthread_mutex_lock(&t->lock);
	t->joined = true;
	pthread_mutex_unlock(&t->lock);
}

void rxthread_flush(struct rxthread *t)
{
	/* only once the thread is gone: the producer side is ours now */
	if (!t->started || t->joined)
		rxqueue_publish(t->q, false);
}

void rxthread_stats(struct rxthread *t, struct rxqueue_stats *ret)
{
	rxqueue_stats(t->q, ret);
}

struct rxthread *rxthread_free(struct rxthread *t)
{
	if (!t)
		return NULL;
	rxthread_stop(t);
	if (t->wake_fd >= 0)
		close(t->wake_fd);
	if (t->ready_fd >= 0)
		close(t->ready_fd);
	free(t->batch);
	rxqueue_free(t->q);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return NULL;
}
