/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The link transport end to end with a fake clock: sender A (txwin, RTO,
 * pacer, credits) and receiver B (rxwin, reassembly, credits) over a
 * simulated WAN channel with 100 ms RTT that loses, reorders and duplicates
 * packets in both directions (deterministic PRNG). A sends frames of many
 * streams (>= 20 MB in all); the test asserts that every frame arrives
 * exactly once, in order per stream, byte-identical, and that goodput stays
 * at >= 90 % of the paced rate with 1 % and with 2 % loss.
 *
 * Accounting: the pacer is charged the whole IP datagram (IPv4 + UDP
 * headers, link header, fragment headers, frame bytes), i.e. the rate is
 * the link's IP-level capacity. Goodput counts frame bytes delivered in
 * order to the consumer, end to end (first DATA sent to last frame
 * delivered, start-up and the last round trip included) and in steady
 * state (from two RTTs after the start to the last new fragment sent);
 * the assertion is on the steady state, both are printed. Headers alone
 * cap it at ~94.6 % with 1500-byte datagrams.
 *
 * Packets are not encoded (the codec has its own tests); they carry the
 * decoded fields and the real frame bytes, cut with the codec's geometry.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ist_credit.h"
#include "ist_pacer.h"
#include "ist_reasm.h"
#include "ist_rxwin.h"
#include "ist_txwin.h"

#define HZ          2000000000ull /* fake TSC: 2 GHz */
#define MS          (HZ / 1000)
#define US          (HZ / 1000000)
#define RTT_MS      100
#define MTU         1500u
#define IPUDP       28u
#define HDR         32u /* struct ist_wire_hdr */
#define FRAG_HDR    20u /* struct ist_wire_frag */
#define MAX_PAYLOAD (MTU - IPUDP - HDR)
#define MAX_FRAGS   8
#define MAX_STREAMS 64
#define POOL        (2u << 20)

enum { PKT_DATA = 1, PKT_ACK, PKT_CREDIT };

struct sim_frag {
	struct ist_frag f;
	uint32_t at; /* offset of the bytes in payload[] */
};

struct sim_pkt {
	int type;
	uint64_t pn;
	uint16_t retx;
	uint32_t bytes; /* charged to the pacer */
	uint32_t used;  /* payload bytes used */
	uint32_t n_frag;
	struct sim_frag frag[MAX_FRAGS];
	struct ist_ack ack;
	uint32_t n_cred;
	struct ist_credit cred[IST_WIRE_MAX_CREDITS];
	uint8_t payload[MAX_PAYLOAD];
};

struct event {
	uint64_t t, order;
	int to_b;
	struct sim_pkt pkt;
};

struct scenario {
	uint32_t loss_ppm, reorder_ppm, dup_ppm;
	uint32_t n_streams, slots; /* receiver: credit window per stream, in frames */
	uint64_t rate_bps;
	uint64_t total_bytes;
	uint64_t seed;
};

/* ---- deterministic randomness ---- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- simulation state ---- */

static struct sim {
	struct scenario sc;
	uint64_t rng;
	uint64_t now;
	uint8_t *pool;

	/* the channel: a heap of events by time */
	struct event **heap;
	size_t n_heap, cap_heap;
	uint64_t order;
	uint64_t ch_sent[2], ch_lost[2], ch_dup[2], ch_reorder[2];

	/* frames */
	uint32_t n_frames[MAX_STREAMS];
	uint32_t *frame_len[MAX_STREAMS];
	uint64_t total_frames, total_bytes;

	/* sender A */
	struct ist_txwin *tw;
	struct ist_pacer pacer;
	struct ist_credit_tx *ct;
	struct ist_rxwin *a_rx; /* B's pn space: drops duplicate ACK/CREDIT packets */
	struct sim_pkt **rtx;   /* retransmission FIFO */
	size_t rtx_head, rtx_len, rtx_cap;
	struct sim_pkt *pending; /* built, waiting for the pacer */
	uint32_t next_seq[MAX_STREAMS];
	uint32_t cur_stream, cur_cnt, cur_idx;
	int cur_active;
	uint32_t rr;
	uint64_t a_data_sent, a_retx, a_bytes_charged, a_acked_pkts;
	uint64_t t_first_send, t_last_new;

