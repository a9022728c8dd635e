/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One conntrack entry by its original tuple (IPCTNL_MSG_CT_GET), with
 * libnetfilter_conntrack: it builds the tuple attributes and parses the
 * kernel's answer, which natmap_from_ct() turns into a mapping.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "ctprobe.h"

struct ctprobe {
	struct nfct_handle *h;
	uint64_t window_ns; /* start of the current second */
	unsigned int used;  /* queries in it */
};

struct answer {
	uint32_t ct_id;
	bool found;
	struct natmap map;
};

int ctprobe_new(struct ctprobe **ret)
{
	struct ctprobe *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->h = nfct_open(CONNTRACK, 0);
	if (!q->h) {
		int r = -errno;

		free(q);
		return r ? r : -EIO;
	}
	*ret = q;
	return 0;
}

struct ctprobe *ctprobe_free(struct ctprobe *q)
{
	if (!q)
		return NULL;
	nfct_close(q->h);
	free(q);
	return NULL;
}

static int answer_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct answer *a = data;
	struct natmap m;

	/*
	 * Always continue: stopping early would leave the kernel's closing
	 * acknowledgement in the socket for the next query to trip over.
	 */
	(void)type;
	if (a->found || natmap_from_ct(ct, NATMAP_EV_NONE, &m) < 0)
		return NFCT_CB_CONTINUE;
	if (a->ct_id && m.has_ct_id && m.ct_id != a->ct_id)
		return NFCT_CB_CONTINUE;
	a->map = m;
	a->found = true;
	return NFCT_CB_CONTINUE;
}

static void set_tuple(struct nf_conntrack *ct, const struct packet_info *p)
{
	if (p->l3 == 4) {
		nfct_set_attr_u8(ct, ATTR_L3PROTO, AF_INET);
		nfct_set_attr(ct, ATTR_IPV4_SRC, p->saddr);
		nfct_set_attr(ct, ATTR_IPV4_DST, p->daddr);
	} else {
		nfct_set_attr_u8(ct, ATTR_L3PROTO, AF_INET6);
		nfct_set_attr(ct, ATTR_IPV6_SRC, p->saddr);
		nfct_set_attr(ct, ATTR_IPV6_DST, p->daddr);
	}
	nfct_set_attr_u8(ct, ATTR_L4PROTO, p->l4proto);
	if (p->has_ports) {
		nfct_set_attr_u16(ct, ATTR_PORT_SRC, htons(p->sport));
		nfct_set_attr_u16(ct, ATTR_PORT_DST, htons(p->dport));
	}
}

static bool over_rate(struct ctprobe *q, uint64_t now_ns)
{
	if (now_ns - q->window_ns >= 1000000000ull) {
		q->window_ns = now_ns;
		q->used = 0;
	}
	return q->used++ >= CTPROBE_PER_SECOND;
}

int ctprobe_get(struct ctprobe *q, const struct packet_info *orig, uint32_t ct_id, uint64_t now_ns,
		struct natmap *ret)
{
	struct answer a = { .ct_id = ct_id };
	struct nf_conntrack *ct;
	int r = 0;

	/* conntrack tracks these by ports; others have no port to learn */
	if ((orig->l3 != 4 && orig->l3 != 6) || !orig->has_ports)
		return -EINVAL;
	if (over_rate(q, now_ns))
		return -EAGAIN;
	ct = nfct_new();
	if (!ct)
		return -ENOMEM;
	set_tuple(ct, orig);
	nfct_callback_unregister(q->h);
	if (nfct_callback_register(q->h, NFCT_T_ALL, answer_cb, &a) < 0 ||
	    nfct_query(q->h, NFCT_Q_GET, ct) < 0)
		r = errno == ENOENT ? -ENOENT : (errno ? -errno : -EIO);
	nfct_destroy(ct);
	if (r == 0 && !a.found)
		r = -ENOENT;
	if (r == 0)
		*ret = a.map;
	return r;
}
