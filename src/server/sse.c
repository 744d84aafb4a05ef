/*
 * sse.c -- the Server-Sent Events hub (see sse.h). Each message is rendered
 * once into a reference-counted blob and queued by reference to every
 * subscriber. Lock order: hub lock, then a client's lock; MHD_resume_connection
 * is called after both are released (the connection cannot advance while
 * suspended, so the client cannot vanish in between).
 */
#include "server/sse.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/blob.h"

typedef struct qitem {
    loupe__blob *blob;
    struct qitem *next;
} qitem;

struct loupe__sse_client {
    loupe__hub *hub;
    struct loupe__sse_client *prev, *next; /* hub list (hub lock) */
    int64_t study_id;
    struct MHD_Connection *conn;
    pthread_mutex_t lock; /* the fields below */
    qitem *head, *tail;
    size_t head_off; /* bytes of head already sent */
    size_t queued;   /* bytes not yet sent */
    int suspended;
    int closing; /* end the stream at the next read */
};

struct loupe__hub {
    pthread_mutex_t lock;
    pthread_cond_t emptied;
    loupe__sse_client *clients;
    size_t n, max_clients, queue_cap;
    int closing;
};

loupe__hub *loupe__hub_new(size_t max_clients, size_t queue_cap) {
    loupe__hub *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->emptied, NULL);
    h->max_clients = max_clients;
    h->queue_cap = queue_cap;
    return h;
}

void loupe__hub_free(loupe__hub *hub) {
    if (!hub) return;
    pthread_mutex_destroy(&hub->lock);
    pthread_cond_destroy(&hub->emptied);
    free(hub);
}

static void queue_clear(loupe__sse_client *c) {
    for (qitem *q = c->head, *nx; q; q = nx) {
        nx = q->next;
        loupe__blob_release(q->blob);
        free(q);
    }
    c->head = c->tail = NULL;
    c->head_off = c->queued = 0;
}

/* Appends blob (retained) to c's queue; c->lock held. Returns 1 when the
 * connection must be resumed by the caller (after unlocking). */
static int enqueue_locked(loupe__sse_client *c, loupe__blob *blob, size_t cap) {
    if (c->closing) return 0;
    if (cap && c->queued + blob->len > cap) {
        /* too slow: drop the stream, the browser reconnects and refetches */
        queue_clear(c);
        c->closing = 1;
    } else {
        qitem *q = malloc(sizeof *q);
        if (!q) {
            c->closing = 1;
        } else {
            q->blob = loupe__blob_retain(blob);
            q->next = NULL;
            if (c->tail) c->tail->next = q;
            else c->head = q;
            c->tail = q;
            c->queued += blob->len;
        }
    }
    if (c->suspended) {
        c->suspended = 0;
        return 1;
    }
    return 0;
}

