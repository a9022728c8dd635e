/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_EXPLAIN_TEXT_H
#define NATTRACED_EXPLAIN_TEXT_H

/*
 * The words for what explain_timeline() found (src/render/explain_text.c):
 * the renderers, the journal and the pcap comments share them, so the
 * outputs of one packet say the same thing.
 */
#include <stdbool.h>
#include <stddef.h>

#include "explain.h"

/* Pure, no lookups. */

/*
 * How a step is named: "policy", "end of chain", "rule `TEXT` (handle N)"
 * (with ", comment \"C\"" when with_comment and the rule has one, and
 * ", deleted"), or "rule handle N (deleted)" / "(unknown)" without text.
 * Returns the length snprintf would write.
 */
int explain_step_str(const struct tl_step *s, const struct explain_rule *rule, bool with_comment,
		     char *buf, size_t len);
/* The interface name of header h ("iif" or "oif"), NULL if unknown. */
const char *explain_ifname(const struct explain *ex, const struct timeline *tl,
			   const struct tl_hdr *h, bool in);
/*
 * The hook of a base chain entry: for our own trace chain from its name
 * (trace_prerouting), so that a packet that passed a hook where only our
 * chain saw it (an established flow skips the nat chains) has the same
 * hooks as the first packet of its flow; else the hook of its events.
 * NULL if unknown.
 */
const char *explain_hdr_hook(const struct timeline *tl, const struct explain *ex,
			     const struct tl_hdr *h);

/*
 * One-line cause: "drop by rule `drop` (handle 11) in inet filter
 * allowed_dnats, reached from inet filter forward at hook forward via jump
 * allowed_dnats (handle 8)". Returns the length snprintf would write.
 */
int explain_cause_str(const struct timeline *tl, const struct explain *ex, char *buf, size_t len);
/* "203.0.113.10 . 22 is not in set inet filter allow_in" (or why not checked). */
int explain_hint_str(const struct explain_hint *h, char *buf, size_t len);
/* "nft add element inet filter allow_in { 203.0.113.10 . 22 }", or 0 and "". */
int explain_hint_command(const struct explain_hint *h, char *buf, size_t len);
/* "masquerade 203.0.113.10:40000 -> 198.51.100.1:40000 via wan0" */
int explain_nat_str(const struct explain_nat *n, char *buf, size_t len);
/* "before -> after" endpoints; after may be "?" */
void explain_nat_endpoints(const struct explain_nat *n, char *from, char *to, size_t len);
const char *explain_nat_kind_name(enum explain_nat_kind k);
const char *explain_nat_source_name(enum explain_nat_source s);
/* "reject", "drop", "accept", "queue", "stolen", "unknown" */
const char *explain_verdict_kind(const struct explain *ex);

#endif
