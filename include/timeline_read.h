/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_TIMELINE_READ_H
#define NATTRACED_TIMELINE_READ_H

/*
 * Reading a finished timeline (timeline_read.c): what its steps mean,
 * the jump stack of a base chain entry, and its summary. timeline.h is
 * how one is built; this is how explain and the renderers read one.
 */
#include <stdbool.h>
#include <stdint.h>

#include "packet.h"
#include "timeline.h"

enum timeline_verdict {
	TL_VERDICT_UNKNOWN = 0,
	TL_VERDICT_ACCEPT,
	TL_VERDICT_DROP,
	TL_VERDICT_QUEUE,
	TL_VERDICT_STOLEN,
};

/*
 * The kernel's event for the end of a chain (6.x sends no RETURN type): a
 * rule event without a handle, verdict continue.
 */
bool timeline_step_is_chain_end(const struct tl_step *s);
/* The chain end, an explicit return, or the kernel's RETURN type: back to the caller. */
bool timeline_step_leaves_chain(const struct tl_step *s);

/*
 * The first kept step of the base chain entry step i is in: the entry's
 * header event, or the first step after the gap when that was dropped.
 * *ret_whole says whether the entry is kept from its start.
 */
int timeline_entry_start(const struct timeline *tl, int i, bool *ret_whole);
/* The base chain entry of step i, NULL if unknown. */
const struct tl_hdr *timeline_entry_hdr(const struct timeline *tl, int i);
/* Does a base chain entry (or what was kept of it after the gap) begin at step i? */
bool timeline_entry_begins(const struct timeline *tl, int i);
/* The first step after the entry step i is in, n_steps after the last. */
int timeline_entry_next(const struct timeline *tl, int i);
/*
 * Did step i change the packet's mark (to steps[i].mark)? *ret_from is
 * the mark before, *ret_known false when the event before it was not
 * kept (--max-events).
 */
bool timeline_mark_change(const struct timeline *tl, int i, uint32_t *ret_from, bool *ret_known);
/* The first conntrack attributes the packet was seen with, NULL if none. */
const struct tl_ct *timeline_first_ct(const struct timeline *tl);

/* What a timeline amounts to: verdict, cause and NAT rewrites. */
#define TL_MAX_PATH 16
#define TL_MAX_NAT  4

/*
 * The jump stack of one base chain entry, replayed from its events: a
 * jump pushes, a goto pushes a frame that returns past its caller, and
 * leaving a chain (its end, a return) pops. The one walker that paths,
 * vias, set hints and the text's indentation share.
 */
struct tl_frame {
	const char *chain;
	int via; /* step that entered it, -1 for the base chain */
	bool is_goto;
	/* for the caller's own use, zeroed on push */
	uint64_t last;
	bool done;
};

struct tl_walk {
	struct tl_frame st[TL_MAX_PATH];
	unsigned int depth; /* >= 1 */
};

void tl_walk_begin(struct tl_walk *w, const char *base_chain);
/*
 * After step i (s) was met: push its jump or goto, or pop when it leaves
 * its chain. false when a jump or goto did not fit (TL_MAX_PATH deep);
 * the stack is then as it was.
 */
bool tl_walk_step(struct tl_walk *w, const struct tl_step *s, int i);
/* Back to the caller: a goto's frame returns past the chain it left. */
void tl_walk_pop(struct tl_walk *w);
static inline struct tl_frame *tl_walk_top(struct tl_walk *w)
{
	return &w->st[w->depth - 1];
}
/* Events missing: pop until chain is on top, or start over with it as the base. */
void tl_walk_sync(struct tl_walk *w, const char *chain);
/* The chains from the base chain to the top, a goto replacing its caller. */
unsigned int tl_walk_path(const struct tl_walk *w, const char **ret);

enum tl_nat_type {
	TL_NAT_DNAT,
	TL_NAT_SNAT
};

struct tl_nat {
	enum tl_nat_type type;
	struct packet_info before, after;
	int step; /* first step that saw the rewritten header */
};

struct tl_summary {
	enum timeline_verdict verdict;
	int cause; /* step index deciding the verdict, -1 none */
	/*
	 * The verdict is unknown although the last event seen has one:
	 * events may be missing after it (overrun, eviction), so it may be
	 * from the middle of the path. -1 when that is not the case.
	 */
	int last_seen;
	/*
	 * Accepted, and no base chain but our own saw the packet: nothing in
	 * the ruleset stood in its way (e.g. after nft flush ruleset).
	 */
	bool only_own;
	const char *path[TL_MAX_PATH]; /* chains from the base chain */
	unsigned int n_path;
	struct tl_nat nat[TL_MAX_NAT];
	unsigned int n_nat;
	const struct tl_hdr *packet; /* as first seen, NULL if unknown */
};

void timeline_summarize(const struct timeline *tl, struct tl_summary *ret);
const char *timeline_verdict_name(enum timeline_verdict v);
/* The timeline verdict a kernel verdict code stands for (queue numbers masked). */
enum timeline_verdict timeline_verdict_of(int32_t verdict);

#endif
