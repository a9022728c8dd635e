/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receive thread with a socket of our own making: nlsock's two calls
 * are replaced here (a pipe says "readable", a counter is the datagrams
 * queued), so the thread's sleeping and waking can be tested without a
 * kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nlsock.h"
#include "rxthread.h"

#define LIMIT	  (64u * 1024) /* the smallest queue */
#define DGRAM_LEN 1000

struct nlsock {
	int pipe[2]; /* a byte in it: datagrams are queued */
	pthread_mutex_t lock;
	unsigned int queued;
};

int nlsock_fd(const struct nlsock *s)
{
	return s->pipe[0];
}

int nlsock_recv_batch(struct nlsock *s, struct nlsock_batch *b)
{
	char c;

	pthread_mutex_lock(&s->lock);
	b->n = 0;
	while (s->queued && b->n < NLSOCK_BATCH) {
		memset(b->buf[b->n], 0x5a, DGRAM_LEN);
		b->len[b->n++] = DGRAM_LEN;
		s->queued--;
	}
	if (!s->queued)
		(void)!read(s->pipe[0], &c, 1);
	pthread_mutex_unlock(&s->lock);
	return b->n ? (int)b->n : -EAGAIN;
}

static void feed(struct nlsock *s, unsigned int n)
{
	pthread_mutex_lock(&s->lock);
	if (!s->queued)
		(void)!write(s->pipe[1], "x", 1);
	s->queued += n;
	pthread_mutex_unlock(&s->lock);
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read what is published; count datagrams and the loss markers. */
static void consume(struct rxthread *t, unsigned int *dgrams, unsigned int *overruns,
		    unsigned int *ends)
{
	enum rxrec_type type;
	size_t len;

	while (rxthread_next(t, &type, &len)) {
		if (type == RXREC_DGRAM)
			(*dgrams)++;
		else if (type == RXREC_LOSS_OVERRUN)
			(*overruns)++;
		else if (type == RXREC_LOSS_END)
			(*ends)++;
	}
}

/*
 * A burst overruns the queue while the consumer is busy, and nothing
 * follows it. Once the consumer has read the queue, the overrun marker
 * must arrive without another datagram: the thread, asleep on an idle
 * socket, is woken to write it (issue 19 item 8: the marker stayed owed,
 * timelines never expired and the main loop woke every 10 ms).
 */
static void test_rxthread_owed_marker_arrives_without_new_datagrams(void **state)
{
	struct nlsock sock = { .queued = 0 };
	unsigned int dgrams = 0, overruns = 0, ends = 0;
	struct rxthread *t;
	uint64_t deadline;

	(void)state;
	assert_int_equal(pipe2(sock.pipe, O_NONBLOCK), 0);
	pthread_mutex_init(&sock.lock, NULL);
	assert_int_equal(rxthread_start(&sock, LIMIT, &t), 0);
	/* 300 KB for a 64 KiB queue nobody reads yet */
	feed(&sock, 300);
	/*
	 * The consumer busy for a while: the thread retries after its
	 * pause and its trim interval, then sleeps until the socket or a
	 * wakeup says something.
	 */
	usleep((RXTHREAD_TRIM_MS + 300) * 1000);
	assert_true(rxthread_losing(t));
	consume(t, &dgrams, &overruns, &ends);
	assert_true(dgrams > 0 && dgrams < 300);
	deadline = ms_now() + 1000;
	while ((!overruns || !ends) && ms_now() < deadline) {
		struct pollfd pfd = { .fd = rxthread_fd(t), .events = POLLIN };

		if (poll(&pfd, 1, (int)(deadline - ms_now())) > 0)
			rxthread_ack(t);
		consume(t, &dgrams, &overruns, &ends);
	}
	assert_int_equal(overruns, 1);
	assert_int_equal(ends, 1);
	assert_false(rxthread_losing(t));
	rxthread_free(t);
	close(sock.pipe[0]);
	close(sock.pipe[1]);
	pthread_mutex_destroy(&sock.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rxthread_owed_marker_arrives_without_new_datagrams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
