/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>

#include "stats.h"

static const char *const reason_names[] = {
	[STATS_INTERVAL] = "interval",
	[STATS_SIGNAL] = "signal",
	[STATS_EXIT] = "exit",
};

void stats_compute(const struct stats_input *in, const struct timeline_stats *ts,
		   enum stats_reason reason, struct capture_stats *ret)
{
	uint64_t accounted = ts->timelines + in->in_flight;
	/* the counter counts a packet once per trace chain that selects it */
	uint64_t first = in->selected > ts->reselected ? in->selected - ts->reselected : 0;
	uint64_t last = in->selected_last > ts->reselected ? in->selected_last - ts->reselected : 0;

	*ret = (struct capture_stats){
		.reason = reason,
		.selected_known = in->selected_known,
		.selected = last,
		.reselected = ts->reselected,
		.emitted = in->printed,
		.complete = ts->timelines - ts->incomplete,
		.incomplete = ts->incomplete,
		/* only --count leaves timelines unprinted; the output's losses apart */
		.not_printed = ts->timelines > in->printed + in->output_dropped
				       ? ts->timelines - in->printed - in->output_dropped
				       : 0,
		.output_dropped = in->output_dropped,
		.in_flight = in->in_flight,
		.enobufs = in->enobufs,
		.queue_overruns = in->queue_overruns,
		.events = ts->events,
		.malformed = in->malformed,
		.evicted = ts->evicted,
		.events_dropped = ts->steps_dropped,
		.names_dropped = ts->names_dropped,
		.chains_dropped = ts->hdrs_dropped,
		.rules_unnamed = in->rules_unnamed,
		.joined = ts->joined,
		.foreign = ts->foreign,
		.follow = in->follow,
		.follow_connections = in->follow_connections,
		.follow_full = in->follow_full,
		.follow_no_reply = in->follow_no_reply,
		.verify = in->verify,
		.verify_replayed = in->verify_replayed,
		.verify_not_enough = in->verify_not_enough,
		.verify_limited = in->verify_limited,
		.verify_failed = in->verify_failed,
	};
	if (!in->selected_known)
		return;
	/*
	 * Selected packets with no timeline at all, by the first reading:
	 * the socket was drained after it, so a packet selected in between
	 * can only make this smaller, never invent a loss.
	 */
	if (first > accounted)
		ret->lost = first - accounted;
	/*
	 * The last reading comes after every timeline was counted, so it is
	 * at least accounted + lost; should a counter ever say less (a
	 * counter reset), the timelines are the surer count.
	 */
	if (ret->selected < accounted + ret->lost)
		ret->selected = accounted + ret->lost;
	/* selected after the first reading, not read yet: on their way */
	ret->in_flight = ret->selected - ts->timelines - ret->lost;
}

void stats_json(struct jsonw *w, const struct capture_stats *st)
{
	jsonw_object_open(w, NULL);
	jsonw_string(w, "type", "stats");
	jsonw_string(w, "reason", reason_names[st->reason]);
	if (st->selected_known) {
		jsonw_uint(w, "selected", st->selected);
		jsonw_uint(w, "lost", st->lost);
	} else {
		jsonw_null(w, "selected");
		jsonw_null(w, "lost");
	}
	jsonw_uint(w, "emitted", st->emitted);
	jsonw_uint(w, "complete", st->complete);
	jsonw_uint(w, "incomplete", st->incomplete);
	jsonw_uint(w, "not_printed", st->not_printed);
	jsonw_uint(w, "output_dropped", st->output_dropped);
	jsonw_uint(w, "in_flight", st->in_flight);
	jsonw_uint(w, "enobufs", st->enobufs);
	jsonw_uint(w, "queue_overruns", st->queue_overruns);
	jsonw_uint(w, "events", st->events);
	jsonw_uint(w, "malformed", st->malformed);
	jsonw_uint(w, "evicted", st->evicted);
	jsonw_uint(w, "events_dropped", st->events_dropped);
	jsonw_uint(w, "names_dropped", st->names_dropped);
	jsonw_uint(w, "chains_dropped", st->chains_dropped);
	jsonw_uint(w, "joined", st->joined);
	jsonw_uint(w, "foreign", st->foreign);
	jsonw_uint(w, "reselected", st->reselected);
	jsonw_uint(w, "rules_unnamed", st->rules_unnamed);
	if (st->follow) {
		jsonw_uint(w, "follow_connections", st->follow_connections);
		jsonw_uint(w, "follow_full", st->follow_full);
		jsonw_uint(w, "follow_no_reply", st->follow_no_reply);
	}
	if (st->verify) {
		jsonw_uint(w, "verify_replayed", st->verify_replayed);
		jsonw_uint(w, "verify_not_enough", st->verify_not_enough);
		jsonw_uint(w, "verify_limited", st->verify_limited);
		jsonw_uint(w, "verify_failed", st->verify_failed);
	}
	jsonw_object_close(w);
}

int stats_text(FILE *out, const struct capture_stats *st)
{
	if (st->selected_known)
		fprintf(out, "%" PRIu64 " packets selected, %" PRIu64 " lost, ", st->selected,
			st->lost);
	else
		fputs("packets selected unknown (trace counter unreadable), ", out);
	fprintf(out, "%" PRIu64 " timelines emitted (%" PRIu64 " complete, %" PRIu64 " incomplete",
		st->emitted, st->complete, st->incomplete);
	if (st->not_printed)
		fprintf(out, ", %" PRIu64 " not printed after --count", st->not_printed);
	if (st->output_dropped)
		fprintf(out, ", %" PRIu64 " not delivered: output too slow or failed",
			st->output_dropped);
	fprintf(out,
		"), %" PRIu64 " in flight, %" PRIu64 " receive overruns (ENOBUFS), %" PRIu64
		" events, %" PRIu64 " malformed",
		st->in_flight, st->enobufs, st->events, st->malformed);
	if (st->queue_overruns)
		fprintf(out, ", %" PRIu64 " receive queue overruns (--buffer-size)",
			st->queue_overruns);
	if (st->evicted || st->events_dropped || st->names_dropped || st->chains_dropped)
		fprintf(out,
			"; limits hit: %" PRIu64 " timelines evicted, %" PRIu64
			" events not kept, %" PRIu64 " names not kept, %" PRIu64
			" base chain entries not kept",
			st->evicted, st->events_dropped, st->names_dropped, st->chains_dropped);
	if (st->rules_unnamed)
		fprintf(out,
			"; %" PRIu64
			" rule texts not read: a changed chain waits for its re-listing, or a chain is over the rule cache's size",
			st->rules_unnamed);
	if (st->joined)
		fprintf(out, "; %" PRIu64 " trace id changes joined", st->joined);
	if (st->foreign)
		fprintf(out, "; %" PRIu64 " packets of other tracers ignored", st->foreign);
	if (st->follow)
		fprintf(out,
			"; %" PRIu64 " connections followed, %" PRIu64 " without a reply, %" PRIu64
			" not followed (--follow-max)",
			st->follow_connections, st->follow_no_reply, st->follow_full);
	if (st->verify)
		fprintf(out,
			"; hints replayed: %" PRIu64 " (%" PRIu64 " not enough), %" PRIu64
			" not replayed (1/s), %" PRIu64 " failed",
			st->verify_replayed, st->verify_not_enough, st->verify_limited,
			st->verify_failed);
	return ferror(out) ? -EIO : 0;
}
