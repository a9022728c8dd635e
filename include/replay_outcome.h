/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_REPLAY_OUTCOME_H
#define NATTRACED_REPLAY_OUTCOME_H

/*
 * What a packet replayed in a clone did (replay.h), as the renderers
 * (replay_render.c, checkreport.c) print it: no kernel here.
 */
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum replay_verdict {
	REPLAY_UNKNOWN = 0,
	REPLAY_ACCEPT,
	REPLAY_DROP,
	REPLAY_REJECT,
	REPLAY_OTHER, /* queue, stolen */
};

struct replay_outcome {
	bool traced; /* the clone's kernel sent trace events for it */
	enum replay_verdict verdict;
	/* drop/reject by a rule: its handle, the source's unless --ruleset */
	bool has_handle;
	uint64_t handle;
	bool by_policy;
	bool by_change; /* the deciding rule came with --change */
	bool outside;	/* accepted by the ruleset, refused by the kernel after */
	char cause[512]; /* the text output's verdict line */
	char where[256]; /* "forwarded out of lan0 to 203.0.113.10:22", seen */
	bool seen_out;
	char out_if[IF_NAMESIZE];
	/* an established packet's conntrack entry was recreated in the clone */
	bool ct_recreated;
	char ct_error[128]; /* or why not, "" when not tried */
};

const char *replay_verdict_name(enum replay_verdict v);
/* "accept, forwarded out of lan0 to 203.0.113.10:22"; "drop by rule ..." */
void replay_outcome_str(const struct replay_outcome *o, char *buf, size_t len);

#endif
