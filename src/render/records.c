/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "follow.h"
#include "records.h"

void records_connection_text(FILE *out, const struct follow_conn *c, const char *end)
{
	fprintf(out, "connection %u %s: %u packet%s traced, %u repl%s, followed until %s\n",
		c->ct_id, c->label, c->packets, c->packets == 1 ? "" : "s", c->replies,
		c->replies == 1 ? "y" : "ies", end);
}

void records_connection_json(struct jsonw *w, const struct follow_conn *c, const char *end,
			     const char *note)
{
	jsonw_object_open(w, NULL);
	jsonw_string(w, "type", "connection");
	jsonw_uint(w, "connection", c->ct_id);
	jsonw_string(w, "packet", c->label);
	jsonw_uint(w, "packets", c->packets);
	jsonw_uint(w, "replies", c->replies);
	jsonw_bool(w, "reply_seen", follow_reply_seen(c));
	jsonw_string(w, "end", end);
	jsonw_string(w, "note", note && note[0] ? note : NULL);
	jsonw_object_close(w);
}
