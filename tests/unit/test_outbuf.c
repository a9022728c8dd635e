/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stdout at exit with a reader that stopped in the middle of a line: the
 * line gets a bounded moment more for its end, or the stats say it was
 * cut (issue 19 item 8).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "outbuf.h"

/* One line longer than the pipe holds: a write can only take its start. */
#define LINE_LEN (3 * 65536)

struct pipe_reader {
	int fd;
	useconds_t delay_us;
	size_t got;
	char last;
};

static void *read_later(void *arg)
{
	struct pipe_reader *r = arg;
	char buf[65536];
	ssize_t n;

	usleep(r->delay_us);
	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		r->got += (size_t)n;
		r->last = buf[n - 1];
	}
	return NULL;
}

static struct outbuf *start_line(int wfd)
{
	struct outbuf *ob;
	char *line = malloc(LINE_LEN);

	assert_non_null(line);
	memset(line, 'x', LINE_LEN - 1);
	line[LINE_LEN - 1] = '\n';
	assert_int_equal(outbuf_new(wfd, &ob), 0);
	outbuf_begin(ob);
	fwrite(line, 1, LINE_LEN, outbuf_file(ob));
	assert_int_equal(outbuf_commit(ob, true), 0);
	free(line);
	/* the pipe takes the line's start, not its end */
	assert_int_equal(outbuf_flush(ob), 0);
	assert_true(outbuf_pending(ob) > 0 && outbuf_pending(ob) < LINE_LEN);
	return ob;
}

static void test_outbuf_exit_finishes_a_started_line(void **state)
{
	struct pipe_reader r = { .delay_us = 50 * 1000 };
	struct outbuf *ob;
	pthread_t tid;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	r.fd = p[0];
	ob = start_line(p[1]);
	/* the reader goes on only after the drain's own time is up */
	assert_int_equal(pthread_create(&tid, NULL, read_later, &r), 0);
	assert_int_equal(outbuf_drain(ob, 0), 0);
	assert_false(outbuf_stats(ob)->cut_left);
	assert_int_equal(outbuf_stats(ob)->delivered, 1);
	assert_int_equal(outbuf_stats(ob)->dropped, 0);
	ob = outbuf_free(ob);
	close(p[1]);
	pthread_join(tid, NULL);
	assert_int_equal(r.got, LINE_LEN);
	assert_int_equal(r.last, '\n');
	close(p[0]);
}

static void test_outbuf_exit_says_a_line_was_cut(void **state)
{
	struct outbuf *ob;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	ob = start_line(p[1]);
	/* a reader that never comes back within the bound */
	assert_int_equal(outbuf_drain(ob, 0), 0);
	assert_true(outbuf_stats(ob)->cut_left);
	assert_int_equal(outbuf_stats(ob)->dropped, 1);
	/* nothing more may join the cut line */
	outbuf_begin(ob);
	fputs("{\"type\": \"stats\"}\n", outbuf_file(ob));
	assert_int_not_equal(outbuf_commit(ob, false), 0);
	assert_int_equal(outbuf_pending(ob), 0);
	ob = outbuf_free(ob);
	close(p[1]);
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outbuf_exit_finishes_a_started_line),
		cmocka_unit_test(test_outbuf_exit_says_a_line_was_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
