/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_OWNER_RENDER_H
#define NATTRACED_OWNER_RENDER_H

/* An owner (owner.h) in words and in JSON (render/owner_render.c). */
#include <stdbool.h>
#include <stddef.h>

#include "owner.h"

struct jsonw;

/*
 * The short text: "firewalld zone public", "docker published port
 * 8080/tcp, container 192.0.2.2:80". With iptables (and the owner is in an
 * iptables-nft table), adds "; table managed by iptables-nft, `iptables-nft
 * -t nat -S DOCKER` shows it in iptables syntax". Returns the length
 * snprintf would write; "" for an unknown owner.
 */
int owner_str(const struct owner *o, bool iptables, char *buf, size_t len);

/*
 * The JSON object under key: {"manager":"firewalld","zone":"public"}, plus
 * "iptables_nft":"iptables-nft -t nat -S DOCKER" for iptables-nft tables.
 * Writes nothing for an unknown owner.
 */
void owner_json(struct jsonw *w, const char *key, const struct owner *o);

#endif
