/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The link engine (see ist_link.h). Packet layout on the port:
 *
 *   Ethernet | IPv4 | UDP | wire header (32) | payload | tag (16, keyed)
 *
 * A DATA packet carries one fragment of one frame. Its plaintext payload is
 * kept in a transmit buffer until acknowledged, so a retransmission is the
 * same fragment under a new packet number (and a new nonce).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_udp.h>

#include "isthmus/wire.h"
#include "ist_aead.h"
#include "ist_config.h"
#include "ist_credit.h"
#include "ist_keys.h"
#include "ist_link.h"
#include "ist_pacer.h"
#include "ist_reasm.h"
#include "ist_repl.h"
#include "ist_rto.h"
#include "ist_replay.h"
#include "ist_role.h"
#include "ist_rxwin.h"
#include "ist_session.h"
#include "ist_synth.h"
#include "ist_txwin.h"
#include "ist_wire.h"

#define RX_BURST     32
#define TX_BUDGET    64 /* DATA packets per tx call: keeps rx and control timely */
#define HELLO_MS     200
#define HEARTBEAT_MS 100
#define DEAD_MS      3000
#define L234_LEN \
	(sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
#define MAX_RELEASES 64

struct txbuf {
	uint16_t len; /* plaintext payload bytes */
	uint16_t retx;
	uint8_t data[];
};

struct src_stream {
	uint32_t next_seq;
	bool resumed; /* the receiver told us where to start in this epoch */
};

struct release {
	uint32_t stream, seq;
};

struct ist_link {
	const struct ist_config *cfg;
	uint16_t port_id, txq;
	const volatile uint8_t *ready;
	struct rte_mempool *pool;
	uint64_t hz;
	rte_be32_t src_ip, dst_ip;
	rte_be16_t udp_port;
	uint32_t max_payload; /* wire payload bytes per packet */

	bool keyed;
	struct ist_keys keys;
	struct ist_aead aead;
	struct ist_replay replay;

	struct ist_session sess;
	bool hello_pending;
	uint64_t started_ms;

	struct ist_rxwin *rxw;
	struct ist_txwin *txw;
	struct ist_pacer_profile pp;
	struct ist_pacer pacer;
	struct ist_reasm *reasm;
	struct ist_credit_tx *ctx;

	/* transmit buffers: free stack and retransmit FIFO of indices */
	uint8_t *bufs;
	size_t buf_size;
	uint32_t n_bufs;
	uint32_t *free_stack, n_free;
	uint32_t *retx_fifo, retx_head, retx_tail, retx_mask;
	bool discarding; /* the peer restarted: in-flight data is void */

	/* replication (Kafka records), or else: */
	struct ist_repl *repl;

	/* synthetic source and sink */
	bool synth;
	struct ist_synth_profile prof;
	struct ist_synth_store store;
	struct ist_synth_corpus *corpus; /* [synth] corpus: record frames, else NULL */
	struct src_stream *src;
	uint32_t n_streams, rr;
	uint8_t *frame; /* the frame being sent */
	uint32_t cur_stream, cur_seq, cur_len;
	uint8_t cur_cnt, cur_idx;
	bool cur_busy;
	struct release rel[MAX_RELEASES];
	uint32_t n_rel;

	struct ist_link_stats st;
} __rte_cache_aligned;

static struct ist_link *the_link;

static void *link_zalloc(void *arg, size_t size, size_t align)
{
	(void)arg;
	return rte_zmalloc("ist_link", size,
			   align < RTE_CACHE_LINE_SIZE ? RTE_CACHE_LINE_SIZE : align);
}

static void link_free(void *arg, void *ptr)
{
	(void)arg;
	rte_free(ptr);
}

static const struct ist_link_alloc alloc = {.zalloc = link_zalloc, .free = link_free};

static inline struct txbuf *buf_at(struct ist_link *l, uint32_t i)
{
	return (struct txbuf *)(l->bufs + (size_t)i * l->buf_size);
}

static inline void buf_put(struct ist_link *l, uint32_t i)
{
	l->free_stack[l->n_free++] = i;
}

static void on_acked(void *arg, void *handle, uint32_t bytes, uint16_t retx)
{
	(void)bytes;
	(void)retx;
	buf_put(arg, (uint32_t)(uintptr_t)handle - 1);
}

static void on_lost(void *arg, void *handle, uint32_t bytes, uint16_t retx)
{
	struct ist_link *l = arg;
	uint32_t i = (uint32_t)(uintptr_t)handle - 1;

	(void)bytes;
	if (l->discarding) {
		buf_put(l, i);
		return;
	}
	buf_at(l, i)->retx = retx;
	l->retx_fifo[l->retx_tail++ & l->retx_mask] = i;
}

/* A frame is complete and next in order on its stream. */
static bool on_deliver(void *arg, uint32_t stream, uint32_t seq, const uint8_t *frame, uint32_t len)
{
	struct ist_link *l = arg;

	if (l->n_rel == MAX_RELEASES)
		return false; /* released after this burst, then delivery resumes */
	if (l->repl != NULL) {
		switch (ist_repl_link_deliver(l->repl, stream, seq, frame, len)) {
		case IST_REPL_DLV_REFUSED:
			return false;
		case IST_REPL_DLV_HELD:
			l->st.frames_ok++;
			l->st.bytes_delivered += len;
			return true;
		case IST_REPL_DLV_DONE:
			break;
		}
		l->rel[l->n_rel++] = (struct release){stream, seq};
		return true;
	}
	if (l->synth) {
		/* Pattern frames: one record of body bytes. */
		uint64_t bytes = len - sizeof(struct ist_wire_frame);
		uint32_t records = 1;
		enum ist_synth_bad bad;

		if (l->corpus != NULL)
			bad = ist_synth_corpus_frame_check(l->corpus, stream, seq, frame, len,
							   &records, &bytes);
		else
			bad = ist_synth_frame_check(&l->prof, stream, seq, frame, len);
		if (bad == IST_SYNTH_OK)
			l->st.frames_ok++;
		else
			l->st.frames_bad++;
		ist_synth_store_count(&l->store, bad == IST_SYNTH_OK, records, bytes, len);
		if (l->store.next_seq[stream] != seq)
			l->st.frames_out_of_order++;
		/* The durable "destination log": what was delivered survives a crash. */
		l->store.next_seq[stream] = seq + 1;
	}
	l->st.bytes_delivered += len;
	l->rel[l->n_rel++] = (struct release){stream, seq};
	return true;
}

static void releases_flush(struct ist_link *l, uint64_t now)
{
	while (l->n_rel != 0) {
		bool full = l->n_rel == MAX_RELEASES;

		for (uint32_t i = 0; i < l->n_rel; i++)
			ist_reasm_release(l->reasm, l->rel[i].stream, l->rel[i].seq, now);
		l->n_rel = 0;
		if (!full)
			break;
		/* Delivery stopped at a full list, on some stream: let every stream go on,
		 * now that the list is empty again. */
		for (uint32_t st = 0; st < l->n_streams; st++)
			ist_reasm_deliver(l->reasm, st);
	}
}

/* Build and send one packet; @p payload is plaintext. @return 0 or -1. HOT. */
static int xmit(struct ist_link *l, uint8_t type, const void *payload, uint16_t len, uint64_t pn)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(l->pool);
	uint16_t wire_len = IST_WIRE_HDR_LEN + len + (l->keyed ? IST_WIRE_TAG_LEN : 0);
	const struct ist_key *k = l->keyed ? ist_keys_sender(&l->keys) : NULL;
	struct ist_hdr h = {
		.type = type,
		.flags = l->keyed ? IST_WIRE_F_AUTH : 0,
		.epoch = l->sess.epoch,
		.peer_epoch = l->sess.peer_epoch,
		.pn = pn,
		.key_id = k ? k->id : 0,
		.payload_len = len,
	};
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	uint8_t *w;

	if (unlikely(m == NULL)) {
		l->st.tx_fail++;
		return -1;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, L234_LEN + wire_len);
	if (unlikely(eth == NULL)) {
		rte_pktmbuf_free(m);
		l->st.tx_fail++;
		return -1;
	}
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	memset(&eth->src_addr, 0, sizeof(eth->src_addr));
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*udp) + wire_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = l->src_ip;
	ip->dst_addr = l->dst_ip;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = l->udp_port;
	udp->dst_port = l->udp_port;
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + wire_len);
	udp->dgram_cksum = 0; /* the AEAD tag (or the frame CRC) protects the payload */
	w = (uint8_t *)(udp + 1);
	ist_wire_hdr_encode(w, IST_WIRE_HDR_LEN, &h);
	if (len)
		memcpy(w + IST_WIRE_HDR_LEN, payload, len);
	if (k != NULL && ist_aead_pkt_seal(&l->aead, k, w, wire_len) != 0) {
		rte_pktmbuf_free(m);
		l->st.tx_fail++;
		return -1;
	}
	if (unlikely(rte_eth_tx_burst(l->port_id, l->txq, &m, 1) == 0)) {
		rte_pktmbuf_free(m);
		l->st.tx_fail++;
		return -1;
	}
	l->st.tx_bytes += L234_LEN + wire_len;
	ist_session_sent(&l->sess, type, rte_rdtsc());
	return 0;
}

