/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcapng blocks (pcapng.h), as the specification lays them out: every
 * block is type, total length, body, total length again, and padded to
 * 32 bits; options are code, length, value padded to 32 bits, ended by
 * opt_endofopt.
 */
#include <stdio.h>
#include <string.h>

#include <net/if_arp.h>

#include "explain_text.h"
#include "packet.h"
#include "pcapng.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u

#define OPT_ENDOFOPT	 0
#define OPT_COMMENT	 1
#define SHB_USERAPPL	 4
#define IF_NAME		 2
#define IF_TSRESOL	 9
#define EPB_FLAGS	 2
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

#define ETH_HLEN_PLAIN 14
#define ETH_HLEN_VLAN  18

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Appends at *off while it fits; *off counts on, so the caller sees the size. */
struct put {
	uint8_t *buf;
	size_t len, off;
};

static void put_bytes(struct put *p, const void *v, size_t n)
{
	if (p->off + n <= p->len && n)
		memcpy(p->buf + p->off, v, n);
	p->off += n;
}

static void put_zeros(struct put *p, size_t n)
{
	if (p->off + n <= p->len)
		memset(p->buf + p->off, 0, n);
	p->off += n;
}

static void put32(struct put *p, uint32_t v)
{
	put_bytes(p, &v, sizeof(v));
}

static void put16(struct put *p, uint16_t v)
{
	put_bytes(p, &v, sizeof(v));
}

static void put_opt(struct put *p, uint16_t code, const void *v, size_t n)
{
	/* an option's length is 16 bits: cut, never wrap */
	if (n > 0xfff0)
		n = 0xfff0;
	put16(p, code);
	put16(p, (uint16_t)n);
	put_bytes(p, v, n);
	put_zeros(p, pad4(n) - n);
}

static void put_str_opt(struct put *p, uint16_t code, const char *s)
{
	if (s && s[0])
		put_opt(p, code, s, strlen(s));
}

static void block_begin(struct put *p, uint32_t type)
{
	put32(p, type);
	put32(p, 0); /* total length, set by block_end() */
}

static size_t block_end(struct put *p, size_t start)
{
	uint32_t total = (uint32_t)(p->off - start + 4);

	put32(p, total);
	if (p->off <= p->len)
		memcpy(p->buf + start + 4, &total, sizeof(total));
	return p->off - start;
}

size_t pcapng_shb(uint8_t *buf, size_t len, const char *userappl)
{
	struct put p = { buf, len, 0 };
	uint64_t section_len = UINT64_MAX; /* -1: not given, we append */

	block_begin(&p, BT_SHB);
	put32(&p, BYTE_ORDER_MAGIC);
	put16(&p, 1); /* version 1.0 */
	put16(&p, 0);
	put_bytes(&p, &section_len, sizeof(section_len));
	put_str_opt(&p, SHB_USERAPPL, userappl);
	put_opt(&p, OPT_ENDOFOPT, NULL, 0);
	return block_end(&p, 0);
}

size_t pcapng_idb(uint8_t *buf, size_t len, uint16_t linktype, uint32_t snaplen, const char *name)
{
	struct put p = { buf, len, 0 };
	uint8_t tsresol = 9; /* nanoseconds */

	block_begin(&p, BT_IDB);
	put16(&p, linktype);
	put16(&p, 0);
	put32(&p, snaplen);
	put_str_opt(&p, IF_NAME, name);
	put_opt(&p, IF_TSRESOL, &tsresol, 1);
	put_opt(&p, OPT_ENDOFOPT, NULL, 0);
	return block_end(&p, 0);
}

size_t pcapng_epb(uint8_t *buf, size_t len, uint32_t if_id, uint64_t ts_ns,
		  const struct pcapng_packet *pk)
{
	struct put p = { buf, len, 0 };

	block_begin(&p, BT_EPB);
	put32(&p, if_id);
	put32(&p, (uint32_t)(ts_ns >> 32));
	put32(&p, (uint32_t)ts_ns);
	put32(&p, pk->caplen);
	put32(&p, pk->origlen);
	put_bytes(&p, pk->data, pk->caplen);
	put_zeros(&p, pad4(pk->caplen) - pk->caplen);
	put_str_opt(&p, OPT_COMMENT, pk->comment);
	put_str_opt(&p, OPT_COMMENT, pk->trace);
	if (pk->flags)
		put_opt(&p, EPB_FLAGS, &pk->flags, sizeof(pk->flags));
	put_opt(&p, OPT_ENDOFOPT, NULL, 0);
	return block_end(&p, 0);
}

/*
 * Is the network header whole, so that the transport header's bytes
 * follow it in the packet? The kernel sends the bytes up to the transport
 * header cut at 40: IPv4 options or IPv6 extension headers past that
 * leave a gap, and then only the network header is captured.
 */
static bool nh_whole(const uint8_t *nh, uint8_t len)
{
	if (len >= 20 && nh[0] >> 4 == 4)
		return (size_t)(nh[0] & 0x0f) * 4 == len;
	if (len == 40 && nh[0] >> 4 == 6)
		return !packet_ipv6_ext(nh[6]) && nh[6] != 59; /* 59: no next header */
	return false;
}

