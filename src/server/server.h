/*
 * server.h -- the dashboard server as the `loupe dashboard` verb and the tests
 * use it: start it on a storage URL, learn its port, stop it.
 */
#ifndef LOUPE_SERVER_SERVER_H
#define LOUPE_SERVER_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct loupe__server_config {
    const char *storage_url;  /* required */
    const char *artifact_dir; /* NULL: no artifact store (upload/download refused) */
    const char *host;         /* bind address; NULL = "127.0.0.1" */
    int port;                 /* 0 = any free port */
    int quiet;                /* no request log */
    int read_only;            /* refuse every write */
    const char *base_path;    /* NULL/"" or "/prefix" (no trailing slash) */
    const char *token;        /* NULL: no token required */
    const char *const *allowed_hosts; /* extra names accepted in Host headers */
    size_t n_allowed_hosts;
    size_t threads;    /* HTTP worker threads; 0 = min(nproc, 4) */
    size_t max_body;   /* JSON request limit in bytes; 0 = 1 MiB */
    size_t max_upload; /* artifact upload limit in bytes; 0 = 128 MiB (upstream's) */
    int poll_ms;       /* storage change poll period; 0 = 25 ms */
    size_t json_budget; /* trial JSON bytes a study keeps uncompressed; 0 = 16 MiB */
    int ping_ms;       /* SSE heartbeat; 0 = 15 s */
} loupe__server_config;

typedef struct loupe__server loupe__server;

/* Opens the storage, starts the watcher and the HTTP daemon. On failure
 * returns a loupe status with a message (what failed and how to fix it) in err. */
int loupe__server_start(const loupe__server_config *cfg, loupe__server **out, char *err,
                        size_t errcap);
/* The port actually bound (useful with port 0). */
uint16_t loupe__server_port(const loupe__server *srv);
/* Ends SSE streams, stops the daemon and the watcher, frees everything. */
void loupe__server_stop(loupe__server *srv);
/* Open SSE streams (for tests and diagnostics). */
size_t loupe__server_sse_clients(loupe__server *srv);

#endif