/* @return 1 if the packet went out, else 0. */
static uint32_t send_ctl(struct ist_link *l, uint8_t type, const void *payload, uint16_t len)
{
	if (xmit(l, type, payload, len, ist_txwin_pn_take(l->txw)) != 0)
		return 0;
	switch (type) {
	case IST_WIRE_HELLO:
		l->st.tx_hello++;
		break;
	case IST_WIRE_HEARTBEAT:
		l->st.tx_hb++;
		break;
	case IST_WIRE_ACK:
		l->st.tx_ack++;
		break;
	case IST_WIRE_CREDIT:
		l->st.tx_credit++;
		break;
	}
	return 1;
}

static uint32_t send_hello(struct ist_link *l, uint64_t now)
{
	struct ist_hello hl = {
		.proto_version = IST_WIRE_VERSION,
		.caps = l->keyed ? IST_WIRE_CAP_AEAD : 0,
		.mtu = l->cfg->link.mtu,
		.started_unix_ms = l->started_ms,
	};
	uint8_t buf[sizeof(struct ist_wire_hello)];
	uint32_t sent = 0;
	int n;

	snprintf(hl.appliance, sizeof(hl.appliance), "%s", l->cfg->appliance.id);
	snprintf(hl.region, sizeof(hl.region), "%s", l->cfg->appliance.region);
	n = ist_wire_hello_encode(buf, sizeof(buf), &hl);
	if (n > 0)
		sent = send_ctl(l, IST_WIRE_HELLO, buf, n);
	/* Even when the port refused it: the next try waits a HELLO interval. */
	ist_session_sent(&l->sess, IST_WIRE_HELLO, now);
	l->hello_pending = false;
	return sent;
}

