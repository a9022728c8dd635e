/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one output sink (sink.h): a table of record functions per output
 * kind, chosen once. Formatting is the render layer's (format.h,
 * records.h, natmap.h, stats.h) and the journal's fields are journal.c's;
 * this file only routes records and keeps the output's state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "follow.h"
#include "format.h"
#include "journal.h"
#include "log.h"
#include "metricsfile.h"
#include "natmap.h"
#include "outbuf.h"
#include "pcapfile.h"
#include "records.h"
#include "sink.h"
#include "stats.h"
#include "summary.h"

struct sink_ops {
	int (*timeline)(struct sink *s, const struct timeline *tl, const struct explain *ex);
	int (*stats)(struct sink *s, const struct capture_stats *st);
	int (*connection)(struct sink *s, const struct sink_connection *c);
	int (*mapping)(struct sink *s, const struct natmap *m);
	void (*lifecycle)(struct sink *s, const struct sink_entry *e);
	int (*summary)(struct sink *s, const struct summary_view *v, const char *reason);
	int (*result)(struct sink *s, const struct sink_result *r);
	bool groups_connections;
	enum log_sink log;
};

struct sink {
	const struct sink_ops *ops;
	struct outbuf *out; /* stdout; NULL for the journal */
	bool queued;	    /* a record since the last flush */
	int error;	    /* the output failed: -errno */
	bool cut_said;	    /* the last line on stdout was cut: said once */
	uint64_t journal_errors;
	struct text_style style; /* --verbose, --color (text) */
	struct sink_tap taps[SINK_MAX_TAPS];
	bool tap_failed[SINK_MAX_TAPS];
	unsigned int n_taps;
	/* --summary: the paths counted, NULL without it */
	struct summary *summary;
	bool summary_only;   /* no per-packet records */
	uint64_t summarised; /* timelines the summary took in their place */
};

/* ---- state shared by the outputs ---- */

/* A reader that went away (| head) is an end, not an error. Said once. */
static int failed(struct sink *s, int err)
{
	if (!s->error && err != -EPIPE)
		log_error_errno(err, "writing output failed");
	if (!s->error)
		s->error = err;
	return err;
}

/* journald away for a moment: lose this entry, not the output */
static int journal_sent(struct sink *s, int r)
{
	if (r >= 0)
		return 0;
	if (s->journal_errors++ == 0)
		log_warning("writing to the journal failed: %s, entries are lost (counted)",
			    strerror(-r));
	return SINK_LOST;
}

/* End a record written into outbuf_file(): see sink.h for the results. */
static int commit(struct sink *s, bool timeline)
{
	int r = outbuf_commit(s->out, timeline);

	if (r == -ENOBUFS)
		return r;
	if (r < 0)
		return failed(s, r);
	s->queued = true;
	return 0;
}

/* One JSON line; a record cut short is dropped whole by outbuf. */
static int json_record(struct sink *s, struct jsonw *w)
{
	outbuf_begin(s->out);
	jsonw_write_line(w, outbuf_file(s->out));
	return commit(s, false);
}

static void stats_line(const struct capture_stats *st)
{
	fputs(st->reason == STATS_EXIT ? "nattraced: stopped: " : "nattraced: stats: ", stderr);
	stats_text(stderr, st);
	fputc('\n', stderr);
}

static void entry_line(struct sink *s, const struct sink_entry *e)
{
	(void)s;
	if (e->line)
		log_at(e->priority, "%s", e->line);
}

/* ---- text ---- */

/* A rendering error shows in the FILE: commit() reports it. */
static int text_timeline(struct sink *s, const struct timeline *tl, const struct explain *ex)
{
	outbuf_begin(s->out);
	format_text_styled(outbuf_file(s->out), tl, ex, &s->style);
	return commit(s, true);
}

/* Text users read the log: statistics go there, the stop account too. */
static int text_stats(struct sink *s, const struct capture_stats *st)
{
	stats_line(st);
	return s->error;
}

/* The connection's header, its kept timelines, the note: a record each. */
static int text_connection(struct sink *s, const struct sink_connection *c)
{
	const struct follow_conn *fc = c->conn;
	size_t from = 0;
	int r = 0;

	for (unsigned int i = 0; i < fc->n_kept || i == 0; i++) {
		bool kept = i < fc->n_kept;

		outbuf_begin(s->out);
		if (i == 0)
			records_connection_text(outbuf_file(s->out), fc, c->end);
		if (kept) {
			fwrite(fc->text + from, 1, fc->text_ends[i] - from, outbuf_file(s->out));
			from = fc->text_ends[i];
		}
		if (i + 1 >= fc->n_kept && c->note[0])
			fprintf(outbuf_file(s->out), "  %s\n\n", c->note);
		/* one record per timeline, so that they are counted as such */
		r = commit(s, kept);
		if (r < 0 && r != -ENOBUFS)
			return r;
	}
	return r;
}

