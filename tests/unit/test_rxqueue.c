/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receive queue, single-threaded: this test plays producer and
 * consumer in turn, which the queue allows (rxqueue.h).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rxqueue.h"

#define LIMIT (64u * 1024) /* the smallest: 4 chunks of 16 KiB */

/* A datagram of len bytes that says which one it is. */
static size_t make_dgram(uint32_t seq, char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(seq * 31 + i);
	if (len >= sizeof(seq))
		memcpy(buf, &seq, sizeof(seq));
	return len;
}

static void expect_dgram(struct rxqueue *q, uint32_t seq, size_t len)
{
	char want[2048];
	enum rxrec_type type;
	size_t got_len;
	const void *p = rxqueue_next(q, &type, &got_len);

	assert_non_null(p);
	assert_int_equal(type, RXREC_DGRAM);
	assert_int_equal(got_len, len);
	make_dgram(seq, want, len);
	assert_memory_equal(p, want, len);
	/* records are 8-byte aligned for the netlink headers in them */
	assert_int_equal((uintptr_t)p % 8, 0);
}

static void expect_marker(struct rxqueue *q, enum rxrec_type want)
{
	enum rxrec_type type;
	size_t len;

	assert_non_null(rxqueue_next(q, &type, &len));
	assert_int_equal(type, want);
	assert_int_equal(len, 0);
}

static void expect_empty(struct rxqueue *q)
{
	enum rxrec_type type;
	size_t len;

	assert_null(rxqueue_next(q, &type, &len));
}

static void put_dgram(struct rxqueue *q, uint32_t seq, size_t len, int want)
{
	char buf[2048];

	make_dgram(seq, buf, len);
	assert_int_equal(rxqueue_put(q, RXREC_DGRAM, buf, len), want);
}

static void test_rxqueue_limit_below_minimum_is_refused(void **state)
{
	struct rxqueue *q = NULL;

	(void)state;
	assert_int_equal(rxqueue_new(RXQUEUE_MIN_LIMIT - 1, &q), -EINVAL);
	assert_null(q);
}

static void test_rxqueue_records_unseen_until_published(void **state)
{
	struct rxqueue *q;

	(void)state;
	assert_int_equal(rxqueue_new(LIMIT, &q), 0);
	put_dgram(q, 1, 100, 0);
	expect_empty(q);
	assert_true(rxqueue_publish(q, true));
	expect_dgram(q, 1, 100);
	expect_empty(q);
	/* nothing new: nothing to wake the consumer for */
	assert_false(rxqueue_publish(q, true));
	rxqueue_free(q);
}

/*
 * Many times the limit goes through the queue in order, with odd sizes:
 * chunks are filled, handed over, read and reused over and over.
 */
static void test_rxqueue_wraps_around_in_order(void **state)
{
	struct rxqueue_stats st;
	struct rxqueue *q;
	uint32_t put = 0, got = 0;

	(void)state;
	assert_int_equal(rxqueue_new(LIMIT, &q), 0);
	for (int round = 0; round < 200; round++) {
		/* about 40 KiB per round, under the 64 KiB limit */
		for (int i = 0; i < 100; i++, put++)
			put_dgram(q, put, 17 + (put * 7) % 700, 0);
		rxqueue_publish(q, true);
		for (; got < put; got++)
			expect_dgram(q, got, 17 + (got * 7) % 700);
		expect_empty(q);
	}
	rxqueue_stats(q, &st);
	assert_int_equal(st.records, put);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.overruns, 0);
	assert_true(st.peak_bytes <= LIMIT);
	assert_true(st.peak_bytes > 0);
	rxqueue_free(q);
}

/* A chunk that fills up is visible at once, before any publish. */
static void test_rxqueue_full_chunk_is_pushed(void **state)
{
	struct rxqueue *q;
	uint32_t n = 0;

	(void)state;
	assert_int_equal(rxqueue_new(LIMIT, &q), 0);
	while (!rxqueue_pushed(q))
		put_dgram(q, n++, 500, 0);
	/* all but the one that opened the next chunk */
	for (uint32_t i = 0; i + 1 < n; i++)
		expect_dgram(q, i, 500);
	expect_empty(q);
	rxqueue_publish(q, false);
	expect_dgram(q, n - 1, 500);
	rxqueue_free(q);
}

/*
 * A full queue drops datagrams and counts one overrun per run of drops;
 * the marker stands where the gap is, and the loss window closes where
 * the socket is next found empty.
 */