/* The peer (re)started: everything that belonged to its previous life goes. */
static void peer_new(struct ist_link *l, uint32_t epoch, uint64_t now)
{
	ist_rxwin_reset(l->rxw, epoch);
	ist_replay_reset(&l->replay, epoch);
	ist_reasm_epoch_reset(l->reasm, now);
	/* Its receiver lost what was in flight: our data resumes where it says. */
	l->discarding = true;
	ist_txwin_discard(l->txw, now);
	while (l->retx_head != l->retx_tail)
		buf_put(l, l->retx_fifo[l->retx_head++ & l->retx_mask]);
	l->discarding = false;
	ist_credit_tx_reset(l->ctx);
	if (l->repl != NULL)
		ist_repl_link_reset(l->repl);
	for (uint32_t s = 0; s < l->n_streams; s++)
		l->src[s].resumed = false;
	l->cur_busy = false;
	l->st.peer_restarts = l->sess.peer_restarts;
}

static void handle_payload(struct ist_link *l, const struct ist_hdr *h, const uint8_t *p,
			   uint64_t now)
{
	switch (h->type) {
	case IST_WIRE_DATA: {
		struct ist_wire_frag_iter it;
		struct ist_frag f;

		ist_wire_frag_iter_init(&it, p, h->payload_len);
		while (ist_wire_frag_next(&it, &f) == 1)
			ist_reasm_frag_rx(l->reasm, &f);
		releases_flush(l, now);
		break;
	}
	case IST_WIRE_ACK: {
		struct ist_ack ack;

		if (ist_wire_ack_decode(p, h->payload_len, &ack) == 0)
			ist_txwin_on_ack(l->txw, &ack, now);
		else
			l->st.rx_drop[-IST_WIRE_E_BAD_RANGE]++;
		break;
	}
	case IST_WIRE_CREDIT: {
		struct ist_credit cr[IST_WIRE_MAX_CREDITS];
		unsigned int n;

		if (ist_wire_credit_decode(p, h->payload_len, cr, &n) == 0)
			ist_credit_tx_update(l->ctx, cr, n);
		break;
	}
	default:
		break;
	}
}

