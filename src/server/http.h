/*
 * http.h -- what request handlers see: the parsed request, the response they
 * fill in, and the server context. Handlers never call libmicrohttpd
 * themselves; http.c turns a loupe__resp into an MHD response.
 */
#ifndef LOUPE_SERVER_HTTP_H
#define LOUPE_SERVER_HTTP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "server/blob.h"
#include "server/pool.h"
#include "server/router.h"
#include "server/server.h"
#include "server/sse.h"
#include "server/view.h"
#include "util/buf.h"
#include "yyjson.h"

struct MHD_Connection;
struct MHD_Daemon;
typedef struct loupe__imp_cache loupe__imp_cache;
typedef struct loupe__compact_cache loupe__compact_cache;

struct loupe__server {
    loupe__server_config cfg; /* strings below are owned copies */
    char *storage_url, *artifact_dir, *host, *base_path, *token;
    char **allowed;
    struct MHD_Daemon *daemon;
    loupe__pool *pool;
    loupe__views *views;
    loupe__hub *hub;
    loupe__imp_cache *imp;
    loupe__compact_cache *compact; /* api_compact.c */
    int art_dirfd; /* -1 without an artifact dir */
    uint16_t port;
    pthread_mutex_t log_lock;
};

typedef struct loupe__req {
    loupe__server *srv;
    struct MHD_Connection *conn;
    loupe__method method;
    const char *method_name;
    const char *path; /* below the base path; NULL when outside it */
    loupe__route route;
    loupe__buf body;
} loupe__req;

typedef enum loupe__resp_kind {
    LOUPE__RESP_BUF = 0, /* body */
    LOUPE__RESP_STATIC,  /* data/len (not freed) */
    LOUPE__RESP_FD,      /* fd (closed by MHD), off, len */
    LOUPE__RESP_DETAIL,  /* a study snapshot streamed (snap, after) */
    LOUPE__RESP_SSE      /* an event stream (sse) */
} loupe__resp_kind;

#define LOUPE__MAX_HEADERS 10

typedef struct loupe__resp {
    unsigned status;
    const char *ctype; /* a static string, or ctype_buf */
    char ctype_buf[128];
    loupe__resp_kind kind;
    loupe__buf body;
    const void *data;
    size_t len;
    int fd;
    uint64_t off, flen;
    loupe__snap *snap;
    size_t after;
    loupe__sse_client *sse;
    int close; /* Connection: close */
    size_t nhdr;
    struct {
        char name[40];
        char *value;
    } hdr[LOUPE__MAX_HEADERS];
} loupe__resp;

/* Request accessors (NULL when absent). */
const char *loupe__req_header(const loupe__req *req, const char *name);
const char *loupe__req_query(const loupe__req *req, const char *key);

/* Response builders. */
void loupe__resp_header(loupe__resp *resp, const char *name, const char *value);
/* {"reason": "<message>"} with status. */
void loupe__resp_error(loupe__resp *resp, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A JSON body already in resp->body (ctype and status set). */
void loupe__resp_json(loupe__resp *resp, unsigned status);
void loupe__resp_no_content(loupe__resp *resp);

/* Parses the request body as a JSON object; on failure fills resp with 400
 * and returns NULL. Free with yyjson_doc_free. */
yyjson_doc *loupe__req_json_object(const loupe__req *req, loupe__resp *resp);

/* Shared by the handlers (api_util.c). */
/* The HTTP status for a loupe status: 400 bad input, 404 missing, 409 a
 * conflict with the stored state, 503 busy, 500 the server's own trouble. */
unsigned loupe__http_status(int rc);
/* resp = {"reason": msg} with the status mapped from rc. */
void loupe__resp_lib_error(loupe__resp *resp, int rc, const char *msg);
/* The name of study sid from the watcher's picture (malloc'd); NULL with resp
 * filled (404 "study_id=N is not found"). Call it before taking a pool slot:
 * it may wait for the watcher, which needs the slot of a ":memory:" storage. */
char *loupe__api_study_name(loupe__req *req, int64_t sid, loupe__resp *resp);
/* Loads the study of that name on the slot's storage; fills resp and returns
 * non-zero on failure. */
int loupe__api_load_study(loupe__slot *slot, const char *name, int64_t sid, loupe_study **out,
                          loupe__resp *resp);
/* A JSON value re-encoded in Python's json.dumps form (malloc'd). */
char *loupe__json_text(yyjson_val *v);

/* Handlers (api_*.c, assets.c). Each fills resp. */
void loupe__api_meta(loupe__req *req, loupe__resp *resp);
void loupe__api_studies(loupe__req *req, loupe__resp *resp);
void loupe__api_study_create(loupe__req *req, loupe__resp *resp);
void loupe__api_study(loupe__req *req, loupe__resp *resp);
void loupe__api_study_delete(loupe__req *req, loupe__resp *resp);
void loupe__api_study_rename(loupe__req *req, loupe__resp *resp);
void loupe__api_note(loupe__req *req, loupe__resp *resp);
void loupe__api_importances(loupe__req *req, loupe__resp *resp);
void loupe__api_study_compact(loupe__req *req, loupe__resp *resp);
void loupe__api_plot(loupe__req *req, loupe__resp *resp);
void loupe__api_tell(loupe__req *req, loupe__resp *resp);
void loupe__api_user_attrs(loupe__req *req, loupe__resp *resp);
void loupe__api_preference(loupe__req *req, loupe__resp *resp);
void loupe__api_csv(loupe__req *req, loupe__resp *resp);
void loupe__api_artifact_get(loupe__req *req, loupe__resp *resp);
void loupe__api_artifact_upload(loupe__req *req, loupe__resp *resp);
void loupe__api_artifact_delete(loupe__req *req, loupe__resp *resp);
void loupe__api_events(loupe__req *req, loupe__resp *resp);
void loupe__page(loupe__req *req, loupe__resp *resp);
void loupe__static(loupe__req *req, loupe__resp *resp);

/* Importance cache (importance.c). */
loupe__imp_cache *loupe__imp_cache_new(void);
void loupe__imp_cache_free(loupe__imp_cache *c);
loupe__compact_cache *loupe__compact_cache_new(void);
void loupe__compact_cache_free(loupe__compact_cache *c);

#endif
