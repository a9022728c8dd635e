/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_CTQUERY_H
#define NATTRACED_CTQUERY_H
/*
 * Ask conntrack for one connection by its original tuple: the NAT a
 * traced packet really got. Source NAT happens after the last traced
 * chain, and masquerade/snat may pick another source port (random,
 * fully-random, persistent, port ranges, or a clash), so the trace alone
 * cannot tell the port; the connection's reply tuple can.
 *
 * An edge: a NETLINK_NETFILTER socket through libnetfilter_conntrack,
 * opened in the calling thread's network namespace. Bounded: at most
 * CTPROBE_PER_SECOND queries a second, the rest answer -EAGAIN.
 */
#include <stdint.h>

#include "natmap.h"
#include "packet.h"

#define CTPROBE_PER_SECOND 200

struct ctprobe;

int ctprobe_new(struct ctprobe **ret);
struct ctprobe *ctprobe_free(struct ctprobe *q);

/*
 * The connection whose original tuple is orig's addresses, ports and
 * protocol; ct_id (0: any) must match when given. 0 and *ret, -ENOENT
 * when there is none, -EAGAIN over the rate, or -errno.
 */
int ctprobe_get(struct ctprobe *q, const struct packet_info *orig, uint32_t ct_id, uint64_t now_ns,
		struct natmap *ret);

#endif
