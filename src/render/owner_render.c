/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An owner (owner.h) in words and in JSON, for text, JSON and the journal.
 */
#include <stdio.h>

#include "jsonw.h"
#include "owner_render.h"

int owner_str(const struct owner *o, bool iptables, char *buf, size_t len)
{
	size_t off = 0;
	int n;

#define PUT(...)                                                                       \
	do {                                                                           \
		n = snprintf(buf + (off < len ? off : len), off < len ? len - off : 0, \
			     __VA_ARGS__);                                             \
		if (n > 0)                                                             \
			off += (size_t)n;                                              \
	} while (0)

	if (len)
		buf[0] = '\0';
	if (o->manager) {
		const char *sep = " ";

		PUT("%s", o->manager);
		/* roles read as part of the name: "docker network isolation" */
		for (unsigned int i = 0; i < o->n_attrs; i++) {
			if (!o->attrs[i].label[0]) {
				PUT(" %s", o->attrs[i].value);
				sep = ", ";
			}
		}
		for (unsigned int i = 0; i < o->n_attrs; i++) {
			if (!o->attrs[i].label[0])
				continue;
			PUT("%s%s %s", sep, o->attrs[i].label, o->attrs[i].value);
			sep = ", ";
		}
	}
	if (iptables && o->iptables_nft)
		PUT("%stable managed by iptables-nft, `%s` shows it in iptables syntax",
		    o->manager ? "; " : "", o->iptables_cmd);
#undef PUT
	return (int)off;
}

void owner_json(struct jsonw *w, const char *key, const struct owner *o)
{
	if (!owner_known(o))
		return;
	jsonw_object_open(w, key);
	jsonw_string(w, "manager", o->manager);
	for (unsigned int i = 0; i < o->n_attrs; i++)
		jsonw_string(w, o->attrs[i].key, o->attrs[i].value);
	if (o->iptables_nft)
		jsonw_string(w, "iptables_nft", o->iptables_cmd);
	jsonw_object_close(w);
}
