/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_FORMAT_H
#define NATTRACED_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "explain.h"
#include "jsonw.h"
#include "timeline.h"

/*
 * Renderers: a timeline and its explanation (explain_timeline(), which
 * did all the asking) as JSON or text. Pure: no I/O but the output, no
 * lookups, so a timeline renders the same however often it is rendered.
 */

/*
 * Append the object --output json prints for one timeline. 0, or -ENOMEM
 * when the writer failed.
 */
int format_json(struct jsonw *w, const struct timeline *tl, const struct explain *ex);
/* One line of JSON. 0 or -errno. */
int format_json_line(FILE *out, const struct timeline *tl, const struct explain *ex);
/*
 * A stream for text that came from the ruleset or the kernel: it writes to
 * out with control bytes escaped as \xNN (a rule comment cannot reach the
 * reader's terminal), and a NUL byte written to it ends a line ('\n').
 * fclose() it before using out. NULL on -ENOMEM. format_text() and
 * format_text_body() print through one.
 */
FILE *format_text_stream(FILE *out);
/*
 * How the text reads: verbose prints every event (--verbose); otherwise a
 * run of jumps into chains where nothing happened is one line naming
 * them. color colours the verdict (drop and reject red, accept green,
 * unknown yellow) and dims base chain headers, with escape sequences
 * written past the escaping stream; format_text_body() (the journal)
 * never does. The sink holds the one the options chose (sink.h).
 */
struct text_style {
	bool verbose;
	bool color;
};
/*
 * The human-readable timeline: its first line, its steps, a blank line,
 * in style (NULL: folded, no colour). 0 or -errno.
 */
int format_text_styled(FILE *out, const struct timeline *tl, const struct explain *ex,
		       const struct text_style *style);
/* format_text_styled() with the default style. */
int format_text(FILE *out, const struct timeline *tl, const struct explain *ex);
/*
 * The part of format_text() after the first line and before the blank
 * line: the steps, NAT, mapping, accepts, verdict and hints (the journal's
 * MESSAGE puts its own summary line above them).
 */
void format_text_body(FILE *out, const struct timeline *tl, const struct explain *ex);
#endif
