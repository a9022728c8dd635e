/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Non-blocking stdout (see outbuf.h). Why by hand: stdio has no bounded,
 * non-blocking mode, and setting O_NONBLOCK on fd 1 would change the open
 * file description the shell or the terminal shares with us. So a pipe,
 * FIFO or terminal is opened again through /proc/self/fd (a description
 * of our own, O_NONBLOCK), a socket (systemd's journal stream) is written
 * with MSG_DONTWAIT, and a regular file, which never makes a writer wait
 * on a reader, is written as it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outbuf.h"

struct record {
	uint32_t len;
	bool timeline;
};

struct outbuf {
	int fd; /* what we write to (ours if reopened) */
	bool own_fd, sock, regular;
	FILE *fp;
	char *buf;
	size_t head, len;   /* pending bytes: buf[head .. head + len) */
	size_t mark;	    /* len when the current record began */
	bool overflow;	    /* the current record did not fit */
	bool ended;	    /* a record was left cut: nothing may follow it */
	struct record *rec; /* ring of pending records */
	size_t rec_head, rec_n;
	uint32_t head_written; /* bytes of rec[rec_head] already written */
	struct outbuf_stats st;
};

static ssize_t cookie_write(void *cookie, const char *data, size_t n)
{
	struct outbuf *ob = cookie;

	if (ob->overflow || ob->st.error)
		return (ssize_t)n;
	if (ob->head + ob->len + n > OUTBUF_MAX) {
		memmove(ob->buf, ob->buf + ob->head, ob->len);
		ob->head = 0;
	}
	if (ob->len + n > OUTBUF_MAX) {
		ob->overflow = true;
		return (ssize_t)n;
	}
	memcpy(ob->buf + ob->head + ob->len, data, n);
	ob->len += n;
	return (ssize_t)n;
}

int outbuf_new(int fd, struct outbuf **ret)
{
	static const cookie_io_functions_t io = { .write = cookie_write };
	struct outbuf *ob;
	struct stat st;
	char path[64];

	if (fstat(fd, &st) < 0)
		return -errno;
	ob = calloc(1, sizeof(*ob));
	if (!ob)
		return -ENOMEM;
	ob->buf = malloc(OUTBUF_MAX);
	ob->rec = calloc(OUTBUF_RECORDS_MAX, sizeof(*ob->rec));
	if (!ob->buf || !ob->rec)
		goto nomem;
	ob->fd = fd;
	ob->sock = S_ISSOCK(st.st_mode);
	ob->regular = S_ISREG(st.st_mode);
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		int nfd;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (nfd >= 0) {
			ob->fd = nfd;
			ob->own_fd = true;
		} else if (S_ISFIFO(st.st_mode)) {
			/* no /proc: our pipe's end is ours alone in practice */
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		}
	}
	ob->fp = fopencookie(ob, "w", io);
	if (!ob->fp)
		goto nomem;
	/* every fprintf() reaches cookie_write(): records stay whole */
	setvbuf(ob->fp, NULL, _IONBF, 0);
	*ret = ob;
	return 0;
nomem:
	outbuf_free(ob);
	return -ENOMEM;
}

struct outbuf *outbuf_free(struct outbuf *ob)
{
	if (!ob)
		return NULL;
	if (ob->fp)
		fclose(ob->fp);
	if (ob->own_fd)
		close(ob->fd);
	free(ob->buf);
	free(ob->rec);
	free(ob);
	return NULL;
}

FILE *outbuf_file(struct outbuf *ob)
{
	return ob->fp;
}

int outbuf_fd(const struct outbuf *ob)
{
	return ob->fd;
}

size_t outbuf_pending(const struct outbuf *ob)
{
	return ob->st.error || ob->ended ? 0 : ob->len;
}

const struct outbuf_stats *outbuf_stats(const struct outbuf *ob)
{
	return &ob->st;
}

void outbuf_begin(struct outbuf *ob)
{
	/*
	 * Half full: hand the reader what it takes now, without waiting. A
	 * file always takes it, so only a slow pipe or socket reader ever
	 * costs a timeline (many timelines at once, as at exit, would fill
	 * the buffer between two wakeups otherwise).
	 */
	if (ob->len >= OUTBUF_MAX / 2 || ob->rec_n >= OUTBUF_RECORDS_MAX / 2)
		outbuf_flush(ob);
	ob->mark = ob->len;
	ob->overflow = false;
}