static int text_mapping(struct sink *s, const struct natmap *m)
{
	char line[1024];

	natmap_text(m, line, sizeof(line));
	outbuf_begin(s->out);
	fprintf(outbuf_file(s->out), "%s\n", line);
	return commit(s, false);
}

/* A table on stdout, where the timelines go: it is a result, not a log line. */
static int text_summary(struct sink *s, const struct summary_view *v, const char *reason)
{
	outbuf_begin(s->out);
	summary_text(outbuf_file(s->out), v, reason);
	return commit(s, false);
}

static int text_result(struct sink *s, const struct sink_result *r)
{
	outbuf_begin(s->out);
	r->text(outbuf_file(s->out), r->ctx);
	return commit(s, false);
}

static const struct sink_ops text_ops = {
	.timeline = text_timeline,
	.stats = text_stats,
	.connection = text_connection,
	.mapping = text_mapping,
	.lifecycle = entry_line,
	.summary = text_summary,
	.result = text_result,
	.groups_connections = true,
	.log = LOG_SINK_STDERR,
};

/* ---- JSON ---- */

static int json_timeline(struct sink *s, const struct timeline *tl, const struct explain *ex)
{
	outbuf_begin(s->out);
	format_json_line(outbuf_file(s->out), tl, ex);
	return commit(s, true);
}

/* A record on stdout; at exit the stop line on stderr as well. */
static int json_stats(struct sink *s, const struct capture_stats *st)
{
	char stack[1024];
	struct jsonw w;
	int r;

	r = s->error;
	if (!r) {
		jsonw_init(&w, stack, sizeof(stack));
		stats_json(&w, st);
		r = json_record(s, &w);
		jsonw_release(&w);
	}
	if (st->reason == STATS_EXIT)
		stats_line(st);
	return r;
}

static int json_connection(struct sink *s, const struct sink_connection *c)
{
	char stack[1024];
	struct jsonw w;
	int r;

	jsonw_init(&w, stack, sizeof(stack));
	records_connection_json(&w, c->conn, c->end, c->note);
	r = json_record(s, &w);
	jsonw_release(&w);
	return r;
}

static int json_mapping(struct sink *s, const struct natmap *m)
{
	char stack[1024];
	struct jsonw w;
	int r;

	jsonw_init(&w, stack, sizeof(stack));
	natmap_json(&w, NULL, m);
	r = json_record(s, &w);
	jsonw_release(&w);
	return r;
}

static int json_summary(struct sink *s, const struct summary_view *v, const char *reason)
{
	char stack[8192];
	struct jsonw w;
	int r;

	jsonw_init(&w, stack, sizeof(stack));
	summary_json(&w, v, reason);
	r = json_record(s, &w);
	jsonw_release(&w);
	return r;
}

static int json_result(struct sink *s, const struct sink_result *r)
{
	char stack[4096];
	struct jsonw w;
	int ret;

	jsonw_init(&w, stack, sizeof(stack));
	r->json(&w, r->ctx);
	ret = json_record(s, &w);
	jsonw_release(&w);
	return ret;
}

static const struct sink_ops json_ops = {
	.timeline = json_timeline,
	.stats = json_stats,
	.connection = json_connection,
	.mapping = json_mapping,
	.lifecycle = entry_line,
	.summary = json_summary,
	.result = json_result,
	.log = LOG_SINK_STDERR,
};

/* ---- the journal ---- */

static int journal_timeline_send(struct sink *s, const struct timeline *tl,
				 const struct explain *ex)
{
	return journal_sent(s, journal_timeline(tl, ex));
}

/* The stop account goes into the stop entry (service.c), not one of its own. */
static int journal_stats_send(struct sink *s, const struct capture_stats *st)
{
	if (st->reason == STATS_EXIT)
		return 0;
	return journal_sent(s, journal_stats(st));
}

static int journal_connection_send(struct sink *s, const struct sink_connection *c)
{
	return journal_sent(s, journal_connection(c->conn, c->end, c->note));
}

static int journal_mapping_send(struct sink *s, const struct natmap *m)
{
	return journal_sent(s, journal_natmap(m));
}