	/* receiver B */
	struct ist_rxwin *rx;
	struct ist_reasm *ra;
	uint64_t b_pn;
	uint32_t expect[MAX_STREAMS];
	struct {
		uint32_t stream, seq;
		uint64_t t;
	} * rel;
	size_t rel_head, rel_len, rel_cap;
	uint64_t delivered_frames, delivered_bytes, t_last_delivery;
	uint64_t *dl_t, *dl_bytes; /* per delivery: time, bytes delivered so far */
	uint64_t b_dup_pkts;
} S;

static uint64_t frame_base(uint32_t stream, uint32_t seq)
{
	uint64_t s = ((uint64_t)stream << 32) | seq;

	return splitmix(&s) % (POOL - IST_WIRE_MAX_FRAME);
}

/* ---- channel ---- */

static void heap_push(struct event *e)
{
	size_t i;

	if (S.n_heap == S.cap_heap) {
		S.cap_heap = S.cap_heap ? 2 * S.cap_heap : 1024;
		S.heap = realloc(S.heap, S.cap_heap * sizeof(*S.heap));
		assert_non_null(S.heap);
	}
	i = S.n_heap++;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (S.heap[p]->t < e->t || (S.heap[p]->t == e->t && S.heap[p]->order < e->order))
			break;
		S.heap[i] = S.heap[p];
		i = p;
	}
	S.heap[i] = e;
}

static int ev_less(const struct event *a, const struct event *b)
{
	return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static struct event *heap_pop(void)
{
	struct event *top = S.heap[0], *last = S.heap[--S.n_heap];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct event *mv = last;

		if (l < S.n_heap && ev_less(S.heap[l], mv)) {
			m = l;
			mv = S.heap[l];
		}
		if (r < S.n_heap && ev_less(S.heap[r], mv))
			m = r;
		if (m == i)
			break;
		S.heap[i] = S.heap[m];
		i = m;
	}
	if (S.n_heap > 0)
		S.heap[i] = last;
	return top;
}

static void channel_send(const struct sim_pkt *p, int to_b)
{
	uint64_t r = splitmix(&S.rng);
	int copies = 1, k;

	S.ch_sent[to_b]++;
	if (r % 1000000 < S.sc.loss_ppm) {
		S.ch_lost[to_b]++;
		return;
	}
	if ((r >> 20) % 1000000 < S.sc.dup_ppm) {
		copies = 2;
		S.ch_dup[to_b]++;
	}
	for (k = 0; k < copies; k++) {
		struct event *e = malloc(sizeof(*e));
		uint64_t delay = (uint64_t)RTT_MS * MS / 2;

		assert_non_null(e);
		if (((r >> 40) + (uint64_t)k * 7919) % 1000000 < S.sc.reorder_ppm) {
			/* held back 0.5 .. 5 ms: later packets overtake it */
			delay += MS / 2 + splitmix(&S.rng) % (9 * MS / 2);
			S.ch_reorder[to_b]++;
		}
		if (k == 1)
			delay += splitmix(&S.rng) % (2 * MS);
		e->t = S.now + delay;
		e->order = S.order++;
		e->to_b = to_b;
		memcpy(&e->pkt, p, offsetof(struct sim_pkt, payload) + p->used);
		heap_push(e);
	}
}

/* ---- sender A ---- */

static void rtx_push(struct sim_pkt *p)
{
	if (S.rtx_len == S.rtx_cap) {
		size_t i, nc = S.rtx_cap ? 2 * S.rtx_cap : 256;
		struct sim_pkt **n = malloc(nc * sizeof(*n));

		assert_non_null(n);
		for (i = 0; i < S.rtx_len; i++)
			n[i] = S.rtx[(S.rtx_head + i) % S.rtx_cap];
		free(S.rtx);
		S.rtx = n;
		S.rtx_cap = nc;
		S.rtx_head = 0;
	}
	S.rtx[(S.rtx_head + S.rtx_len++) % S.rtx_cap] = p;
}

