/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_TIMELINE_INT_H
#define NATTRACED_TIMELINE_INT_H

/*
 * The grouping table's insides, shared by timeline.c (slots, ids, the
 * LRU) and timeline_join.c (the fingerprint index). Only src/assemble/
 * includes this.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "strpool.h"
#include "timeline.h"

#define NONE (-1)

/* A timeline and what only the table needs of it. */
struct tl_slot {
	struct timeline tl;
	int8_t cur_base;
	bool seen;	    /* an event of it was added */
	uint32_t last_mark; /* the mark its latest event reported (0: none) */
	uint32_t ring, fp;
	int32_t hnext, prev, next, fpnext; /* hash, LRU and fingerprint links */
	bool in_use, in_fp;
	uint8_t pool; /* its names' pool */
};

static inline struct tl_slot *slot_of(const struct timeline *tl)
{
	return (struct tl_slot *)((char *)tl - offsetof(struct tl_slot, tl));
}

struct timeline_table {
	struct timeline_config cfg;
	/*
	 * Names, in two generations so that a long run with churning chain
	 * names never runs out: a timeline interns into the pool that was
	 * current when it started; when that one is full and no timeline
	 * uses the other any more, the other is emptied and becomes current.
	 */
	struct strpool *pools[2];
	unsigned int live[2]; /* timelines in flight per pool */
	uint8_t cur;
	char *own_table; /* our table's name */
	struct tl_slot *slots;
	int32_t *buckets;
	int32_t *fp_buckets; /* by packet fingerprint */
	uint32_t bucket_mask;
	uint64_t last_unjoined_ns; /* a foreign id's start, 0 never */
	int32_t free_head;
	/* least recently active first */
	int32_t lru_head, lru_tail;
	unsigned int inflight;
	uint32_t seq;
	bool loss_window; /* between an overrun report and an empty socket */
	struct timeline_stats stats;
};

/* The fingerprint index (timeline_join.c). */
void tl_fp_unlink(struct timeline_table *t, int32_t i);
/* Index our timeline by the headers it was last seen with. */
void tl_fp_update(struct timeline_table *t, int32_t i, const struct packet_info *p);
/* Has tl entered this base chain? Names compared as strings: tl's may be in another pool. */
bool tl_entered(const struct timeline *tl, uint8_t family, const char *table, const char *chain);
/*
 * Our timeline in flight that this packet, under a new id, continues:
 * the oldest with the same fingerprint that has not entered the base
 * chain, NONE if none.
 */
int32_t tl_find_continued(const struct timeline_table *t, const struct packet_info *p,
			  uint8_t family, const char *table, const char *chain);

#endif