/* One received datagram. HOT. */
static void rx_one(struct ist_link *l, struct rte_mbuf *m, uint64_t now)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint8_t *dg = (uint8_t *)(udp + 1);
	const struct ist_key *k = NULL;
	struct ist_hdr h;
	unsigned int ev;
	uint32_t len;
	int rc;

	if (m->nb_segs != 1 || rte_pktmbuf_data_len(m) < L234_LEN ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ip->version_ihl != RTE_IPV4_VHL_DEF || ip->next_proto_id != IPPROTO_UDP ||
	    udp->dst_port != l->udp_port) {
		l->st.rx_foreign++;
		return;
	}
	len = rte_be_to_cpu_16(udp->dgram_len);
	if (len < sizeof(*udp) || len - sizeof(*udp) > rte_pktmbuf_data_len(m) - L234_LEN) {
		l->st.rx_drop[-IST_WIRE_E_TRUNCATED]++;
		return;
	}
	len -= sizeof(*udp);
	rc = ist_wire_pkt_check(dg, len, l->keyed, &h);
	if (rc < 0) {
		l->st.rx_drop[-rc]++;
		return;
	}
	if (l->keyed) {
		k = ist_keys_find(&l->keys, h.key_id);
		if (k == NULL) {
			l->st.rx_drop[-IST_WIRE_E_BAD_TAG]++;
			return;
		}
		if (h.epoch == l->replay.epoch) {
			rc = ist_replay_check(&l->replay, h.pn);
			if (rc < 0) {
				l->st.rx_drop[-rc]++;
				return;
			}
		}
		if (ist_aead_pkt_open(&l->aead, k, dg, len) != 0) {
			l->st.rx_drop[-IST_WIRE_E_BAD_TAG]++;
			return;
		}
	}
	ev = ist_session_rx(&l->sess, h.type, h.epoch, h.peer_epoch, now);
	if (ev & IST_SESS_EV_SEND_HELLO)
		l->hello_pending = true;
	if (ev & IST_SESS_EV_PEER_NEW)
		peer_new(l, h.epoch, now);
	if (!(ev & IST_SESS_EV_ACCEPT)) {
		l->st.rx_stale_epoch++;
		return;
	}
	if (l->keyed)
		ist_replay_update(&l->replay, h.pn);
	if (ist_rxwin_rx(l->rxw, h.pn, h.type == IST_WIRE_DATA, now) != 0) {
		l->st.rx_dup++;
		return;
	}
	l->st.rx_bytes += len;
	handle_payload(l, &h, dg + IST_WIRE_HDR_LEN, now);
}

/* HOT */
uint32_t ist_link_rx(struct ist_link *l, uint64_t now)
{
	struct rte_mbuf *pkts[RX_BURST];
	uint32_t total = 0;

	if (unlikely(!*l->ready))
		return 0;
	for (unsigned int q = 0; q < l->cfg->ports[l->cfg->link.port].rx_queues; q++) {
		uint16_t n = rte_eth_rx_burst(l->port_id, q, pkts, RX_BURST);

		for (uint16_t i = 0; i < n; i++)
			rx_one(l, pkts[i], now);
		rte_pktmbuf_free_bulk(pkts, n);
		total += n;
	}
	l->st.rx_pkts += total;
	return total;
}