loupe__sse_client *loupe__hub_subscribe(loupe__hub *hub, int64_t study_id,
                                        struct MHD_Connection *conn) {
    loupe__sse_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->hub = hub;
    c->study_id = study_id;
    c->conn = conn;
    static const char hello[] = "retry: 2000\n: connected\n\n";
    loupe__blob *b = loupe__blob_new(hello, sizeof hello - 1);
    pthread_mutex_lock(&hub->lock);
    if (!b || hub->closing || hub->n >= hub->max_clients) {
        pthread_mutex_unlock(&hub->lock);
        loupe__blob_release(b);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    enqueue_locked(c, b, 0);
    loupe__blob_release(b);
    c->next = hub->clients;
    if (hub->clients) hub->clients->prev = c;
    hub->clients = c;
    hub->n++;
    pthread_mutex_unlock(&hub->lock);
    return c;
}

ssize_t loupe__sse_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    loupe__sse_client *c = cls;
    pthread_mutex_lock(&c->lock);
    size_t n = 0;
    while (c->head && n < max) {
        qitem *q = c->head;
        size_t take = q->blob->len - c->head_off;
        if (take > max - n) take = max - n;
        memcpy(buf + n, q->blob->data + c->head_off, take);
        n += take;
        c->head_off += take;
        c->queued -= take;
        if (c->head_off == q->blob->len) {
            c->head = q->next;
            if (!c->head) c->tail = NULL;
            c->head_off = 0;
            loupe__blob_release(q->blob);
            free(q);
        }
    }
    if (n == 0) {
        if (c->closing) {
            pthread_mutex_unlock(&c->lock);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        /* nothing to send: park the connection until publish resumes it */
        c->suspended = 1;
        MHD_suspend_connection(c->conn);
    }
    pthread_mutex_unlock(&c->lock);
    return (ssize_t)n;
}

void loupe__sse_free(void *cls) {
    loupe__sse_client *c = cls;
    loupe__hub *hub = c->hub;
    pthread_mutex_lock(&hub->lock);
    if (c->prev) c->prev->next = c->next;
    else hub->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    hub->n--;
    if (hub->n == 0) pthread_cond_broadcast(&hub->emptied);
    pthread_mutex_unlock(&hub->lock);
    queue_clear(c);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Queues blob (may be NULL) for the matching clients (all when `all`), and
 * with close ends their streams. Connections to resume are collected under the
 * hub lock and resumed after it is released: a connection stays suspended (so
 * MHD cannot close or free it) until that call. */
static void deliver(loupe__hub *hub, int64_t study_id, int all, loupe__blob *blob, int close) {
    pthread_mutex_lock(&hub->lock);
    struct MHD_Connection **resume = malloc((hub->n ? hub->n : 1) * sizeof *resume);
    size_t nres = 0;
    for (loupe__sse_client *c = hub->clients; c; c = c->next) {
        if (!all && c->study_id != study_id) continue;
        pthread_mutex_lock(&c->lock);
        int r = 0;
        if (blob && resume) r = enqueue_locked(c, blob, hub->queue_cap);
        if (close || !resume) {
            c->closing = 1;
            if (c->suspended) {
                c->suspended = 0;
                r = 1;
            }
        }
        pthread_mutex_unlock(&c->lock);
        if (r && resume) resume[nres++] = c->conn;
        else if (r) MHD_resume_connection(c->conn); /* no memory for the list */
    }
    pthread_mutex_unlock(&hub->lock);
    for (size_t i = 0; i < nres; i++) MHD_resume_connection(resume[i]);
    free(resume);
}

void loupe__hub_publish(loupe__hub *hub, int64_t study_id, const char *event, const char *data,
                        size_t len) {
    size_t elen = strlen(event);
    size_t total = 7 + elen + 7 + len + 2;
    char *msg = malloc(total + 1);
    if (!msg) return;
    int off = snprintf(msg, total + 1, "event: %s\ndata: ", event);
    memcpy(msg + off, data, len);
    memcpy(msg + off + len, "\n\n", 2);
    loupe__blob *b = loupe__blob_new(msg, (size_t)off + len + 2);
    free(msg);
    if (!b) return;
    deliver(hub, study_id, study_id < 0, b, 0);
    loupe__blob_release(b);
}

void loupe__hub_ping(loupe__hub *hub) {
    static const char ping[] = ": ping\n\n";
    loupe__blob *b = loupe__blob_new(ping, sizeof ping - 1);
    if (!b) return;
    deliver(hub, -1, 1, b, 0);
    loupe__blob_release(b);
}

void loupe__hub_close_all(loupe__hub *hub) {
    pthread_mutex_lock(&hub->lock);
    hub->closing = 1;
    pthread_mutex_unlock(&hub->lock);
    deliver(hub, -1, 1, NULL, 1);
}

void loupe__hub_wait_empty(loupe__hub *hub, int timeout_ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&hub->lock);
    while (hub->n > 0)
        if (pthread_cond_timedwait(&hub->emptied, &hub->lock, &until)) break;
    pthread_mutex_unlock(&hub->lock);
}

size_t loupe__hub_count(loupe__hub *hub) {
    pthread_mutex_lock(&hub->lock);
    size_t n = hub->n;
    pthread_mutex_unlock(&hub->lock);
    return n;
}

int loupe__hub_has_subscribers(loupe__hub *hub, int64_t study_id) {
    int found = 0;
    pthread_mutex_lock(&hub->lock);
    for (loupe__sse_client *c = hub->clients; c && !found; c = c->next)
        found = c->study_id == study_id;
    pthread_mutex_unlock(&hub->lock);
    return found;
}
