/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Joining a new trace id to its packet (the fingerprint index of the
 * grouping table, timeline.c).
 *
 * One packet, several ids: the id hashes skb_iif, which changes when a
 * bridged packet (br_netfilter) goes up from the bridge, so the same
 * packet shows up at forward under a new id; a looped-back packet also
 * gets a new id for its input half. A new id whose first event is not our
 * rule is looked up by the header fields no NAT rewrites (addresses and
 * ports of the source, IPv4 id or IPv6 flow label, length, TCP sequence)
 * among our timelines in flight that have not entered that base chain; the
 * oldest match takes the new id. A new id that matches nothing and was
 * not selected by us is foreign; an accepted timeline followed by such an
 * unmatched id is marked (unjoined_after), so that it is never said to be
 * lost outside the ruleset on the strength of a missing continuation.
 */
#include <string.h>

#include "hash.h"
#include "timeline_int.h"

/* The header fields that no NAT rewrites and that differ between packets. */
static uint32_t fingerprint(const struct packet_info *p)
{
	uint32_t h = HASH_FNV1A_INIT;

	h = hash_fnv1a(h, &p->l3, sizeof(p->l3));
	h = hash_fnv1a(h, &p->l4proto, sizeof(p->l4proto));
	h = hash_fnv1a(h, p->saddr, p->l3 == 4 ? 4 : 16);
	h = hash_fnv1a(h, &p->sport, sizeof(p->sport));
	h = hash_fnv1a(h, &p->length, sizeof(p->length));
	h = hash_fnv1a(h, &p->ip_id, sizeof(p->ip_id));
	h = hash_fnv1a(h, &p->flow_label, sizeof(p->flow_label));
	return hash_fnv1a(h, &p->tcp_seq, sizeof(p->tcp_seq));
}

static bool same_packet(const struct packet_info *a, const struct packet_info *b)
{
	return a->l3 == b->l3 && a->l4proto == b->l4proto &&
	       memcmp(a->saddr, b->saddr, a->l3 == 4 ? 4 : 16) == 0 &&
	       a->has_ports == b->has_ports && a->sport == b->sport && a->length == b->length &&
	       a->ip_id == b->ip_id && a->flow_label == b->flow_label && a->has_seq == b->has_seq &&
	       a->tcp_seq == b->tcp_seq;
}

void tl_fp_unlink(struct timeline_table *t, int32_t i)
{
	struct timeline *tl = &t->slots[i].tl;
	int32_t *pp;

	if (!slot_of(tl)->in_fp)
		return;
	pp = &t->fp_buckets[slot_of(tl)->fp & t->bucket_mask];
	while (*pp != i)
		pp = &t->slots[*pp].fpnext;
	*pp = slot_of(tl)->fpnext;
	slot_of(tl)->in_fp = false;
}

/* Index our timeline by the headers it was last seen with. */
void tl_fp_update(struct timeline_table *t, int32_t i, const struct packet_info *p)
{
	struct timeline *tl = &t->slots[i].tl;
	uint32_t fp = fingerprint(p);

	if (slot_of(tl)->in_fp && slot_of(tl)->fp == fp)
		return;
	tl_fp_unlink(t, i);
	slot_of(tl)->fp = fp;
	slot_of(tl)->fpnext = t->fp_buckets[fp & t->bucket_mask];
	t->fp_buckets[fp & t->bucket_mask] = i;
	slot_of(tl)->in_fp = true;
}

static const struct tl_hdr *last_valid_hdr(const struct timeline *tl)
{
	for (int h = tl->n_hdrs - 1; h >= 0; h--)
		if (tl->hdrs[h].pkt_valid)
			return &tl->hdrs[h];
	return NULL;
}

/* Names compared as strings: tl's names may be in another pool. */
bool tl_entered(const struct timeline *tl, uint8_t family, const char *table, const char *chain)
{
	for (unsigned int i = 0; i < tl->n_hdrs; i++)
		if (tl->hdrs[i].family == family && tl->hdrs[i].chain && tl->hdrs[i].table &&
		    strcmp(tl->hdrs[i].chain, chain) == 0 && strcmp(tl->hdrs[i].table, table) == 0)
			return true;
	return false;
}

/* Our timeline in flight that this packet, under a new id, continues. */
int32_t tl_find_continued(const struct timeline_table *t, const struct packet_info *p,
			  uint8_t family, const char *table, const char *chain)
{
	uint32_t fp = fingerprint(p);
	int32_t best = NONE;

	for (int32_t i = t->fp_buckets[fp & t->bucket_mask]; i != NONE; i = t->slots[i].fpnext) {
		const struct timeline *tl = &t->slots[i].tl;
		const struct tl_hdr *h;

		if (slot_of(tl)->fp != fp || tl->ended || tl_entered(tl, family, table, chain))
			continue;
		h = last_valid_hdr(tl);
		if (!h || !same_packet(&h->pkt, p))
			continue;
		/* identical packets: the oldest went first */
		if (best == NONE || tl->seq < t->slots[best].tl.seq)
			best = i;
	}
	return best;
}