static void on_acked(void *arg, void *handle, uint32_t bytes, uint16_t retx)
{
	(void)arg;
	(void)bytes;
	(void)retx;
	S.a_acked_pkts++;
	free(handle);
}

static void on_lost(void *arg, void *handle, uint32_t bytes, uint16_t retx)
{
	struct sim_pkt *p = handle;

	(void)arg;
	(void)bytes;
	p->retx = (uint16_t)(retx + 1);
	rtx_push(p);
}

/* Pick the next frame to start: round robin over streams with frames left and credit. */
static int next_frame(void)
{
	uint32_t k;

	for (k = 0; k < S.sc.n_streams; k++) {
		uint32_t s = (S.rr + k) % S.sc.n_streams;

		if (S.next_seq[s] < S.n_frames[s] &&
		    ist_credit_tx_can_send(S.ct, s, S.next_seq[s])) {
			S.rr = (s + 1) % S.sc.n_streams;
			S.cur_stream = s;
			return 1;
		}
	}
	return 0;
}

/*
 * Fill a new DATA packet with fragments; NULL when there is nothing to send.
 * Frames are cut the way the codec requires (ist_wire_frag_plan/span): n =
 * ceil(len / max) fragments of ceil(len / n) bytes, the last one shorter.
 * Fragments of several frames and streams share a packet when they fit.
 */
static struct sim_pkt *build_data(void)
{
	const uint32_t max = MAX_PAYLOAD - FRAG_HDR;
	struct sim_pkt *p = NULL;

	for (;;) {
		uint32_t len, seq, flen, off, piece;
		struct sim_frag *sf;

		if (!S.cur_active) {
			if (!next_frame())
				break;
			seq = S.next_seq[S.cur_stream];
			flen = S.frame_len[S.cur_stream][seq];
			S.cur_cnt = (flen + max - 1) / max;
			assert_true(S.cur_cnt <= IST_WIRE_MAX_FRAGS);
			S.cur_idx = 0;
			S.cur_active = 1;
		}
		seq = S.next_seq[S.cur_stream];
		flen = S.frame_len[S.cur_stream][seq];
		piece = (flen + S.cur_cnt - 1) / S.cur_cnt;
		off = S.cur_idx * piece;
		len = flen - off < piece ? flen - off : piece;
		if (p != NULL && (p->n_frag == MAX_FRAGS || MAX_PAYLOAD - p->used < FRAG_HDR + len))
			break; /* the fragment opens the next packet */
		if (p == NULL) {
			p = calloc(1, sizeof(*p));
			assert_non_null(p);
			p->type = PKT_DATA;
		}
		sf = &p->frag[p->n_frag++];
		sf->f.stream_id = S.cur_stream;
		sf->f.frame_seq = seq;
		sf->f.frame_len = flen;
		sf->f.frag_off = off;
		sf->f.frag_len = (uint16_t)len;
		sf->f.frag_idx = (uint8_t)S.cur_idx;
		sf->f.frag_cnt = (uint8_t)S.cur_cnt;
		sf->at = p->used + FRAG_HDR;
		memcpy(p->payload + sf->at, S.pool + frame_base(S.cur_stream, seq) + off, len);
		p->used += FRAG_HDR + len;
		if (++S.cur_idx == S.cur_cnt) {
			assert_int_equal(off + len, flen);
			S.cur_active = 0;
			S.next_seq[S.cur_stream]++;
		}
	}
	if (p != NULL)
		p->bytes = IPUDP + HDR + p->used;
	return p;
}

