/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_METRICS_H
#define NATTRACED_METRICS_H

/*
 * --metrics-file: the Prometheus text exposition format (version 0.0.4),
 * as node_exporter's textfile collector reads it. Pure: counts timelines
 * and renders text; metricsfile.c writes the file.
 *
 * nattraced_timelines_total counts timelines by verdict and by what
 * decided it: family, table, chain, hook, rule handle ("policy" for a
 * chain's policy, "" when nothing decided) and the owner of the rule.
 * A label set is a series for the whole run, and there are at most
 * METRICS_MAX_SERIES: rule series up to METRICS_MAX_RULE_SERIES, then
 * every new rule is summed into handle="other" (one series per verdict
 * and hook, METRICS_MAX_SERIES - METRICS_MAX_RULE_SERIES at most).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "explain.h"
#include "stats.h"
#include "timeline.h"

#define METRICS_MAX_SERIES	500
/* verdicts (6) by hooks (5, or none) */
#define METRICS_OTHER_SERIES	36
#define METRICS_MAX_RULE_SERIES (METRICS_MAX_SERIES - METRICS_OTHER_SERIES)
/* Distinct label sets folded into "other" that are counted one by one. */
#define METRICS_FOLDED_COUNTED	16384

struct metrics;

int metrics_new(struct metrics **ret);
struct metrics *metrics_free(struct metrics *m);

/* Count one timeline (explained). */
void metrics_count(struct metrics *m, const struct timeline *tl, const struct explain *ex);
/* Series of nattraced_timelines_total so far. */
unsigned int metrics_series(const struct metrics *m);

/* Every metric, statistics (stats.h) and timelines. 0 or -errno (-EIO). */
int metrics_text(FILE *out, const struct metrics *m, const struct capture_stats *st);

/*
 * A label value as the format wants it between double quotes: backslash,
 * double quote and line feed escaped. Returns the length it needs; cut to
 * len (never inside an escape) and NUL-terminated when len > 0.
 */
size_t metrics_escape(const char *value, char *buf, size_t len);

#endif