static void test_rxqueue_overrun_is_counted_and_marked(void **state)
{
	struct rxqueue_stats st;
	struct rxqueue *q;
	uint32_t n = 0, dropped = 0;

	(void)state;
	assert_int_equal(rxqueue_new(LIMIT, &q), 0);
	while (rxqueue_put(q, RXREC_DGRAM, "x", 0) == 0 || (dropped++, false))
		n++;
	/* the consumer knows at once that a marker is owed */
	assert_true(rxqueue_losing(q));
	for (int i = 0; i < 9; i++, dropped++)
		put_dgram(q, 0, 300, -ENOBUFS);
	/* the socket ran empty while the queue was still full */
	rxqueue_publish(q, true);
	rxqueue_stats(q, &st);
	assert_int_equal(st.records, n);
	assert_int_equal(st.dropped, dropped);
	assert_int_equal(st.overruns, 1);
	assert_true(st.peak_bytes <= LIMIT);

	for (uint32_t i = 0; i < n; i++) {
		enum rxrec_type type;
		size_t len;

		assert_non_null(rxqueue_next(q, &type, &len));
		assert_int_equal(type, RXREC_DGRAM);
	}
	expect_empty(q);
	/* room again: the gap, then the datagram after it */
	assert_true(rxqueue_losing(q));
	put_dgram(q, 7, 300, 0);
	/* written, not yet handed over */
	assert_true(rxqueue_losing(q));
	rxqueue_publish(q, true);
	assert_false(rxqueue_losing(q));
	expect_marker(q, RXREC_LOSS_OVERRUN);
	expect_marker(q, RXREC_LOSS_END);
	expect_dgram(q, 7, 300);
	expect_empty(q);

	/* a second run of drops is a second overrun */
	while (rxqueue_put(q, RXREC_DGRAM, "x", 0) == 0)
		;
	rxqueue_stats(q, &st);
	assert_int_equal(st.overruns, 1); /* mirrored at publish */
	rxqueue_publish(q, false);
	rxqueue_stats(q, &st);
	assert_int_equal(st.overruns, 2);
	rxqueue_free(q);
}

/* ENOBUFS from the socket: its marker sits between what came before and after. */
/*
 * A marker owed when the consumer has read everything: the queue tells
 * it (rxqueue_owed), so that it can wake the producer to write the
 * marker, instead of waiting for the next datagram (issue 19 item 8).
 */
static void test_rxqueue_marker_owed_when_read_to_the_end(void **state)
{
	struct rxqueue *q;
	uint32_t n = 0;

	(void)state;
	assert_int_equal(rxqueue_new(LIMIT, &q), 0);
	assert_false(rxqueue_owed(q));
	while (rxqueue_put(q, RXREC_DGRAM, "x", 0) == 0)
		n++;
	rxqueue_publish(q, true);
	for (uint32_t i = 0; i < n; i++) {
		enum rxrec_type type;
		size_t len;

		assert_non_null(rxqueue_next(q, &type, &len));
	}
	expect_empty(q);
	/* the overrun and the loss end are owed: only the producer writes them */
	assert_true(rxqueue_owed(q));
	/* the producer, woken, publishes with nothing new from the socket */
	rxqueue_publish(q, true);
	assert_false(rxqueue_owed(q));
	assert_false(rxqueue_losing(q));
	expect_marker(q, RXREC_LOSS_OVERRUN);
	expect_marker(q, RXREC_LOSS_END);
	expect_empty(q);
	rxqueue_free(q);
}

static void test_rxqueue_enobufs_marker_in_order(void **state)
{
	struct rxqueue *q;

	(void)state;
	assert_int_equal(rxqueue_new(LIMIT, &q), 0);
	put_dgram(q, 1, 64, 0);
	rxqueue_note_enobufs(q);
	put_dgram(q, 2, 64, 0);
	/* more queued in the socket: the window stays open */
	rxqueue_publish(q, false);
	put_dgram(q, 3, 64, 0);
	rxqueue_publish(q, true);
	put_dgram(q, 4, 64, 0);
	rxqueue_publish(q, true);
	expect_dgram(q, 1, 64);
	expect_marker(q, RXREC_LOSS_ENOBUFS);
	expect_dgram(q, 2, 64);
	expect_dgram(q, 3, 64);
	expect_marker(q, RXREC_LOSS_END);
	expect_dgram(q, 4, 64);
	expect_empty(q);
	rxqueue_free(q);
}

/*
 * The queue is full when the socket reports ENOBUFS and later runs
 * empty: the markers owed come out in order once there is room.
 */
