/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_REPLAY_RENDER_H
#define NATTRACED_REPLAY_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "replay_outcome.h"
#include "replaypkt.h"

struct jsonw;

/* One replayed packet: its input and outcome (replay.c), for the sink. */
struct replay_report {
	const struct replay_packet *pkt;
	const struct replay_outcome *outcome;
	bool changed; /* with --change or --change-file */
};

/* sink_result() renderers; ctx is a struct replay_report */
void replay_report_text(FILE *out, const void *ctx);
void replay_report_json(struct jsonw *w, const void *ctx);
/* {"verdict", "cause", "handle", ..., "summary"} under key */
void replay_outcome_json(struct jsonw *w, const char *key, const struct replay_outcome *o);

#endif
