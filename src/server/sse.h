/*
 * sse.h -- the Server-Sent Events hub: one stream per browser tab
 * (GET /api/events[?study_id=N]), fed by the watcher thread. Streams are MHD
 * callback responses whose connections are suspended while they have nothing
 * to send and resumed on publish, so an idle stream costs no thread and no CPU.
 * A periodic comment (": ping") finds clients that went away (a suspended
 * connection never notices a disconnect by itself).
 */
#ifndef LOUPE_SERVER_SSE_H
#define LOUPE_SERVER_SSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct MHD_Connection;
typedef struct loupe__hub loupe__hub;
typedef struct loupe__sse_client loupe__sse_client;

/* max_clients caps open streams; queue_cap caps the bytes queued for one slow
 * client before it is dropped (it reconnects and refetches). */
loupe__hub *loupe__hub_new(size_t max_clients, size_t queue_cap);
/* Frees the hub; every stream must have ended (see loupe__hub_close_all). */
void loupe__hub_free(loupe__hub *hub);

/* A new stream subscribed to study_id (-1: study-list events only); NULL when
 * the hub is full, closing, or out of memory. conn is the stream's connection
 * (used to suspend and resume it). The caller passes the client to
 * MHD_create_response_from_callback with loupe__sse_read / loupe__sse_free. */
loupe__sse_client *loupe__hub_subscribe(loupe__hub *hub, int64_t study_id,
                                        struct MHD_Connection *conn);
ssize_t loupe__sse_read(void *cls, uint64_t pos, char *buf, size_t max);
void loupe__sse_free(void *cls);

/* Sends "event: <event>\ndata: <data>\n\n" to the subscribers of study_id, or
 * to every stream when study_id is -1. data must be one line (JSON is). */
void loupe__hub_publish(loupe__hub *hub, int64_t study_id, const char *event, const char *data,
                        size_t len);
/* Sends the ": ping" comment to every stream (drops dead connections). */
void loupe__hub_ping(loupe__hub *hub);
/* Ends every stream and refuses new ones; call before MHD_stop_daemon. */
void loupe__hub_close_all(loupe__hub *hub);
/* Waits (up to timeout_ms) until every stream has been freed by MHD. */
void loupe__hub_wait_empty(loupe__hub *hub, int timeout_ms);
/* Open streams, and the study ids that have at least one subscriber. */
size_t loupe__hub_count(loupe__hub *hub);
int loupe__hub_has_subscribers(loupe__hub *hub, int64_t study_id);

#endif
