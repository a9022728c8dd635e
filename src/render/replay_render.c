/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A replayed packet's comparison, after its timeline: what the live run
 * said, and what the clone said with the change (or without one).
 *   before: drop by rule `drop` (handle 11) in inet filter allowed_dnats
 *   with the change: accept, forwarded out of lan0 to 203.0.113.10:22 from ...
 */
#include <stdio.h>
#include <string.h>

#include "jsonw.h"
#include "replay_render.h"

const char *replay_verdict_name(enum replay_verdict v)
{
	static const char *const names[] = {
		[REPLAY_UNKNOWN] = "unknown", [REPLAY_ACCEPT] = "accept", [REPLAY_DROP] = "drop",
		[REPLAY_REJECT] = "reject",   [REPLAY_OTHER] = "other",
	};

	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}

void replay_outcome_str(const struct replay_outcome *o, char *buf, size_t len)
{
	if (o->verdict == REPLAY_ACCEPT && o->where[0])
		snprintf(buf, len, "accept, %s", o->where);
	else if (o->where[0])
		snprintf(buf, len, "%s; %s", o->cause, o->where);
	else
		snprintf(buf, len, "%s", o->cause);
}

static const char *after_label(const struct replay_report *rep)
{
	return rep->changed ? "with the change" : "replayed";
}

void replay_report_text(FILE *out, const void *ctx)
{
	const struct replay_report *rep = ctx;
	char after[1024];

	replay_outcome_str(rep->outcome, after, sizeof(after));
	fprintf(out, "replay %s:\n", rep->pkt->id);
	if (rep->pkt->before[0])
		fprintf(out, "  before: %s\n", rep->pkt->before);
	fprintf(out, "  %s: %s\n", after_label(rep), after);
	if (rep->outcome->ct_recreated)
		fprintf(out,
			"  note: its connection's conntrack entry was recreated in the clone (established%s), so this is the path of a packet of that connection\n",
			rep->pkt->ct.from_mapping ? ", with the recorded NAT mapping" : "");
	else if (rep->pkt->established)
		fprintf(out,
			"  note: live, this packet belonged to an established connection; the clone has no conntrack entry for it%s%s, so this is a new connection's path\n",
			rep->outcome->ct_error[0] ? ": " : "", rep->outcome->ct_error);
	fputc('\n', out);
}

void replay_outcome_json(struct jsonw *w, const char *key, const struct replay_outcome *o)
{
	char line[1024];

	jsonw_object_open(w, key);
	jsonw_string(w, "verdict", replay_verdict_name(o->verdict));
	jsonw_string(w, "cause", o->cause);
	if (o->has_handle)
		jsonw_uint(w, "handle", o->handle);
	else
		jsonw_null(w, "handle");
	jsonw_bool(w, "by_policy", o->by_policy);
	jsonw_bool(w, "by_change", o->by_change);
	jsonw_bool(w, "outside_ruleset", o->outside);
	jsonw_bool(w, "traced", o->traced);
	if (o->where[0])
		jsonw_string(w, "where", o->where);
	else
		jsonw_null(w, "where");
	if (o->seen_out)
		jsonw_string(w, "out", o->out_if);
	else
		jsonw_null(w, "out");
	replay_outcome_str(o, line, sizeof(line));
	jsonw_string(w, "summary", line);
	jsonw_object_close(w);
}

void replay_report_json(struct jsonw *w, const void *ctx)
{
	const struct replay_report *rep = ctx;

	jsonw_object_open(w, NULL);
	jsonw_string(w, "type", "replay");
	jsonw_string(w, "id", rep->pkt->id);
	jsonw_bool(w, "change", rep->changed);
	if (rep->pkt->before[0])
		jsonw_string(w, "before", rep->pkt->before);
	else
		jsonw_null(w, "before");
	replay_outcome_json(w, "after", rep->outcome);
	jsonw_bool(w, "established", rep->pkt->established);
	/* the entry recreated: the replay is a packet of its connection */
	jsonw_bool(w, "conntrack_recreated", rep->outcome->ct_recreated);
	jsonw_object_close(w);
}
