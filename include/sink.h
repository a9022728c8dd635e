/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_SINK_H
#define NATTRACED_SINK_H

/*
 * Where every record goes. One sink, chosen once at start from --output,
 * with a function per record kind (like nftables' one output context and
 * conntrack-tools' per-mode tables): the edges hand it records, the render
 * layer formats them, and only sink.c knows which output runs.
 *
 *   text     stdout (non-blocking, outbuf.h); the daemon's messages and
 *            statistics on stderr
 *   json     stdout, one object per line, statistics records too
 *   journal  one entry per record (journal.h); messages as entries
 *
 * A record function returns 0 when the record is queued or sent,
 * SINK_LOST when journald did not take it (counted here, said once, and
 * not an end: journald may be back for the next one), -ENOBUFS when a
 * slow reader's full buffer dropped it (counted by outbuf.h), and any
 * other -errno once the output has failed (said once here, except
 * -EPIPE: the reader went away); after a failure every record function
 * returns that error again without writing.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "options.h"

struct capture_stats;
struct explain;
struct follow_conn;
struct natmap;
struct outbuf;
struct sink;
struct timeline;

#define SINK_LOST 1

/* A followed connection's end (--follow). */
struct sink_connection {
	const struct follow_conn *conn;
	const char *end;  /* follow_end_name() */
	const char *note; /* "" or why no reply was seen */
};

/*
 * A daemon lifecycle entry: the journal gets text with the fields and
 * MESSAGE_ID; stderr gets line, or nothing when line is NULL (the stop
 * account, which the statistics line already gave).
 */
struct sink_entry {
	int priority;
	const char *msgid;
	const char *const *fields; /* NULL-terminated, may be NULL */
	const char *text;	   /* NULL: no journal entry */
	const char *line;	   /* NULL: no stderr line */
};

/*
 * Can this build and this host write FORMAT? 0; -EOPNOTSUPP (a usage
 * error: built without libsystemd) or the error of a journald that does
 * not listen, with the message in err.
 */
int sink_check(enum output_kind kind, char *err, size_t len);
/*
 * The sink for kind, writing to stdout (for text and JSON, taken over for
 * non-blocking writes) and routing the daemon's own messages (log.h).
 * 0 or -errno.
 */
struct text_style;
int sink_new(enum output_kind kind, const struct text_style *style, struct sink **ret);
struct sink *sink_free(struct sink *s);

int sink_timeline(struct sink *s, const struct timeline *tl, const struct explain *ex);
/*
 * A timeline as this sink's text would print it, into out (--follow keeps
 * a connection's timelines so, for its block). 0 or -errno.
 */
int sink_text(const struct sink *s, FILE *out, const struct timeline *tl, const struct explain *ex);
/* Periodic statistics, or (st->reason STATS_EXIT) the stop account. */
int sink_stats(struct sink *s, const struct capture_stats *st);
int sink_connection(struct sink *s, const struct sink_connection *c);
int sink_mapping(struct sink *s, const struct natmap *m);
void sink_lifecycle(struct sink *s, const struct sink_entry *e);
/*
 * A result of --replay or --check, rendered by the caller's functions for
 * the output in use: text lines, one JSON object (its writer's "type"
 * included), or one journal entry (an sd_journal_send() result).
 */
struct jsonw;
struct sink_result {
	void (*text)(FILE *out, const void *ctx);
	void (*json)(struct jsonw *w, const void *ctx);
	int (*journal)(const void *ctx);
	const void *ctx;
};
int sink_result(struct sink *s, const struct sink_result *r);
/* --nat-table: every row at once, on stdio's stdout. 0 or -errno. */
int sink_nat_table(enum output_kind kind, const struct natmap *rows, size_t n);

/*
 * Text only: a followed connection's timelines are kept and printed as one
 * block when it ends (follow.h), not one by one.
 */
bool sink_groups_connections(const struct sink *s);

/*
 * Taps: consumers beside the output, whatever --output is (--pcap,
 * --metrics-file). Each sees every timeline the output is handed and
 * every statistics record, after the output. A tap whose function fails
 * (-errno) is said once, by its name, and is not called again; the
 * output goes on. close() runs at sink_free().
 */
struct sink_tap {
	const char *name; /* "--pcap /tmp/x.pcapng", for the message */
	int (*timeline)(void *ctx, const struct timeline *tl, const struct explain *ex);
	int (*stats)(void *ctx, const struct capture_stats *st);
	void (*close)(void *ctx);
	void *ctx;
};

#define SINK_MAX_TAPS 4

/* 0, or -ENOSPC past SINK_MAX_TAPS. */
int sink_add_tap(struct sink *s, const struct sink_tap *tap);
/*
 * The taps the options ask for (pcapfile.h, metricsfile.h); says what
 * failed. 0 or -errno.
 */
int sink_open_taps(struct sink *s, const struct options *o);

/*
 * --summary (summary.h): the sink counts the timelines the output took
 * (with --summary-only: all it is handed, in place of their records, in
 * sink_summarised()). sink_summary() writes the table as the output's
 * summary record: a table on stdout (text), a {"type":"summary"} record
 * (json), an entry per row (journal). reason: "interval" or "exit".
 * sink_summary_count() counts a timeline kept aside (text --follow).
 */
int sink_summary(struct sink *s, const char *reason);
void sink_summary_count(struct sink *s, const struct timeline *tl, const struct explain *ex);
bool sink_summary_wanted(const struct sink *s);
uint64_t sink_summarised(const struct sink *s);

/* The output's error (-errno) once it failed, else 0. */
int sink_error(const struct sink *s);
/* Entries journald did not take. */
uint64_t sink_journal_errors(const struct sink *s);

/*
 * stdout, for the loop: the fd to poll for POLLOUT while bytes wait (-1:
 * none wait), write what it takes now, and at exit wait at most
 * timeout_ms. The outbuf for its counters; NULL for the journal.
 */
int sink_poll_fd(const struct sink *s);
bool sink_queued(const struct sink *s);
int sink_flush(struct sink *s);
int sink_drain(struct sink *s, int timeout_ms);
const struct outbuf *sink_outbuf(const struct sink *s);

#endif