static uint64_t sender_run(void)
{
	ist_txwin_timeout(S.tw, S.now);
	for (;;) {
		uint64_t pn;

		if (S.pending == NULL) {
			if (S.rtx_len != 0) {
				S.pending = S.rtx[S.rtx_head];
				S.rtx_head = (S.rtx_head + 1) % S.rtx_cap;
				S.rtx_len--;
			} else {
				S.pending = build_data();
			}
		}
		if (S.pending == NULL)
			return UINT64_MAX;
		if (!ist_txwin_has_room(S.tw))
			return UINT64_MAX; /* an ACK or the timer will wake us */
		if (!ist_pacer_admit(&S.pacer, S.pending->bytes, S.now))
			return ist_pacer_next(&S.pacer, S.pending->bytes, S.now);
		assert_int_equal(ist_txwin_send(S.tw, S.pending->bytes, S.pending, S.pending->retx,
						S.now, &pn),
				 0);
		S.pending->pn = pn;
		if (S.t_first_send == 0)
			S.t_first_send = S.now;
		S.a_data_sent++;
		S.a_bytes_charged += S.pending->bytes;
		if (S.pending->retx != 0)
			S.a_retx++;
		else
			S.t_last_new = S.now;
		channel_send(S.pending, 1);
		S.pending = NULL;
	}
}

static void sender_rx(const struct sim_pkt *p)
{
	if (ist_rxwin_rx(S.a_rx, p->pn, false, S.now) != 0)
		return;
	if (p->type == PKT_ACK)
		assert_true(ist_txwin_on_ack(S.tw, &p->ack, S.now) >= 0);
	else if (p->type == PKT_CREDIT)
		ist_credit_tx_update(S.ct, p->cred, p->n_cred);
}

/* ---- receiver B ---- */

static bool deliver(void *arg, uint32_t stream_id, uint32_t frame_seq, const uint8_t *frame,
		    uint32_t len)
{
	(void)arg;
	if (frame_seq != S.expect[stream_id] || frame_seq >= S.n_frames[stream_id])
		fail_msg("stream %u: frame %u delivered, expected %u", stream_id, frame_seq,
			 S.expect[stream_id]);
	assert_int_equal(len, S.frame_len[stream_id][frame_seq]);
	if (memcmp(frame, S.pool + frame_base(stream_id, frame_seq), len) != 0)
		fail_msg("stream %u frame %u: bytes differ", stream_id, frame_seq);
	S.expect[stream_id]++;
	S.dl_t[S.delivered_frames] = S.now;
	S.delivered_frames++;
	S.delivered_bytes += len;
	S.dl_bytes[S.delivered_frames - 1] = S.delivered_bytes;
	S.t_last_delivery = S.now;
	if (S.rel_len == S.rel_cap) {
		size_t i, nc = S.rel_cap ? 2 * S.rel_cap : 256;
		void *n = malloc(nc * sizeof(*S.rel));

		assert_non_null(n);
		for (i = 0; i < S.rel_len; i++)
			memcpy((char *)n + i * sizeof(*S.rel), &S.rel[(S.rel_head + i) % S.rel_cap],
			       sizeof(*S.rel));
		free(S.rel);
		S.rel = n;
		S.rel_cap = nc;
		S.rel_head = 0;
	}
	/* the consumer (Kafka producer) gives the frame back 1 ms later */
	{
		size_t i = (S.rel_head + S.rel_len++) % S.rel_cap;

		S.rel[i].stream = stream_id;
		S.rel[i].seq = frame_seq;
		S.rel[i].t = S.now + MS;
	}
	return true;
}

static void receiver_rx(struct sim_pkt *p)
{
	uint32_t i;

	assert_int_equal(p->type, PKT_DATA);
	if (ist_rxwin_rx(S.rx, p->pn, true, S.now) != 0) {
		S.b_dup_pkts++;
		return;
	}
	for (i = 0; i < p->n_frag; i++) {
		enum ist_reasm_rc rc;

		p->frag[i].f.data = p->payload + p->frag[i].at;
		rc = ist_reasm_frag_rx(S.ra, &p->frag[i].f);
		if (rc != IST_REASM_OK && rc != IST_REASM_DUP_FRAG && rc != IST_REASM_DUP_FRAME)
			fail_msg("fragment rejected: %s", ist_reasm_rc_str(rc));
	}
}

