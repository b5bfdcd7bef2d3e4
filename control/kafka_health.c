/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "kafka_health.h"
#include "log.h"

struct kh_cluster {
	struct ist_kafka_health *kh;
	const struct ist_cfg_kafka *cfg; /* copied into kh->cfgs, read-only */
	unsigned int idx;
	pthread_t thread;
	bool started;
	rd_kafka_t *rk; /* worker thread only */

	/* Written by librdkafka's threads (log) and the worker (error_cb via
	 * rd_kafka_poll), read by the worker: own lock, never held by the loop. */
	pthread_mutex_t note_lock;
	char note[IST_KH_ERR_LEN];
};

struct ist_kafka_health {
	unsigned int n;
	uint32_t interval_ms;
	uint32_t timeout_ms;
	struct ist_cfg_kafka *cfgs;
	struct kh_cluster *cl;

	pthread_mutex_t lock; /* guards state[] and stop */
	pthread_cond_t cond;  /* signalled on stop */
	bool stop;
	struct ist_kafka_cluster_state *state; /* loop: ro copy, workers: rw */
};

static uint64_t kh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void kh_note(struct kh_cluster *c, const char *msg)
{
	pthread_mutex_lock(&c->note_lock);
	snprintf(c->note, sizeof(c->note), "%s", msg);
	pthread_mutex_unlock(&c->note_lock);
}

/* librdkafka logs every failed connect; keep the latest warning or error as
 * the detail of our own error string instead of printing it. */
static void kh_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct kh_cluster *c = rd_kafka_opaque(rk);

	(void)fac;
	if (c != NULL && level <= 4)
		kh_note(c, buf);
}

static void kh_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kh_cluster *c = opaque;

	(void)rk;
	(void)err;
	kh_note(c, reason);
}

static rd_kafka_t *kh_handle_new(struct kh_cluster *c, char *err, size_t errlen)
{
	const struct ist_cfg_kafka *k = c->cfg;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char cerr[256];
	rd_kafka_t *rk;
	unsigned int i;

	/* Our defaults first so that the cluster's rdkafka.* props can override
	 * them: reconnect quickly enough to see a recovered cluster within a
	 * few refreshes (librdkafka's default backoff grows to 10 s). */
	static const char *const defaults[][2] = {
		{"client.id", "isthmus-control-health"},
		{"reconnect.backoff.max.ms", "2000"},
		{"socket.connection.setup.timeout.ms", "5000"},
	};
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1], cerr, sizeof(cerr));
	if (rd_kafka_conf_set(conf, "bootstrap.servers", k->bootstrap, cerr, sizeof(cerr)) !=
	    RD_KAFKA_CONF_OK) {
		snprintf(err, errlen, "bootstrap.servers: %s", cerr);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	for (i = 0; i < k->n_props; i++) {
		const char *name = k->props[i].name;

		if (strncmp(name, "rdkafka.", 8) == 0)
			name += 8;
		if (rd_kafka_conf_set(conf, name, k->props[i].value, cerr, sizeof(cerr)) !=
		    RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "rdkafka.%s: %s", name, cerr);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	rd_kafka_conf_set_opaque(conf, c);
	rd_kafka_conf_set_log_cb(conf, kh_log_cb);
	rd_kafka_conf_set_error_cb(conf, kh_error_cb);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, cerr, sizeof(cerr));
	if (rk == NULL) {
		snprintf(err, errlen, "cannot create a librdkafka handle: %s", cerr);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

/* One metadata refresh; fills @p st's result fields. @locality health thread */
static void kh_refresh(struct kh_cluster *c, struct ist_kafka_cluster_state *st)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t rc;
	char note[IST_KH_ERR_LEN];

	st->error[0] = '\0';
	if (c->rk == NULL) {
		c->rk = kh_handle_new(c, st->error, sizeof(st->error));
		if (c->rk == NULL) {
			st->reachable = false;
			st->brokers = 0;
			st->topics = 0;
			return;
		}
	}
	rc = rd_kafka_metadata(c->rk, 1, NULL, &md, (int)c->kh->timeout_ms);
	rd_kafka_poll(c->rk, 0); /* serve error_cb */
	if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
		pthread_mutex_lock(&c->note_lock);
		snprintf(note, sizeof(note), "%s", c->note);
		pthread_mutex_unlock(&c->note_lock);
		st->reachable = false;
		st->brokers = 0;
		st->topics = 0;
		if (note[0] != '\0')
			snprintf(st->error, sizeof(st->error), "%s: %s", rd_kafka_err2str(rc),
				 note);
		else
			snprintf(st->error, sizeof(st->error), "%s", rd_kafka_err2str(rc));
		return;
	}
	/* librdkafka reports a repeated connect error once and then only
	 * counts it, so the note is kept across failures, cleared on success. */
	kh_note(c, "");
	st->reachable = true;
	st->brokers = (uint32_t)md->broker_cnt;
	st->topics = (uint32_t)md->topic_cnt;
	rd_kafka_metadata_destroy(md);
}