int outbuf_commit(struct outbuf *ob, bool timeline)
{
	size_t n = ob->len - ob->mark;

	if (ob->st.error || ob->ended || ob->overflow || ob->rec_n == OUTBUF_RECORDS_MAX) {
		ob->st.dropped_bytes += n;
		ob->len = ob->mark;
		if (timeline)
			ob->st.dropped++;
		ob->overflow = false;
		return ob->st.error ? ob->st.error : -ENOBUFS;
	}
	if (n == 0)
		return 0;
	ob->rec[(ob->rec_head + ob->rec_n) % OUTBUF_RECORDS_MAX] =
		(struct record){ .len = (uint32_t)n, .timeline = timeline };
	ob->rec_n++;
	if (timeline)
		ob->st.pending++;
	return 0;
}

/* n bytes left the buffer: pop the records they completed. */
static void written(struct outbuf *ob, size_t n)
{
	ob->head += n;
	ob->len -= n;
	while (n > 0 && ob->rec_n > 0) {
		struct record *r = &ob->rec[ob->rec_head];
		size_t left = r->len - ob->head_written;

		if (n < left) {
			ob->head_written += (uint32_t)n;
			break;
		}
		n -= left;
		ob->head_written = 0;
		if (r->timeline) {
			ob->st.delivered++;
			ob->st.pending--;
		}
		ob->rec_head = (ob->rec_head + 1) % OUTBUF_RECORDS_MAX;
		ob->rec_n--;
	}
	if (ob->len == 0)
		ob->head = 0;
}

/* Give up on everything pending, counting it. */
static void abandon(struct outbuf *ob)
{
	ob->st.dropped += ob->st.pending;
	ob->st.dropped_bytes += ob->len;
	ob->st.pending = 0;
	ob->head = ob->len = 0;
	ob->rec_head = ob->rec_n = 0;
	ob->head_written = 0;
}

/*
 * The output failed in the middle of a record (a full filesystem: part of
 * a line written, then ENOSPC). A reader would see half a JSON object with
 * no marker; in a regular file, cut it away again.
 */
static void remove_cut(struct outbuf *ob)
{
	off_t end;

	if (!ob->head_written)
		return;
	if (ob->regular && (end = lseek(ob->fd, 0, SEEK_CUR)) >= (off_t)ob->head_written &&
	    ftruncate(ob->fd, end - (off_t)ob->head_written) == 0) {
		lseek(ob->fd, end - (off_t)ob->head_written, SEEK_SET);
		ob->st.cut_removed = true;
	} else {
		/* the reader has half a line: anything after it would join it */
		ob->st.cut_left = true;
		ob->ended = true;
	}
}

/* Write at most max pending bytes now. 0 (maybe some left) or the error. */
static int flush_upto(struct outbuf *ob, size_t max)
{
	while (ob->len > 0 && max > 0 && !ob->st.error && !ob->ended) {
		const char *p = ob->buf + ob->head;
		size_t want = ob->len < max ? ob->len : max;
		ssize_t n = ob->sock ? send(ob->fd, p, want, MSG_DONTWAIT | MSG_NOSIGNAL)
				     : write(ob->fd, p, want);

		if (n > 0) {
			written(ob, (size_t)n);
			max -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		ob->st.error = n < 0 ? -errno : -EIO;
		remove_cut(ob);
		abandon(ob);
	}
	return ob->st.error;
}

int outbuf_flush(struct outbuf *ob)
{
	return flush_upto(ob, SIZE_MAX);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Write for up to timeout_ms, at most max bytes. 0 when that much went
 * out, 1 when the time ran out first, or the error.
 */
static int write_for(struct outbuf *ob, int timeout_ms, size_t max)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	size_t left = max < ob->len ? max : ob->len;

	for (;;) {
		struct pollfd pfd = { .fd = ob->fd, .events = POLLOUT };
		size_t before = ob->len;
		uint64_t now;
		int r = flush_upto(ob, left);

		left -= before - ob->len;
		if (r < 0 || ob->ended || left == 0)
			return r;
		now = now_ms();
		if (now >= deadline)
			return 1;
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return 1;
	}
}

int outbuf_drain(struct outbuf *ob, int timeout_ms)
{
	int r = write_for(ob, timeout_ms, SIZE_MAX);

	if (r < 0)
		return r;
	if (r == 0 && ob->len == 0)
		return 0;
	/*
	 * The reader is stuck: what is left is lost, and counted. A record
	 * it has the start of gets a moment more for its end: a reader
	 * that goes on later then sees whole lines only.
	 */
	if (ob->head_written && !ob->ended) {
		r = write_for(ob, OUTBUF_CUT_WAIT_MS, ob->rec[ob->rec_head].len - ob->head_written);
		if (r < 0)
			return r;
	}
	if (ob->head_written)
		remove_cut(ob);
	abandon(ob);
	return 0;
}