static void receiver_run(void)
{
	static struct sim_pkt out;

	while (S.rel_len != 0 && S.rel[S.rel_head].t <= S.now) {
		assert_int_equal(ist_reasm_release(S.ra, S.rel[S.rel_head].stream,
						   S.rel[S.rel_head].seq, S.now),
				 0);
		S.rel_head = (S.rel_head + 1) % S.rel_cap;
		S.rel_len--;
	}
	if (ist_rxwin_ack_due(S.rx, S.now)) {
		memset(&out, 0, offsetof(struct sim_pkt, payload));
		out.type = PKT_ACK;
		out.pn = ++S.b_pn;
		ist_rxwin_ack_build(S.rx, &out.ack, S.now);
		channel_send(&out, 0);
	}
	while (ist_credit_rx_due(S.ra, S.now)) {
		memset(&out, 0, offsetof(struct sim_pkt, payload));
		out.type = PKT_CREDIT;
		out.pn = ++S.b_pn;
		out.n_cred = ist_credit_rx_build(S.ra, out.cred, IST_WIRE_MAX_CREDITS, S.now);
		if (out.n_cred == 0)
			break;
		channel_send(&out, 0);
	}
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void run(const struct scenario *sc, double *goodput_e2e, double *goodput_steady)
{
	struct ist_txwin_conf tc = {
		.capacity = ist_txwin_capacity((uint32_t)(sc->rate_bps / 1000000), RTT_MS, MTU),
		.peer_window = ist_rxwin_window((uint32_t)(sc->rate_bps / 1000000), RTT_MS, MTU),
		.rto = {.hz = HZ, .rtt_ms = RTT_MS, .max_ack_delay_us = 1000},
		.on_acked = on_acked,
		.on_lost = on_lost,
	};
	struct ist_rxwin_conf rc = {.hz = HZ, .window = tc.peer_window};
	struct ist_reasm_conf ac = {
		.hz = HZ,
		.n_streams = sc->n_streams,
		.slots = sc->slots,
		.slot_size = IST_WIRE_MAX_FRAME,
		.deliver = deliver,
	};
	struct ist_pacer_profile pp;
	uint64_t s, limit, win_a, win_b;
	uint32_t i;

	memset(&S, 0, sizeof(S));
	S.sc = *sc;
	S.rng = sc->seed;
	S.pool = malloc(POOL);
	assert_non_null(S.pool);
	for (i = 0; i < POOL / 8; i++) {
		uint64_t v = splitmix(&S.rng);

		memcpy(S.pool + 8 * i, &v, 8);
	}
	/* frames: 64 B .. 64 KiB, round robin over the streams, until total_bytes */
	for (s = 0; s < S.sc.n_streams; s++) {
		S.frame_len[s] = malloc(8192 * sizeof(uint32_t));
		assert_non_null(S.frame_len[s]);
	}
	while (S.total_bytes < sc->total_bytes) {
		uint32_t st = (uint32_t)(S.total_frames % S.sc.n_streams);
		uint32_t len = 64 + (uint32_t)(splitmix(&S.rng) % (IST_WIRE_MAX_FRAME - 63));

		assert_true(S.n_frames[st] < 8192);
		S.frame_len[st][S.n_frames[st]++] = len;
		S.total_frames++;
		S.total_bytes += len;
	}

	S.dl_t = calloc(S.total_frames, sizeof(uint64_t));
	S.dl_bytes = calloc(S.total_frames, sizeof(uint64_t));
	assert_non_null(S.dl_t);
	assert_non_null(S.dl_bytes);
	S.tw = ist_txwin_create(&tc, NULL);
	assert_non_null(S.tw);
	assert_int_equal(ist_pacer_profile_config(&pp, sc->rate_bps, 2 * MTU, HZ), 0);
	assert_int_equal(ist_pacer_init(&S.pacer, &pp, 0), 0);
	S.ct = ist_credit_tx_create(S.sc.n_streams, NULL);
	assert_non_null(S.ct);
	S.a_rx = ist_rxwin_create(&rc, NULL);
	S.rx = ist_rxwin_create(&rc, NULL);
	S.ra = ist_reasm_create(&ac, NULL);
	assert_non_null(S.a_rx);
	assert_non_null(S.rx);
	assert_non_null(S.ra);

	/* long enough for the transfer at the paced rate, three times over */
	limit = (uint64_t)((double)S.total_bytes * 8 / (double)sc->rate_bps * 3 * (double)HZ) +
		10 * HZ;
	while (S.delivered_frames < S.total_frames) {
		uint64_t next, wake;

		if (S.now > limit)
			fail_msg("not done after %.1f s: %llu of %llu frames", (double)S.now / HZ,
				 (unsigned long long)S.delivered_frames,
				 (unsigned long long)S.total_frames);
		while (S.n_heap != 0 && S.heap[0]->t <= S.now) {
			struct event *e = heap_pop();

			if (e->to_b)
				receiver_rx(&e->pkt);
			else
				sender_rx(&e->pkt);
			free(e);
		}
		receiver_run();
		wake = sender_run();

		next = wake;
		if (S.n_heap != 0)
			next = min64(next, S.heap[0]->t);
		if (S.rel_len != 0)
			next = min64(next, S.rel[S.rel_head].t);
		next = min64(next, ist_rxwin_ack_deadline(S.rx));
		next = min64(next, ist_credit_rx_deadline(S.ra));
		next = min64(next, ist_txwin_deadline(S.tw));
		S.now = next > S.now ? next : S.now + 1;
	}

	/* steady state: from two RTTs after the first send to the last new fragment's send,
	 * the time in which the sender always has new data and credit */
	win_a = S.t_first_send + 2 * RTT_MS * MS;
	win_b = S.t_last_new;
	assert_true(win_b > win_a + HZ);
	{
		uint64_t ba = 0, bb = 0;

		for (s = 0; s < S.delivered_frames; s++) {
			if (S.dl_t[s] <= win_a)
				ba = S.dl_bytes[s];
			if (S.dl_t[s] <= win_b)
				bb = S.dl_bytes[s];
		}
		*goodput_steady = (double)(bb - ba) * 8 / ((double)(win_b - win_a) / HZ) /
				  (double)sc->rate_bps;
	}
	*goodput_e2e = (double)S.delivered_bytes * 8 /
		       ((double)(S.t_last_delivery - S.t_first_send) / HZ) / (double)sc->rate_bps;

	print_message("loss %.1f%% reorder %.1f%% dup %.1f%%, %.0f Mb/s, RTT %d ms: %llu frames, "
		      "%.1f MB in %.3f s simulated\n",
		      sc->loss_ppm / 1e4, sc->reorder_ppm / 1e4, sc->dup_ppm / 1e4,
		      sc->rate_bps / 1e6, RTT_MS, (unsigned long long)S.total_frames,
		      S.total_bytes / 1e6, (double)(S.t_last_delivery - S.t_first_send) / HZ);
	print_message("  DATA sent %llu (retransmissions %llu = %.2f%%), channel lost %llu/%llu "
		      "A->B, %llu/%llu B->A; dup %llu, reordered %llu\n",
		      (unsigned long long)S.a_data_sent, (unsigned long long)S.a_retx,
		      100.0 * S.a_retx / S.a_data_sent, (unsigned long long)S.ch_lost[1],
		      (unsigned long long)S.ch_sent[1], (unsigned long long)S.ch_lost[0],
		      (unsigned long long)S.ch_sent[0],
		      (unsigned long long)(S.ch_dup[0] + S.ch_dup[1]),
		      (unsigned long long)(S.ch_reorder[0] + S.ch_reorder[1]));
	print_message("  lost by pkt threshold %llu, by time %llu, timeouts %llu; srtt %.2f ms; "
		      "B dropped %llu duplicate packets; credits %llu msgs\n",
		      (unsigned long long)S.tw->lost_pkt, (unsigned long long)S.tw->lost_time,
		      (unsigned long long)S.tw->pto_fired, (double)S.tw->rto.srtt / MS,
		      (unsigned long long)S.b_dup_pkts, (unsigned long long)S.ra->cr.msgs);
	print_message("  wire efficiency %.2f%% (frame bytes / bytes paced); goodput end to end "
		      "%.2f%%, steady state %.2f%% of the paced rate\n",
		      100.0 * S.delivered_bytes / S.a_bytes_charged, 100 * *goodput_e2e,
		      100 * *goodput_steady);

	assert_int_equal(S.delivered_frames, S.total_frames);
	for (s = 0; s < S.sc.n_streams; s++)
		assert_int_equal(S.expect[s], S.n_frames[s]);
	assert_int_equal(S.delivered_bytes, S.total_bytes);
	for (i = IST_REASM_E_STREAM; i < IST_REASM_RC_MAX; i++)
		assert_int_equal(S.ra->rc_count[i], 0);
	assert_int_equal(S.tw->bogus_acks, 0);

	while (S.n_heap != 0)
		free(heap_pop());
	free(S.heap);
	ist_txwin_reset(S.tw, S.now); /* hands the rest to on_lost: queue, then free */
	while (S.rtx_len != 0) {
		free(S.rtx[S.rtx_head]);
		S.rtx_head = (S.rtx_head + 1) % S.rtx_cap;
		S.rtx_len--;
	}
	free(S.pending);
	free(S.rtx);
	free(S.rel);
	free(S.dl_t);
	free(S.dl_bytes);
	for (s = 0; s < S.sc.n_streams; s++)
		free(S.frame_len[s]);
	free(S.pool);
	ist_txwin_free(S.tw);
	ist_credit_tx_free(S.ct);
	ist_rxwin_free(S.a_rx);
	ist_rxwin_free(S.rx);
	ist_reasm_free(S.ra);
}

static void test_loss_1pct(void **state)
{
	struct scenario sc = {.loss_ppm = 10000,
			      .reorder_ppm = 10000,
			      .dup_ppm = 5000,
			      .n_streams = 16,
			      .slots = 16,
			      .rate_bps = 50000000ull,
			      .total_bytes = 24000000ull,
			      .seed = 1};
	double e2e, steady;

	(void)state;
	run(&sc, &e2e, &steady);
	assert_true(steady >= 0.90);
	assert_true(e2e >= 0.87); /* start-up and the last round trip included */
}

static void test_loss_2pct(void **state)
{
	struct scenario sc = {.loss_ppm = 20000,
			      .reorder_ppm = 10000,
			      .dup_ppm = 5000,
			      .n_streams = 16,
			      .slots = 16,
			      .rate_bps = 50000000ull,
			      .total_bytes = 24000000ull,
			      .seed = 2};
	double e2e, steady;

	(void)state;
	run(&sc, &e2e, &steady);
	assert_true(steady >= 0.90);
	assert_true(e2e >= 0.86); /* start-up and the last round trip included */
}

static void test_clean(void **state)
{
	struct scenario sc = {.n_streams = 16,
			      .slots = 16,
			      .rate_bps = 50000000ull,
			      .total_bytes = 24000000ull,
			      .seed = 3};
	double e2e, steady;

	(void)state;
	run(&sc, &e2e, &steady);
	assert_true(steady >= 0.93);
	assert_true(e2e >= 0.90);
}

static void test_1g_loss_2pct(void **state)
{
	struct scenario sc = {.loss_ppm = 20000,
			      .reorder_ppm = 10000,
			      .dup_ppm = 5000,
			      .n_streams = 64,
			      .slots = 16,
			      .rate_bps = 1000000000ull,
			      .total_bytes = 200000000ull,
			      .seed = 4};
	double e2e, steady;

	(void)state;
	run(&sc, &e2e, &steady);
	assert_true(steady >= 0.90);
	assert_true(e2e >= 0.78); /* 2 s transfer: start-up and tail weigh more */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_loss_1pct),
		cmocka_unit_test(test_loss_2pct),
		cmocka_unit_test(test_1g_loss_2pct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
