/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_SUMMARY_H
#define NATTRACED_SUMMARY_H

/*
 * --summary: timelines counted by path, not by address, so that a flood
 * reads as a few rows. A path is the verdict, what decided it (the rule's
 * family, table, chain and handle, or the chain's policy, and the hook),
 * the hooks the packet passed, the NAT done to it and the deciding rule's
 * owner. Each row keeps its first packet's five-tuple as an example.
 *
 * Pure: counts and renders; sink.c decides when and where. The table is
 * bounded: SUMMARY_MAX_PATHS distinct paths are counted one by one, the
 * timelines of any path past that are summed into "other". A view shows
 * at most SUMMARY_MAX_ROWS rows, by count; the rest is "other" too.
 * Counts run from the start (cumulative), like the statistics records.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "explain.h"
#include "jsonw.h"
#include "timeline.h"

#define SUMMARY_MAX_PATHS 1024
#define SUMMARY_MAX_ROWS  100

#define SUMMARY_NAME_MAX 256 /* nftables' table and chain names */
#define SUMMARY_TEXT_MAX 160

struct summary_row {
	char verdict[16];
	/* the deciding event; all "" when nothing decided (lost events) */
	char family[16], table[SUMMARY_NAME_MAX], chain[SUMMARY_NAME_MAX];
	char handle[24];	      /* the rule's handle, "policy", or "" */
	char hook[16];		      /* of the deciding event's base chain, "" unknown */
	char hooks[96];		      /* the hooks passed, in order: "prerouting,input" */
	char nat[64];		      /* the rewrites: "dnat,masquerade", "" none */
	char owner[SUMMARY_NAME_MAX]; /* owner_str(), "" unknown */
	uint64_t count;
	uint64_t hash;
	uint32_t order; /* first seen: ties keep it */
	/* the first packet's, an example; not part of the path */
	char proto[16], src[64], dst[64];
	char rule[SUMMARY_TEXT_MAX]; /* the deciding rule's text, "" unknown */
};

struct summary;

struct summary_view {
	const struct summary_row *rows[SUMMARY_MAX_ROWS]; /* by count, highest first */
	unsigned int n;
	uint64_t timelines;   /* counted in all */
	uint64_t paths;	      /* distinct paths the table holds */
	uint64_t other_count; /* timelines not in rows[]: later rows, paths past the table */
	uint64_t other_paths; /* distinct paths among them the table holds */
	bool table_full;      /* paths past SUMMARY_MAX_PATHS went into other unseen */
};

int summary_new(struct summary **ret);
struct summary *summary_free(struct summary *s);

/* Count one explained timeline. */
void summary_count(struct summary *s, const struct timeline *tl, const struct explain *ex);
/* Timelines counted so far. */
uint64_t summary_timelines(const struct summary *s);
/* The rows now, sorted; pointers into s, valid until the next count. */
void summary_view(const struct summary *s, struct summary_view *ret);

/* The row's path in words, "drop by rule inet filter input handle 11". */
int summary_path_str(const struct summary_row *r, char *buf, size_t len);
/* The table, with a header line and the "other" line. 0 or -EIO. */
int summary_text(FILE *out, const struct summary_view *v, const char *reason);
/* {"type":"summary", ...}: appended to w. */
void summary_json(struct jsonw *w, const struct summary_view *v, const char *reason);
/* One row as an object (the journal's NATTRACE_JSON). */
void summary_row_json(struct jsonw *w, const char *key, const struct summary_row *r);

#endif
