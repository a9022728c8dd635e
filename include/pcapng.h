/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_PCAPNG_H
#define NATTRACED_PCAPNG_H

/*
 * --pcap: timelines as pcapng blocks (the IETF draft "PCAP Next
 * Generation (pcapng) Capture File Format"), for Wireshark and tshark.
 * Pure: bytes into the caller's buffer; pcapfile.c writes them.
 *
 * One Enhanced Packet Block per timeline: the header bytes the trace
 * carried for the packet as first seen (the link header when the kernel
 * sent an Ethernet one, else raw IP), its timestamp, and two comments:
 * the verdict and its cause as the text output words them, and the trace
 * id. Each interface name (with its link type) gets an Interface
 * Description Block the first time a packet shows it.
 *
 * libpcap (1.10, Debian 12) writes only pcap, not pcapng: no interface
 * names, no comments. So the blocks are written here.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>

#include "explain.h"
#include "timeline.h"
#include "trace.h"

#define PCAPNG_LINKTYPE_ETHERNET 1
#define PCAPNG_LINKTYPE_RAW	 101 /* IPv4 or IPv6 by the version nibble */
/* All the trace ever carries of a packet. */
#define PCAPNG_SNAPLEN		 (TRACE_LL_MAX + TRACE_NH_MAX + TRACE_TH_MAX)
#define PCAPNG_COMMENT_MAX	 1024
/* Interfaces named; more share one block named "other". */
#define PCAPNG_MAX_IFACES	 256
/* What one timeline can add: an IDB and an EPB with two comments. */
#define PCAPNG_RECORD_MAX	 (128 + PCAPNG_SNAPLEN + 2 * PCAPNG_COMMENT_MAX)

/* The packet one timeline shows. */
struct pcapng_packet {
	uint16_t linktype;
	char ifname[IF_NAMESIZE + 16]; /* "eth0", "#7" unknown name, "" none */
	uint32_t flags;		       /* epb_flags: 1 inbound, 2 outbound */
	uint8_t data[PCAPNG_SNAPLEN];
	uint32_t caplen, origlen;
	char comment[PCAPNG_COMMENT_MAX]; /* "drop by rule `drop` (handle 11) in ..." */
	char trace[64];			  /* "nattraced trace 0a1b2c3d" */
};

void pcapng_packet_of(const struct timeline *tl, const struct explain *ex,
		      struct pcapng_packet *ret);

struct pcapng_iface {
	uint16_t linktype;
	char name[IF_NAMESIZE + 16];
};

/* The Interface Description Blocks written so far, in id order. */
struct pcapng_ifaces {
	struct pcapng_iface list[PCAPNG_MAX_IFACES + 2];
	unsigned int n;
	bool full; /* names beyond PCAPNG_MAX_IFACES went to "other" */
};

/*
 * The block writers return the block's length; they write it only when
 * it fits in len (check the result against len). Options in the byte
 * order of this host, which the Section Header Block's magic announces.
 */
size_t pcapng_shb(uint8_t *buf, size_t len, const char *userappl);
size_t pcapng_idb(uint8_t *buf, size_t len, uint16_t linktype, uint32_t snaplen, const char *name);
/* ts_ns: nanoseconds since the epoch (each IDB says if_tsresol 9). */
size_t pcapng_epb(uint8_t *buf, size_t len, uint32_t if_id, uint64_t ts_ns,
		  const struct pcapng_packet *p);

/*
 * One timeline's blocks into buf (PCAPNG_RECORD_MAX bytes): the IDB of
 * an interface not seen before, then the EPB. Returns the bytes written.
 */
size_t pcapng_record(struct pcapng_ifaces *ifs, const struct timeline *tl, const struct explain *ex,
		     uint64_t ts_ns, uint8_t *buf, size_t len);

#endif