static bool can_send(void *arg, uint32_t stream, uint32_t seq)
{
	const struct ist_link *l = arg;

	return ist_credit_tx_can_send(l->ctx, stream, seq);
}

/* The next replication frame: catalog first, then the shaper's choice. */
static bool next_repl_frame(struct ist_link *l, uint64_t now)
{
	uint32_t seq;

	if (ist_repl_cat_waiting(l->repl) && ist_credit_tx_resume(l->ctx, 0, &seq) == 0)
		ist_repl_cat_resumed(l->repl, seq);
	l->cur_len = ist_repl_link_next(l->repl, now, can_send, l, l->frame, IST_WIRE_MAX_FRAME,
					&l->cur_stream, &l->cur_seq);
	if (l->cur_len == 0 ||
	    ist_wire_frag_plan(l->cur_len, l->max_payload - IST_WIRE_FRAG_LEN, &l->cur_cnt) != 0)
		return false;
	ist_repl_link_sent(l->repl, l->cur_stream, l->cur_len, now);
	l->cur_idx = 0;
	l->cur_busy = true;
	return true;
}

/* Pick the next stream that may send, round robin. */
static bool next_frame(struct ist_link *l, uint64_t now)
{
	const struct ist_cfg_synth *sy = &l->cfg->synth;

	if (l->repl != NULL)
		return next_repl_frame(l, now);

	for (uint32_t k = 0; k < l->n_streams; k++) {
		uint32_t s = (l->rr + k) % l->n_streams;
		struct src_stream *ss = &l->src[s];

		if (!ss->resumed) {
			if (ist_credit_tx_resume(l->ctx, s, &ss->next_seq) != 0)
				continue;
			ss->resumed = true;
		}
		if (sy->frames != 0 && ss->next_seq >= sy->frames)
			continue;
		if (!ist_credit_tx_can_send(l->ctx, s, ss->next_seq))
			continue;
		if (l->corpus != NULL)
			l->cur_len = ist_synth_corpus_frame_build(l->corpus, s, ss->next_seq,
								  l->frame, IST_WIRE_MAX_FRAME);
		else
			l->cur_len = ist_synth_frame_build(&l->prof, s, ss->next_seq, l->frame,
							   IST_WIRE_MAX_FRAME);
		if (l->cur_len == 0 ||
		    ist_wire_frag_plan(l->cur_len, l->max_payload - IST_WIRE_FRAG_LEN,
				       &l->cur_cnt) != 0)
			continue;
		l->cur_stream = s;
		l->cur_seq = ss->next_seq;
		l->cur_idx = 0;
		l->cur_busy = true;
		l->rr = s + 1;
		return true;
	}
	return false;
}

static int send_data(struct ist_link *l, uint32_t i, uint16_t retx, uint64_t now)
{
	struct txbuf *b = buf_at(l, i);
	uint64_t pn;

	if (ist_txwin_send(l->txw, b->len, (void *)(uintptr_t)(i + 1), retx, now, &pn) != 0)
		return -1;
	/* A packet the port refused is in the scoreboard: it is resent like a lost one. */
	xmit(l, IST_WIRE_DATA, b->data, b->len, pn);
	return 0;
}