static void *kh_thread(void *arg)
{
	struct kh_cluster *c = arg;
	struct ist_kafka_health *kh = c->kh;

	pthread_mutex_lock(&kh->lock);
	while (!kh->stop) {
		struct ist_kafka_cluster_state st = kh->state[c->idx];
		bool was_checked = st.checked, was_reachable = st.reachable;
		struct timespec until;
		uint64_t now;

		pthread_mutex_unlock(&kh->lock);
		kh_refresh(c, &st);
		now = kh_now_ms();
		st.checked = true;
		st.last_check_ms = now;
		if (st.reachable)
			st.last_ok_ms = now;
		if (!was_checked || was_reachable != st.reachable) {
			if (st.reachable)
				ist_ctl_log("kafka %s: reachable at %s (%u brokers, %u topics)",
					    st.name, st.bootstrap, st.brokers, st.topics);
			else
				ist_ctl_log("kafka %s: unreachable at %s (%s); checking every %u "
					    "ms",
					    st.name, st.bootstrap, st.error, kh->interval_ms);
		}

		pthread_mutex_lock(&kh->lock);
		kh->state[c->idx] = st;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += kh->interval_ms / 1000u;
		until.tv_nsec += (long)(kh->interval_ms % 1000u) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!kh->stop && pthread_cond_timedwait(&kh->cond, &kh->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&kh->lock);
	if (c->rk != NULL)
		rd_kafka_destroy(c->rk);
	c->rk = NULL;
	return NULL;
}

struct ist_kafka_health *ist_kafka_health_start(const struct ist_cfg_kafka *clusters,
						unsigned int n, uint32_t interval_ms,
						uint32_t timeout_ms, char *err, size_t errlen)
{
	struct ist_kafka_health *kh = calloc(1, sizeof(*kh));
	pthread_condattr_t ca;
	unsigned int i;
	int rc;

	if (kh == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	kh->n = n;
	kh->interval_ms = interval_ms;
	kh->timeout_ms = timeout_ms;
	kh->cfgs = calloc(n ? n : 1, sizeof(*kh->cfgs));
	kh->cl = calloc(n ? n : 1, sizeof(*kh->cl));
	kh->state = calloc(n ? n : 1, sizeof(*kh->state));
	if (kh->cfgs == NULL || kh->cl == NULL || kh->state == NULL) {
		free(kh->cfgs);
		free(kh->cl);
		free(kh->state);
		free(kh);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&kh->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&kh->cond, &ca);
	pthread_condattr_destroy(&ca);

	for (i = 0; i < n; i++) {
		kh->cfgs[i] = clusters[i];
		snprintf(kh->state[i].name, sizeof(kh->state[i].name), "%s", clusters[i].name);
		snprintf(kh->state[i].bootstrap, sizeof(kh->state[i].bootstrap), "%s",
			 clusters[i].bootstrap);
		kh->cl[i].kh = kh;
		kh->cl[i].cfg = &kh->cfgs[i];
		kh->cl[i].idx = i;
		pthread_mutex_init(&kh->cl[i].note_lock, NULL);
	}
	for (i = 0; i < n; i++) {
		rc = pthread_create(&kh->cl[i].thread, NULL, kh_thread, &kh->cl[i]);
		if (rc != 0) {
			snprintf(err, errlen, "cannot start the health thread of kafka %s: %s",
				 clusters[i].name, strerror(rc));
			ist_kafka_health_stop(kh);
			return NULL;
		}
		kh->cl[i].started = true;
	}
	return kh;
}

unsigned int ist_kafka_health_snapshot(struct ist_kafka_health *kh,
				       struct ist_kafka_cluster_state *out, unsigned int max)
{
	unsigned int n;

	if (kh == NULL)
		return 0;
	n = kh->n < max ? kh->n : max;
	pthread_mutex_lock(&kh->lock);
	memcpy(out, kh->state, n * sizeof(*out));
	pthread_mutex_unlock(&kh->lock);
	return kh->n;
}

void ist_kafka_health_stop(struct ist_kafka_health *kh)
{
	unsigned int i;

	if (kh == NULL)
		return;
	pthread_mutex_lock(&kh->lock);
	kh->stop = true;
	pthread_cond_broadcast(&kh->cond);
	pthread_mutex_unlock(&kh->lock);
	for (i = 0; i < kh->n; i++) {
		if (kh->cl[i].started)
			pthread_join(kh->cl[i].thread, NULL);
		pthread_mutex_destroy(&kh->cl[i].note_lock);
	}
	pthread_cond_destroy(&kh->cond);
	pthread_mutex_destroy(&kh->lock);
	free(kh->cfgs);
	free(kh->cl);
	free(kh->state);
	free(kh);
}