/* The kernel sends an Ethernet header (a VLAN one built from the tag) or what lies before IP. */
static bool ll_is_ethernet(const struct tl_hdr *h)
{
	return (h->iiftype == ARPHRD_ETHER || h->iiftype == ARPHRD_LOOPBACK) &&
	       (h->ll_len == ETH_HLEN_PLAIN || h->ll_len == ETH_HLEN_VLAN);
}

static void packet_bytes(const struct tl_hdr *h, struct pcapng_packet *ret)
{
	const uint8_t *nh = h->raw + h->ll_len;
	size_t n = 0, ll = 0;

	ret->linktype = PCAPNG_LINKTYPE_RAW;
	if (ll_is_ethernet(h)) {
		ret->linktype = PCAPNG_LINKTYPE_ETHERNET;
		ll = h->ll_len;
		memcpy(ret->data, h->raw, ll);
		n = ll;
	}
	memcpy(ret->data + n, nh, h->nh_len);
	n += h->nh_len;
	if (nh_whole(nh, h->nh_len)) {
		memcpy(ret->data + n, nh + h->nh_len, h->th_len);
		n += h->th_len;
	}
	ret->caplen = (uint32_t)n;
	/* the length the IP header gives: the packet was longer than its headers */
	ret->origlen = (uint32_t)(ll + h->pkt.length);
	if (ret->origlen < ret->caplen)
		ret->origlen = ret->caplen;
}

static void ifname_of(const struct timeline *tl, const struct explain *ex, const struct tl_hdr *h,
		      bool in, struct pcapng_packet *ret)
{
	const char *name = explain_ifname(ex, tl, h, in);

	if (name)
		snprintf(ret->ifname, sizeof(ret->ifname), "%s", name);
	else
		snprintf(ret->ifname, sizeof(ret->ifname), "#%u", in ? h->iif : h->oif);
	ret->flags = in ? 1 : 2;
}

void pcapng_packet_of(const struct timeline *tl, const struct explain *ex,
		      struct pcapng_packet *ret)
{
	const struct tl_hdr *h = ex->sum.packet;
	int w;

	memset(ret, 0, sizeof(*ret));
	ret->linktype = PCAPNG_LINKTYPE_RAW;
	/* the text output's verdict line, word for word */
	explain_cause_str(tl, ex, ret->comment, sizeof(ret->comment));
	w = snprintf(ret->trace, sizeof(ret->trace), "nattraced trace %08x", tl->ids[0]);
	for (unsigned int i = 1; i < tl->n_ids && w > 0 && (size_t)w < sizeof(ret->trace); i++)
		w += snprintf(ret->trace + w, sizeof(ret->trace) - (size_t)w, "+%08x", tl->ids[i]);
	if (!timeline_complete(tl) && w > 0 && (size_t)w < sizeof(ret->trace))
		snprintf(ret->trace + w, sizeof(ret->trace) - (size_t)w, " (incomplete)");
	if (!h) {
		/* no header seen: a block without bytes still carries the verdict */
		snprintf(ret->ifname, sizeof(ret->ifname), "unknown");
		return;
	}
	packet_bytes(h, ret);
	/* where the bytes were seen: the input interface, or on output the output one */
	if (h->present & TRACE_HAS_IIF)
		ifname_of(tl, ex, h, true, ret);
	else if (h->present & TRACE_HAS_OIF)
		ifname_of(tl, ex, h, false, ret);
	else
		snprintf(ret->ifname, sizeof(ret->ifname), "unknown");
}

/* The interface's id; *ret_new when its block is still to be written. */
static uint32_t iface_id(struct pcapng_ifaces *ifs, const struct pcapng_packet *p, bool *ret_new)
{
	const char *name = p->ifname;
	struct pcapng_iface *f;

	*ret_new = false;
	for (;;) {
		for (unsigned int i = 0; i < ifs->n; i++)
			if (ifs->list[i].linktype == p->linktype &&
			    strcmp(ifs->list[i].name, name) == 0)
				return i;
		/* the last two places are for "other", one per link type */
		if (ifs->n < PCAPNG_MAX_IFACES || strcmp(name, "other") == 0)
			break;
		ifs->full = true;
		name = "other";
	}
	f = &ifs->list[ifs->n];
	f->linktype = p->linktype;
	snprintf(f->name, sizeof(f->name), "%s", name);
	*ret_new = true;
	return ifs->n++;
}

size_t pcapng_record(struct pcapng_ifaces *ifs, const struct timeline *tl, const struct explain *ex,
		     uint64_t ts_ns, uint8_t *buf, size_t len)
{
	struct pcapng_packet p;
	size_t off = 0, n;
	uint32_t id;
	bool fresh;

	pcapng_packet_of(tl, ex, &p);
	id = iface_id(ifs, &p, &fresh);
	if (fresh) {
		n = pcapng_idb(buf, len, p.linktype, PCAPNG_SNAPLEN, ifs->list[id].name);
		if (n > len) {
			ifs->n--;
			return 0;
		}
		off = n;
	}
	n = pcapng_epb(buf + off, len - off, id, ts_ns, &p);
	if (n > len - off) {
		if (fresh)
			ifs->n--;
		return 0;
	}
	return off + n;
}
