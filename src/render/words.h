/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_RENDER_WORDS_H
#define NATTRACED_RENDER_WORDS_H

/*
 * The render folder's own words, shared by text.c and json.c (not used
 * outside src/render/).
 */
#include <stddef.h>
#include <stdint.h>

struct explain;
struct tl_step;

/* "policy", "return" or "rule" */
const char *words_step_type(const struct tl_step *s);
/* the step's verdict ("accept", "jump", ...), NULL if it has none */
const char *words_step_verdict(const struct tl_step *s);

/* conntrack state bit names, by bit number (NULL: no name) */
#define WORDS_CT_STATES 7
extern const char *const words_ct_states[WORDS_CT_STATES];
/* add(ctx, name) for each set bit: its name, or "bitN" */
void words_bits(uint32_t bits, const char *const *names, size_t n,
		void (*add)(void *ctx, const char *name), void *ctx);

/* "forwarded out of lan0 via 203.0.113.254 (the kernel's answer; ...)" */
void words_after_ruleset(const struct explain *ex, char *buf, size_t len);

#endif
