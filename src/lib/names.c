/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include <linux/netfilter.h>

#include "names.h"

static const char *const hooks[NF_INET_NUMHOOKS] = {
	[NF_INET_PRE_ROUTING] = "prerouting",	[NF_INET_LOCAL_IN] = "input",
	[NF_INET_FORWARD] = "forward",		[NF_INET_LOCAL_OUT] = "output",
	[NF_INET_POST_ROUTING] = "postrouting",
};

const char *names_hook(unsigned int hook)
{
	return hook < NF_INET_NUMHOOKS ? hooks[hook] : NULL;
}

int names_hook_parse(const char *keyword)
{
	for (int h = 0; keyword && h < NF_INET_NUMHOOKS; h++)
		if (strcmp(keyword, hooks[h]) == 0)
			return h;
	return -1;
}

const char *names_hook_static(const char *keyword)
{
	static const char *const more[] = { "ingress", "egress" };
	int h = names_hook_parse(keyword);

	if (h >= 0)
		return hooks[h];
	for (size_t i = 0; keyword && i < sizeof(more) / sizeof(more[0]); i++)
		if (strcmp(keyword, more[i]) == 0)
			return more[i];
	return NULL;
}

int names_hooks_str(unsigned int hooks_set, const char *sep, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned int h = 0; h < NF_INET_NUMHOOKS; h++) {
		int w;

		if (!(hooks_set & (1u << h)))
			continue;
		w = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0, "%s%s",
			     off ? sep : "", hooks[h]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return (int)off;
}

const char *names_family(uint8_t nfproto)
{
	switch (nfproto) {
	case NFPROTO_INET:
		return "inet";
	case NFPROTO_IPV4:
		return "ip";
	case NFPROTO_IPV6:
		return "ip6";
	case NFPROTO_ARP:
		return "arp";
	case NFPROTO_BRIDGE:
		return "bridge";
	case NFPROTO_NETDEV:
		return "netdev";
	}
	return NULL;
}
