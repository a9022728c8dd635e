/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The words text.c and json.c share, so that the two cannot drift. */
#include <stdio.h>

#include "explain.h"
#include "trace.h"
#include "vanish.h"
#include "words.h"

const char *words_step_type(const struct tl_step *s)
{
	if (s->type == TRACE_TYPE_POLICY)
		return "policy";
	if (s->type == TRACE_TYPE_RETURN || timeline_step_is_chain_end(s))
		return "return";
	return "rule";
}

const char *words_step_verdict(const struct tl_step *s)
{
	return s->has_verdict ? trace_verdict_name(s->verdict) : NULL;
}

const char *const words_ct_states[WORDS_CT_STATES] = {
	"invalid", "established", "related", "new", NULL, NULL, "untracked",
};

/*
 * Conntrack state bits: NF_CT_STATE_BIT(ctinfo) for a tracked packet,
 * NF_CT_STATE_INVALID_BIT (1) and NF_CT_STATE_UNTRACKED_BIT (64).
 */
void words_bits(uint32_t bits, const char *const *names, size_t n,
		void (*add)(void *ctx, const char *name), void *ctx)
{
	char buf[16];

	for (unsigned int b = 0; b < 32; b++) {
		if (!(bits & (1u << b)))
			continue;
		if (b < n && names[b]) {
			add(ctx, names[b]);
		} else {
			snprintf(buf, sizeof(buf), "bit%u", b);
			add(ctx, buf);
		}
	}
}

/* "forwarded out of lan0 via 203.0.113.254, after prerouting: no later chain" */
void words_after_ruleset(const struct explain *ex, char *buf, size_t len)
{
	int n = vanish_next_str(&ex->outside_why, buf, len);

	if (n >= 0 && (size_t)n < len && ex->outside_after)
		snprintf(buf + n, len - (size_t)n,
			 " (the kernel's answer; no chain of the ruleset follows %s)",
			 ex->outside_after);
}
