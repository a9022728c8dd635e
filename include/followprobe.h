/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_FOLLOWPROBE_H
#define NATTRACED_FOLLOWPROBE_H

/*
 * What --follow needs to know about the kernel of the daemon's namespace
 * before it starts, asked of the kernel itself.
 */
#include <stddef.h>
#include <stdint.h>

/* Trace events of the probe packet are awaited this long after it is sent. */
#define FOLLOWPROBE_WAIT_MS 100
/* Local addresses tried, at most, when 127.0.0.1 and ::1 have no route. */
#define FOLLOWPROBE_ADDRS   8

/*
 * Does the kernel send the conntrack id with trace events (Linux 6.16 and
 * later)? One UDP datagram from the daemon to a local address (127.0.0.1,
 * ::1, else an address of the namespace), traced by a rule of a table of
 * its own (nattraced_probe_PID, "flags owner") at output priority -150
 * that requires "ct state new", and dropped by the next rule before
 * conntrack confirms it: nothing leaves, no conntrack entry stays. Its
 * trace event says whether the kernel sends the id.
 * Returns 1 (it does), 0 (it does not: the packet had a conntrack entry
 * and its event has no id), or -errno when no answer came (-ENETUNREACH:
 * no local address is routable; -ETIMEDOUT: no event, e.g. a rule before
 * priority -150 dropped or untracked it). how says what was asked.
 */
int followprobe_ct_id(char *how, size_t howlen);

/*
 * Conntrack entries in this namespace now (ctnetlink's global stats,
 * IPCTNL_MSG_CT_GET_STATS: one request, one reply). 0, or -errno.
 */
int followprobe_ct_entries(uint32_t *ret);

#endif
