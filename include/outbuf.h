/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_OUTBUF_H
#define NATTRACED_OUTBUF_H

/*
 * stdout without ever waiting on its reader: records (a timeline, a stats
 * line, a mapping) are rendered into a bounded buffer through a FILE, and
 * written with non-blocking writes when the fd can take them. A record
 * that does not fit is dropped whole and counted; a write error or a
 * reader that went away ends the output, and what was not delivered is
 * counted too. A file never ends in a cut record: a record that a write
 * error cut short (a full filesystem) is truncated away again.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bytes waiting for a slow reader; beyond this, records are dropped. */
#define OUTBUF_MAX	   (8 * 1024 * 1024)
/* Records waiting at once; beyond this too. */
#define OUTBUF_RECORDS_MAX 65536
/* At exit, a record the reader has the start of waits this long more for its end. */
#define OUTBUF_CUT_WAIT_MS 250

struct outbuf;

struct outbuf_stats {
	uint64_t delivered;	/* timeline records written whole */
	uint64_t dropped;	/* timeline records never written (full, error, exit) */
	uint64_t dropped_bytes; /* of every kind of record */
	uint64_t pending;	/* timeline records still in the buffer */
	int error;		/* the first write error, -errno; 0 */
	bool cut_removed;	/* a record cut by the error was truncated away */
	bool cut_left;		/* ... and could not be (not a regular file), or
				 * the reader stopped inside a record at exit: its
				 * last line is cut, and nothing more is written */
};

/* Take over fd (1) for non-blocking writes. 0 or -errno. */
int outbuf_new(int fd, struct outbuf **ret);
struct outbuf *outbuf_free(struct outbuf *ob);
/* The FILE to render one record into, between begin and commit. */
FILE *outbuf_file(struct outbuf *ob);
void outbuf_begin(struct outbuf *ob);
/*
 * End the record. 0 if it is queued; -ENOBUFS if it did not fit (dropped,
 * counted if timeline); the write error if the output has failed.
 */
int outbuf_commit(struct outbuf *ob, bool timeline);
/* Write what the fd takes now. 0 (maybe still pending) or the write error. */
int outbuf_flush(struct outbuf *ob);
/* Bytes waiting: poll the fd for POLLOUT while this is non-zero. */
size_t outbuf_pending(const struct outbuf *ob);
int outbuf_fd(const struct outbuf *ob);
/*
 * At exit: write for at most timeout_ms, then give up on the rest
 * (counted as dropped). A record already partly written gets up to
 * OUTBUF_CUT_WAIT_MS more for its end; if the reader does not take it,
 * stats.cut_left says so. 0 or the write error.
 */
int outbuf_drain(struct outbuf *ob, int timeout_ms);
const struct outbuf_stats *outbuf_stats(const struct outbuf *ob);

#endif
