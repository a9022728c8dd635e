/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_NAMES_H
#define NATTRACED_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The words nft uses for netfilter's numbers, in one place: inet hooks
 * (NF_INET_PRE_ROUTING ... NF_INET_POST_ROUTING) and families.
 */

/* "prerouting" ... "postrouting"; NULL for another number. */
const char *names_hook(unsigned int hook);
/* NF_INET_* of an inet hook keyword, -1 for anything else (NULL too). */
int names_hook_parse(const char *keyword);
/*
 * Any base chain hook nft lists (the inet ones, "ingress", "egress") as
 * a static string equal to keyword, NULL for another keyword.
 */
const char *names_hook_static(const char *keyword);
/*
 * Hook bits (1 << NF_INET_*) as keywords joined by sep, in hook order:
 * "input,forward". Returns the length snprintf would write.
 */
int names_hooks_str(unsigned int hooks, const char *sep, char *buf, size_t len);

/* nft's family keyword of an NFPROTO_* ("ip", "ip6", "inet", ...), NULL if none. */
const char *names_family(uint8_t nfproto);

#endif