static void journal_entry(struct sink *s, const struct sink_entry *e)
{
	(void)s;
	if (e->text)
		log_entry(e->priority, e->msgid, e->fields, "%s", e->text);
}

/* One entry per row, and one for "other" when it counted any. */
static int journal_summary_send(struct sink *s, const struct summary_view *v, const char *reason)
{
	int r = 0;

	for (unsigned int i = 0; i <= v->n; i++) {
		if (i == v->n && !v->other_count)
			break;
		if (journal_sent(s, journal_summary_row(v, i, reason)))
			r = SINK_LOST;
	}
	return r;
}

static int journal_result(struct sink *s, const struct sink_result *r)
{
	return journal_sent(s, r->journal(r->ctx));
}

static const struct sink_ops journal_ops = {
	.timeline = journal_timeline_send,
	.stats = journal_stats_send,
	.connection = journal_connection_send,
	.mapping = journal_mapping_send,
	.lifecycle = journal_entry,
	.summary = journal_summary_send,
	.result = journal_result,
	.log = LOG_SINK_JOURNAL,
};

/* ---- the chooser ---- */

static const struct sink_ops *ops_of(enum output_kind kind)
{
	switch (kind) {
	case OUTPUT_JSON:
		return &json_ops;
	case OUTPUT_JOURNAL:
		return &journal_ops;
	case OUTPUT_TEXT:
	default:
		return &text_ops;
	}
}

int sink_check(enum output_kind kind, char *err, size_t len)
{
	int r;

	if (ops_of(kind) != &journal_ops)
		return 0;
	if (!journal_supported()) {
		snprintf(
			err, len,
			"--output journal: this nattraced was built without journal support (libsystemd)");
		return -EOPNOTSUPP;
	}
	/* No journald: fail now rather than lose every entry in silence. */
	r = journal_reachable();
	if (r < 0)
		snprintf(
			err, len,
			"--output journal: no journald listens at /run/systemd/journal/socket (%s); start systemd-journald, or use --output text or json",
			strerror(-r));
	return r;
}

int sink_new(enum output_kind kind, const struct text_style *style, struct sink **ret)
{
	struct sink *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->ops = ops_of(kind);
	if (style)
		s->style = *style;
	log_set_sink(s->ops->log);
	if (s->ops != &journal_ops) {
		r = outbuf_new(STDOUT_FILENO, &s->out);
		if (r < 0) {
			free(s);
			return r;
		}
	}
	*ret = s;
	return 0;
}

struct sink *sink_free(struct sink *s)
{
	if (!s)
		return NULL;
	for (unsigned int i = 0; i < s->n_taps; i++)
		if (s->taps[i].close)
			s->taps[i].close(s->taps[i].ctx);
	outbuf_free(s->out);
	summary_free(s->summary);
	free(s);
	return NULL;
}

/* ---- taps ---- */

int sink_add_tap(struct sink *s, const struct sink_tap *tap)
{
	if (s->n_taps >= SINK_MAX_TAPS)
		return -ENOSPC;
	s->tap_failed[s->n_taps] = false;
	s->taps[s->n_taps++] = *tap;
	return 0;
}

int sink_open_taps(struct sink *s, const struct options *o)
{
	struct sink_tap tap;
	int r;

	if (o->pcap) {
		r = pcapfile_open(o->pcap, &tap);
		if (r < 0)
			return r;
		sink_add_tap(s, &tap);
	}
	if (o->metrics_file) {
		r = metricsfile_open(o->metrics_file, &tap);
		if (r < 0)
			return r;
		sink_add_tap(s, &tap);
	}
	if (o->summary) {
		r = summary_new(&s->summary);
		if (r < 0) {
			log_error_errno(r, "--summary: cannot allocate its table");
			return r;
		}
		s->summary_only = o->summary_only;
	}
	return 0;
}

/* A tap's failure is its own: said once, then it is left out. */
static void tap_result(struct sink *s, unsigned int i, int r)
{
	if (r >= 0)
		return;
	s->tap_failed[i] = true;
	log_error("%s: writing failed: %s; it is not written any more", s->taps[i].name,
		  strerror(-r));
}

static void taps_timeline(struct sink *s, const struct timeline *tl, const struct explain *ex)
{
	for (unsigned int i = 0; i < s->n_taps; i++)
		if (!s->tap_failed[i] && s->taps[i].timeline)
			tap_result(s, i, s->taps[i].timeline(s->taps[i].ctx, tl, ex));
}

static void taps_stats(struct sink *s, const struct capture_stats *st)
{
	for (unsigned int i = 0; i < s->n_taps; i++)
		if (!s->tap_failed[i] && s->taps[i].stats)
			tap_result(s, i, s->taps[i].stats(s->taps[i].ctx, st));
}