/* HOT */
uint32_t ist_link_tx(struct ist_link *l, uint64_t now)
{
	unsigned int ev;
	uint32_t sent = 0;

	if (unlikely(!*l->ready))
		return 0;
	ev = ist_session_tick(&l->sess, now);
	if (ev & IST_SESS_EV_PEER_DEAD)
		l->st.peer_deaths++;
	if ((ev & IST_SESS_EV_SEND_HELLO) || l->hello_pending)
		sent += send_hello(l, now);
	l->st.state = l->sess.state;
	if (l->sess.state != IST_SESS_ESTABLISHED)
		return sent;
	if (ev & IST_SESS_EV_SEND_HB) {
		sent += send_ctl(l, IST_WIRE_HEARTBEAT, NULL, 0);
		/* A refused heartbeat is tried again a heartbeat interval later. */
		ist_session_sent(&l->sess, IST_WIRE_HEARTBEAT, now);
	}
	if (ist_rxwin_ack_due(l->rxw, now)) {
		struct ist_ack ack;
		uint8_t buf[sizeof(struct ist_wire_ack) + IST_WIRE_MAX_SACK * 16];
		int n;

		ist_rxwin_ack_build(l->rxw, &ack, now);
		n = ist_wire_ack_encode(buf, sizeof(buf), &ack);
		if (n > 0)
			sent += send_ctl(l, IST_WIRE_ACK, buf, n);
	}
	while (ist_credit_rx_due(l->reasm, now)) {
		struct ist_credit cr[IST_WIRE_MAX_CREDITS];
		uint8_t buf[sizeof(struct ist_wire_credit_hdr) +
			    IST_WIRE_MAX_CREDITS * sizeof(struct ist_wire_credit)];
		uint32_t n = ist_credit_rx_build(l->reasm, cr, IST_WIRE_MAX_CREDITS, now);
		int len;

		if (n == 0)
			break;
		len = ist_wire_credit_encode(buf, sizeof(buf), cr, n);
		if (len > 0)
			sent += send_ctl(l, IST_WIRE_CREDIT, buf, len);
	}
	ist_txwin_timeout(l->txw, now);
	if (l->repl != NULL)
		sent += ist_repl_link_poll(l->repl, l->reasm, now);

	for (uint32_t budget = TX_BUDGET; budget > 0; budget--) {
		if (l->retx_head != l->retx_tail) {
			uint32_t i = l->retx_fifo[l->retx_head & l->retx_mask];
			struct txbuf *b = buf_at(l, i);

			if (!ist_txwin_has_room(l->txw) || !ist_pacer_admit(&l->pacer, b->len, now))
				break;
			if (send_data(l, i, b->retx + 1, now) != 0)
				break;
			l->retx_head++;
			l->st.tx_retx++;
			sent++;
			continue;
		}
		if (l->repl == NULL && (!l->synth || !l->cfg->synth.send))
			break;
		if (!l->cur_busy && !next_frame(l, now))
			break;
		if (l->n_free == 0 || !ist_txwin_has_room(l->txw))
			break;
		{
			uint32_t i = l->free_stack[l->n_free - 1];
			struct txbuf *b = buf_at(l, i);
			struct ist_frag f = {
				.stream_id = l->cur_stream,
				.frame_seq = l->cur_seq,
				.frame_len = l->cur_len,
				.frag_idx = l->cur_idx,
				.frag_cnt = l->cur_cnt,
			};
			int n;

			ist_wire_frag_span(l->cur_len, l->cur_cnt, l->cur_idx, &f.frag_off,
					   &f.frag_len);
			f.data = l->frame + f.frag_off;
			if (!ist_pacer_admit(&l->pacer, IST_WIRE_FRAG_LEN + f.frag_len, now))
				break;
			n = ist_wire_frag_encode(b->data, l->max_payload, &f);
			if (n <= 0)
				break;
			b->len = n;
			l->n_free--;
			if (send_data(l, i, 0, now) != 0) {
				buf_put(l, i);
				break;
			}
		}
		l->st.tx_data++;
		sent++;
		if (++l->cur_idx == l->cur_cnt) {
			if (l->repl == NULL)
				l->src[l->cur_stream].next_seq++;
			l->st.frames_sent++;
			l->cur_busy = false;
		}
	}
	return sent;
}

void ist_link_stats_get(const struct ist_link *l, struct ist_link_stats *st)
{
	*st = l->st;
	st->state = l->sess.state;
	st->peer_restarts = l->sess.peer_restarts;
	st->peer_deaths = l->sess.peer_deaths;
	st->inflight = l->txw->inflight;
	if (l->hz) {
		st->srtt_us = ist_rto_srtt(&l->txw->rto) * 1000000 / l->hz;
		st->rto_us = ist_rto_get(&l->txw->rto) * 1000000 / l->hz;
	}
}

struct ist_link *ist_link_get(void)
{
	return the_link;
}

