/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_RECORDS_H
#define NATTRACED_RECORDS_H

/*
 * Renderers of the records that are not timelines (format.h has those;
 * statistics are stats.h's, NAT mappings natmap.h's): pure, no I/O but
 * the output.
 */
#include <stdio.h>

#include "jsonw.h"

struct follow_conn;

/* A followed connection's header line: "connection ID LABEL: ..., followed until END". */
void records_connection_text(FILE *out, const struct follow_conn *c, const char *end);
/* Its {"type":"connection"} object; note NULL or "" for none. */
void records_connection_json(struct jsonw *w, const struct follow_conn *c, const char *end,
			     const char *note);

#endif