/* ---- records ---- */

/*
 * The taps see the timelines the output was handed, also one a full
 * buffer dropped (a slow reader of stdout does not thin the capture
 * file), but none after the output failed: the daemon stops then.
 */
int sink_text(const struct sink *s, FILE *out, const struct timeline *tl, const struct explain *ex)
{
	return format_text_styled(out, tl, ex, &s->style);
}

int sink_timeline(struct sink *s, const struct timeline *tl, const struct explain *ex)
{
	int r;

	if (s->error)
		return s->error;
	/* --summary-only: counted in place of its record, so the account stays whole */
	if (s->summary_only) {
		summary_count(s->summary, tl, ex);
		s->summarised++;
		taps_timeline(s, tl, ex);
		return 0;
	}
	r = s->ops->timeline(s, tl, ex);
	/* what the output took: the summary's counts sum to the timelines emitted */
	if (r >= 0 && s->summary)
		summary_count(s->summary, tl, ex);
	if (r >= 0 || r == -ENOBUFS)
		taps_timeline(s, tl, ex);
	return r;
}

void sink_summary_count(struct sink *s, const struct timeline *tl, const struct explain *ex)
{
	if (s->summary)
		summary_count(s->summary, tl, ex);
}

int sink_summary(struct sink *s, const char *reason)
{
	struct summary_view v;

	if (!s->summary)
		return 0;
	if (s->error)
		return s->error;
	summary_view(s->summary, &v);
	return s->ops->summary(s, &v, reason);
}

bool sink_summary_wanted(const struct sink *s)
{
	return s->summary != NULL;
}

uint64_t sink_summarised(const struct sink *s)
{
	return s->summarised;
}

/* Also after stdout failed: the stop line on stderr is owed, and the taps' last account. */
int sink_stats(struct sink *s, const struct capture_stats *st)
{
	int r = s->ops->stats(s, st);

	taps_stats(s, st);
	return r;
}

int sink_connection(struct sink *s, const struct sink_connection *c)
{
	return s->error ? s->error : s->ops->connection(s, c);
}

int sink_mapping(struct sink *s, const struct natmap *m)
{
	return s->error ? s->error : s->ops->mapping(s, m);
}

int sink_result(struct sink *s, const struct sink_result *r)
{
	if (s->error)
		return s->error;
	return s->ops->result(s, r);
}

void sink_lifecycle(struct sink *s, const struct sink_entry *e)
{
	s->ops->lifecycle(s, e);
}

int sink_nat_table(enum output_kind kind, const struct natmap *rows, size_t n)
{
	char line[1024];
	struct jsonw w;
	int r = 0;

	if (ops_of(kind) != &json_ops)
		return natmap_table_print(stdout, rows, n);
	for (size_t i = 0; i < n && r == 0; i++) {
		jsonw_init(&w, line, sizeof(line));
		natmap_json(&w, NULL, &rows[i]);
		r = jsonw_write_line(&w, stdout);
		jsonw_release(&w);
	}
	return r;
}

bool sink_groups_connections(const struct sink *s)
{
	/* --summary-only prints no timelines, grouped or not */
	return s->ops->groups_connections && !s->summary_only;
}

int sink_error(const struct sink *s)
{
	return s->error;
}

uint64_t sink_journal_errors(const struct sink *s)
{
	return s->journal_errors;
}

int sink_poll_fd(const struct sink *s)
{
	return s->out && outbuf_pending(s->out) ? outbuf_fd(s->out) : -1;
}

bool sink_queued(const struct sink *s)
{
	return s->queued;
}

int sink_flush(struct sink *s)
{
	int r;

	s->queued = false;
	if (!s->out)
		return 0;
	r = outbuf_flush(s->out);
	return r < 0 ? failed(s, r) : 0;
}

int sink_drain(struct sink *s, int timeout_ms)
{
	int r;

	if (!s->out)
		return 0;
	r = outbuf_drain(s->out, timeout_ms);
	/* a reader that goes on later finds half a line last: say so, once */
	if (outbuf_stats(s->out)->cut_left && !s->cut_said) {
		log_warning(
			"the last line on stdout is cut short: its reader did not take the rest (within %d ms at exit, or the write failed)",
			OUTBUF_CUT_WAIT_MS);
		s->cut_said = true;
	}
	return r < 0 ? failed(s, r) : 0;
}

const struct outbuf *sink_outbuf(const struct sink *s)
{
	return s->out;
}