struct ist_link *ist_link_create(const struct ist_role_env *env, char *err, size_t errlen)
{
	const struct ist_config *cfg = env->cfg;
	const struct ist_cfg_link *lk = &cfg->link;
	struct ist_txwin_conf twc = {0};
	struct ist_rxwin_conf rwc = {0};
	struct ist_reasm_conf rc = {0};
	struct ist_link *l;
	struct in_addr a;
	uint32_t cap, window;
	uint64_t rate_bps = (uint64_t)lk->capacity_mbps * 1000000;

	if (the_link != NULL)
		return the_link;
	l = rte_zmalloc("ist_link", sizeof(*l), RTE_CACHE_LINE_SIZE);
	if (l == NULL)
		goto nomem;
	l->cfg = cfg;
	l->store.fd = -1;
	l->started_ms = (uint64_t)time(NULL) * 1000;
	l->hz = env->tsc_hz;
	l->port_id = env->port_ids[lk->port];
	l->txq = env->tx_queue;
	l->ready = &env->port_ready[lk->port];
	l->pool = env->pool;
	inet_pton(AF_INET, lk->local_ip, &a);
	l->src_ip = a.s_addr;
	inet_pton(AF_INET, lk->peer_ip, &a);
	l->dst_ip = a.s_addr;
	l->udp_port = rte_cpu_to_be_16(lk->udp_port);

	if (lk->auth == IST_AUTH_AEAD) {
		if (ist_keys_load(lk->key_file, &l->keys, err, errlen) != 0)
			goto fail;
		if (!ist_keys_keyed(&l->keys)) {
			snprintf(err, errlen,
				 "%s: link.auth = aead but %s says mode none; put keys in it or "
				 "set link.auth = none",
				 cfg->path, lk->key_file);
			goto fail;
		}
		l->keyed = true;
		if (ist_aead_ctx_init(&l->aead) != 0) {
			snprintf(err, errlen, "AES-256-GCM is not available from OpenSSL");
			goto fail;
		}
	}
	l->max_payload = lk->mtu - sizeof(struct rte_ipv4_hdr) - sizeof(struct rte_udp_hdr) -
			 IST_WIRE_HDR_LEN - (l->keyed ? IST_WIRE_TAG_LEN : 0);
	ist_session_init(&l->sess, (uint32_t)rte_rand() | 1, l->hz, HELLO_MS, HEARTBEAT_MS, DEAD_MS,
			 rte_rdtsc());
	ist_replay_reset(&l->replay, 0);

	/* Pace at capacity with a bucket of about 100 us, at least four packets. */
	if (ist_pacer_profile_config(&l->pp, rate_bps,
				     RTE_MAX(4 * lk->mtu, (uint32_t)(rate_bps / 8 / 10000)),
				     l->hz) != 0 ||
	    ist_pacer_init(&l->pacer, &l->pp, rte_rdtsc()) != 0) {
		snprintf(err, errlen, "%s: link.capacity_mbps = %u cannot be paced", cfg->path,
			 lk->capacity_mbps);
		goto fail;
	}
	cap = ist_txwin_capacity(lk->capacity_mbps, RTE_MAX(lk->rtt_ms, 1u), lk->mtu);
	window = ist_rxwin_window(lk->capacity_mbps, RTE_MAX(lk->rtt_ms, 1u), lk->mtu);
	twc.capacity = cap;
	twc.peer_window = window;
	twc.rto.hz = l->hz;
	twc.rto.rtt_ms = lk->rtt_ms;
	twc.on_acked = on_acked;
	twc.on_lost = on_lost;
	twc.arg = l;
	rwc.hz = l->hz;
	rwc.window = window;
	l->txw = ist_txwin_create(&twc, &alloc);
	l->rxw = ist_rxwin_create(&rwc, &alloc);

