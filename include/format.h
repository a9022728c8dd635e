/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_FORMAT_H
#define NATTRACED_FORMAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "jsonw.h"
#include "timeline.h"

struct natmap;

/* What formatting needs from the edges; any callback may be NULL. */
struct resolver {
	void *ctx;
	const char *(*rule)(void *ctx, uint8_t family, const char *table,
			    uint64_t handle, bool *ret_deleted);
	const char *(*hook)(void *ctx, uint8_t family, const char *table,
			    const char *chain);
	const char *(*ifname)(void *ctx, uint32_t ifindex);
	/* The NAT mapping of a conntrack id (--nat-log), NULL if none known. */
	const struct natmap *(*mapping)(void *ctx, uint32_t ct_id);
};

/*
 * Append the object --output json prints for one timeline. 0, or -ENOMEM
 * when the writer failed.
 */
int format_json(struct jsonw *w, const struct timeline *tl,
		const struct resolver *r);
/* One line of JSON. 0 or -errno. */
int format_json_line(FILE *out, const struct timeline *tl,
		     const struct resolver *r);
/* The human-readable timeline. 0 or -errno. */
int format_text(FILE *out, const struct timeline *tl,
		const struct resolver *r);

#endif