static void test_rxqueue_markers_wait_for_room(void **state)
{
	struct rxqueue *q;
	enum rxrec_type type;
	size_t len;

	(void)state;
	assert_int_equal(rxqueue_new(LIMIT, &q), 0);
	while (rxqueue_put(q, RXREC_DGRAM, "x", 0) == 0)
		;
	rxqueue_note_enobufs(q);
	rxqueue_publish(q, true);
	while (rxqueue_next(q, &type, &len))
		assert_int_equal(type, RXREC_DGRAM);
	/* the producer is gone (stopping): owed markers still arrive */
	rxqueue_publish(q, false);
	expect_marker(q, RXREC_LOSS_ENOBUFS);
	expect_marker(q, RXREC_LOSS_OVERRUN);
	expect_marker(q, RXREC_LOSS_END);
	expect_empty(q);
	rxqueue_free(q);
}

static void test_rxqueue_oversized_datagram_is_truncated(void **state)
{
	struct rxqueue *q;
	enum rxrec_type type;
	size_t len, max;
	char *big;

	(void)state;
	assert_int_equal(rxqueue_new(LIMIT, &q), 0);
	max = rxqueue_max_datagram(q);
	assert_true(max >= 8192);
	big = calloc(1, max + 100);
	assert_non_null(big);
	assert_int_equal(rxqueue_put(q, RXREC_DGRAM, big, max + 100), 0);
	rxqueue_publish(q, true);
	assert_non_null(rxqueue_next(q, &type, &len));
	assert_int_equal(type, RXREC_TRUNC);
	free(big);
	rxqueue_free(q);
}

/* One producer thread, this thread consuming: every datagram, in order. */
struct producer_arg {
	struct rxqueue *q;
	uint32_t count;
};

static void *producer(void *p)
{
	struct producer_arg *a = p;

	for (uint32_t i = 0; i < a->count; i++) {
		char buf[2048];
		size_t len = make_dgram(i, buf, 8 + i % 300);

		/* a real producer drops; this one retries to check ordering */
		while (rxqueue_put(a->q, RXREC_DGRAM, buf, len) < 0)
			rxqueue_publish(a->q, false);
		if (i % 97 == 0)
			rxqueue_publish(a->q, false);
	}
	rxqueue_publish(a->q, true);
	return NULL;
}

static void test_rxqueue_two_threads_keep_order(void **state)
{
	struct producer_arg a = { .count = 200000 };
	pthread_t tid;
	uint32_t got = 0;

	(void)state;
	assert_int_equal(rxqueue_new(LIMIT, &a.q), 0);
	assert_int_equal(pthread_create(&tid, NULL, producer, &a), 0);
	while (got < a.count) {
		enum rxrec_type type;
		size_t len;
		const void *p = rxqueue_next(a.q, &type, &len);
		uint32_t seq;

		if (!p)
			continue;
		if (type != RXREC_DGRAM)
			continue; /* overrun markers from the retries */
		memcpy(&seq, p, sizeof(seq));
		assert_int_equal(seq, got);
		assert_int_equal(len, 8 + got % 300);
		got++;
	}
	pthread_join(tid, NULL);
	rxqueue_free(a.q);
}

/* Spare chunks are kept for the next burst until trimmed. */
static void test_rxqueue_trim_gives_spares_back(void **state)
{
	struct rxqueue_stats st;
	struct rxqueue *q;
	enum rxrec_type type;
	size_t len;

	(void)state;
	assert_int_equal(rxqueue_new(4u << 20, &q), 0);
	/* a burst of 3 MiB, read */
	for (int i = 0; i < 3000; i++)
		put_dgram(q, (uint32_t)i, 1000, 0);
	rxqueue_publish(q, true);
	while (rxqueue_next(q, &type, &len))
		;
	rxqueue_trim(q, 0);
	/* the limit is all there again, the queue still works */
	for (int i = 0; i < 4000; i++)
		put_dgram(q, (uint32_t)i, 1000, 0);
	rxqueue_publish(q, true);
	for (int i = 0; i < 4000; i++)
		expect_dgram(q, (uint32_t)i, 1000);
	rxqueue_stats(q, &st);
	assert_int_equal(st.dropped, 0);
	assert_true(st.peak_bytes <= 4u << 20);
	rxqueue_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rxqueue_limit_below_minimum_is_refused),
		cmocka_unit_test(test_rxqueue_records_unseen_until_published),
		cmocka_unit_test(test_rxqueue_wraps_around_in_order),
		cmocka_unit_test(test_rxqueue_full_chunk_is_pushed),
		cmocka_unit_test(test_rxqueue_overrun_is_counted_and_marked),
		cmocka_unit_test(test_rxqueue_marker_owed_when_read_to_the_end),
		cmocka_unit_test(test_rxqueue_enobufs_marker_in_order),
		cmocka_unit_test(test_rxqueue_markers_wait_for_room),
		cmocka_unit_test(test_rxqueue_oversized_datagram_is_truncated),
		cmocka_unit_test(test_rxqueue_two_threads_keep_order),
		cmocka_unit_test(test_rxqueue_trim_gives_spares_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
