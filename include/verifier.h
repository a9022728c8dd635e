/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_VERIFIER_H
#define NATTRACED_VERIFIER_H

/*
 * --verify (verifier.c): a live hint's command replayed with its packet
 * in a warm clone of the namespace, kept by a child process.
 */
#include <stdint.h>

struct explain;
struct options;
struct timeline;
struct verifier;

struct verify_stats {
	uint64_t replayed;   /* hints replayed */
	uint64_t not_enough; /* ... whose change still left the packet dropped */
	uint64_t limited;    /* not replayed: one a second */
	uint64_t failed;     /* not replayed: no clone, no answer in time */
};

/*
 * Fork the replay process (before any thread) and wait for its clone.
 * A clone refused (no CAP_SYS_ADMIN, RestrictNamespaces=) is one warning:
 * hints stay unverified, the trace goes on. 0, or -ENOMEM.
 */
int verifier_start(const struct options *opts, struct verifier **ret);
struct verifier *verifier_free(struct verifier *v);
/* The first hint with a command gets "verified" or "not enough" (explain.h). */
void verifier_annotate(struct verifier *v, const struct timeline *tl, struct explain *ex);
const struct verify_stats *verifier_stats(const struct verifier *v);

#endif