	l->synth = cfg->synth.enabled;
	l->n_streams = l->synth ? cfg->synth.streams : 1;
	rc.slots = l->synth ? cfg->synth.window : 1;
	rc.slot_size = 64;
	if (l->synth) {
		uint32_t body = cfg->synth.max_body;

		/* A corpus frame is its header and at most frame_kb of body. */
		if (cfg->synth.corpus[0] != '\0')
			body = RTE_MAX(body, cfg->synth.frame_kb * 1024u);
		rc.slot_size = sizeof(struct ist_wire_frame) + body;
	}
	if (ist_repl_wanted(cfg)) {
		l->repl = ist_repl_get(cfg, err, errlen);
		if (l->repl == NULL)
			goto fail;
		l->n_streams = ist_repl_n_streams(l->repl);
		rc.slots = ist_repl_window(l->repl);
		rc.slot_size = ist_repl_frame_max(l->repl);
	}
	rc.hz = l->hz;
	rc.n_streams = l->n_streams;
	rc.deliver = on_deliver;
	rc.arg = l;
	l->reasm = ist_reasm_create(&rc, &alloc);
	l->ctx = ist_credit_tx_create(l->n_streams, &alloc);

	/* Transmit buffers: one per scoreboard entry, so the ring fills first. */
	l->n_bufs = cap;
	l->buf_size = RTE_ALIGN_CEIL(sizeof(struct txbuf) + l->max_payload, 64);
	l->bufs = rte_zmalloc("ist_link_bufs", l->buf_size * l->n_bufs, RTE_CACHE_LINE_SIZE);
	l->free_stack = rte_zmalloc("ist_link_free", sizeof(uint32_t) * l->n_bufs, 0);
	l->retx_fifo = rte_zmalloc("ist_link_retx", sizeof(uint32_t) * l->n_bufs, 0);
	l->retx_mask = l->n_bufs - 1;
	l->src = rte_zmalloc("ist_link_src", sizeof(*l->src) * l->n_streams, 0);
	l->frame = rte_zmalloc("ist_link_frame", IST_WIRE_MAX_FRAME, RTE_CACHE_LINE_SIZE);
	if (l->txw == NULL || l->rxw == NULL || l->reasm == NULL || l->ctx == NULL ||
	    l->bufs == NULL || l->free_stack == NULL || l->retx_fifo == NULL || l->src == NULL ||
	    l->frame == NULL) {
		snprintf(err, errlen,
			 "out of memory for the link (%u packet buffers of %zu bytes, %u streams); "
			 "reserve more hugepages or lower link.capacity_mbps / rtt_ms",
			 l->n_bufs, l->buf_size, l->n_streams);
		goto fail;
	}
	for (uint32_t i = 0; i < l->n_bufs; i++)
		buf_put(l, l->n_bufs - 1 - i);
	if (l->synth) {
		l->prof = (struct ist_synth_profile){.seed = cfg->synth.seed,
						     .min_body = cfg->synth.min_body,
						     .max_body = cfg->synth.max_body};
		if (ist_synth_store_open(&l->store, cfg->synth.progress_file, l->n_streams, err,
					 errlen) != 0)
			goto fail;
		if (cfg->synth.corpus[0] != '\0') {
			l->corpus = ist_synth_corpus_load(cfg->synth.corpus, cfg->synth.codec,
							  cfg->synth.frame_kb * 1024u, err, errlen);
			if (l->corpus == NULL)
				goto fail;
		}
		/* Resume from the durable progress: that is what credits will announce. */
		for (uint32_t s = 0; s < l->n_streams; s++)
			ist_reasm_restart_at(l->reasm, s, l->store.next_seq[s]);
	}
	the_link = l;
	return l;
nomem:
	snprintf(err, errlen, "out of memory for the link engine");
	return NULL;
fail:
	ist_link_free(l);
	return NULL;
}

void ist_link_free(struct ist_link *l)
{
	if (l == NULL)
		return;
	if (l->keyed)
		ist_aead_ctx_fini(&l->aead);
	ist_keys_wipe(&l->keys);
	ist_synth_store_close(&l->store);
	ist_synth_corpus_free(l->corpus);
	ist_repl_put(l->repl);
	ist_txwin_free(l->txw);
	ist_rxwin_free(l->rxw);
	ist_reasm_free(l->reasm);
	ist_credit_tx_free(l->ctx);
	rte_free(l->bufs);
	rte_free(l->free_stack);
	rte_free(l->retx_fifo);
	rte_free(l->src);
	rte_free(l->frame);
	if (the_link == l)
		the_link = NULL;
	rte_free(l);
}
_Static_assert(IST_WIRE_ERR_COUNT <= 16, "rx_drop holds every wire error");
