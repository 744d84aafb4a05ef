/* test_server_sse.c -- the dashboard server in-process: live-update streams
 * (events arrive, dropped clients are freed, stop with streams open, what an
 * event names can be read at once), and concurrent reads and writes on many
 * threads. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#ifdef LOUPE_HAVE_SERVER
#include "loupe.h"
#include "server/server.h"
#include "testutil.h"

static int connect_to(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) fail_msg("cannot connect to port %u", port);
    return fd;
}

/* One request with Connection: close; returns the status and the body (malloc'd). */
static int http(uint16_t port, const char *method, const char *path, const char *body, char **out) {
    int fd = connect_to(port);
    char req[4096];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, port, body ? strlen(body) : 0, body ? body : "");
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    char *b = strstr(buf, "\r\n\r\n");
    if (out) *out = strdup(b ? b + 4 : "");
    free(buf);
    return status;
}

/* Reads from fd until `want` appears or timeout_ms passes; returns 1 if seen. */
static int read_until(int fd, const char *want, int timeout_ms, char *acc, size_t cap) {
    size_t len = strlen(acc);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!strstr(acc, want)) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long left = timeout_ms - ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0) return 0;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0) continue;
        ssize_t r = read(fd, acc + len, cap - len - 1);
        if (r <= 0) return 0;
        len += (size_t)r;
        acc[len] = '\0';
    }
    return 1;
}

static void wait_count(loupe__server *srv, size_t want, int timeout_ms) {
    for (int i = 0; i < timeout_ms / 10 && loupe__server_sse_clients(srv) != want; i++) usleep(10000);
    assert_int_equal(loupe__server_sse_clients(srv), want);
}

static loupe__server *start_on(const char *url, const char *artifact_dir, int ping_ms, int poll_ms) {
    loupe__server_config cfg = {0};
    cfg.storage_url = url;
    cfg.artifact_dir = artifact_dir;
    cfg.quiet = 1;
    cfg.ping_ms = ping_ms;
    cfg.poll_ms = poll_ms;
    cfg.threads = 2;
    loupe__server *srv = NULL;
    char err[512];
    if (loupe__server_start(&cfg, &srv, err, sizeof err)) fail_msg("server: %s", err);
    return srv;
}

static loupe__server *start(void) { return start_on(":memory:", NULL, 50, 10); }

static void test_events_and_drops(void **state) {
    (void)state;
    loupe__server *srv = start();
    uint16_t port = loupe__server_port(srv);
    char *body = NULL;
    assert_int_equal(http(port, "POST", "/api/studies", "{\"study_name\": \"s\", \"directions\": [\"minimize\"]}", &body), 201);
    long long sid = -1;
    char *p = strstr(body, "\"study_id\": ");
    assert_non_null(p);
    sscanf(p + 12, "%lld", &sid);
    free(body);
    int fd = connect_to(port);
    char req[256], path[128];
    int n = snprintf(req, sizeof req, "GET /api/events?study_id=%lld HTTP/1.1\r\nHost: localhost:%u\r\n\r\n", sid, port);
    assert_int_equal(write(fd, req, (size_t)n), n);
    static char acc[1 << 16];
    acc[0] = '\0';
    assert_true(read_until(fd, ": connected", 3000, acc, sizeof acc));
    assert_non_null(strstr(acc, "text/event-stream"));
    wait_count(srv, 1, 2000);
    /* a note write reaches the stream as a "study" event; heartbeats flow */
    snprintf(path, sizeof path, "/api/studies/%lld/note", sid);
    assert_int_equal(http(port, "PUT", path, "{\"version\": 1, \"body\": \"hello sse\"}", NULL), 204);
    assert_true(read_until(fd, "hello sse", 3000, acc, sizeof acc));
    char want[128];
    snprintf(want, sizeof want, "event: study\ndata: {\"study_id\": %lld, \"name\": \"s\"", sid);
    assert_non_null(strstr(acc, want));
    assert_true(read_until(fd, ": ping", 3000, acc, sizeof acc));
    /* a client that goes away is found by the next heartbeat and freed */
    close(fd);
    wait_count(srv, 0, 3000);
    /* many clients that connect and vanish leave nothing behind */
    for (int i = 0; i < 20; i++) {
        int c = connect_to(port);
        n = snprintf(req, sizeof req, "GET /api/events HTTP/1.1\r\nHost: localhost:%u\r\n\r\n", port);
        assert_int_equal(write(c, req, (size_t)n), n);
        char small[512] = "";
        assert_true(read_until(c, ": connected", 3000, small, sizeof small));
        close(c);
    }
    wait_count(srv, 0, 5000);
    /* stopping with an open (suspended) stream ends it and returns */
    fd = connect_to(port);
    n = snprintf(req, sizeof req, "GET /api/events?study_id=%lld HTTP/1.1\r\nHost: localhost:%u\r\n\r\n", sid, port);
    assert_int_equal(write(fd, req, (size_t)n), n);
    acc[0] = '\0';
    assert_true(read_until(fd, ": connected", 3000, acc, sizeof acc));
    wait_count(srv, 1, 2000);
    loupe__server_stop(srv);
    char rest[256];
    struct pollfd pf = {fd, POLLIN, 0};
    assert_true(poll(&pf, 1, 3000) == 1);
    while (read(fd, rest, sizeof rest) > 0) {
    }
    close(fd);
}

/* A client that fetches what an event announces, the moment it arrives, finds it:
 * a script (another storage handle) uploads an artifact; the event naming it
 * comes only after the snapshot that serves it. The study is the first of many,
 * so the old order (events sent while the other studies were still being read)
 * left a window of milliseconds in which the download was a 404. */
static void test_event_then_read(void **state) {
    (void)state;
    char url[600], art[512];
    tu_sqlite_url(url, sizeof url, "event_then_read.db");
    tu_path(art, sizeof art, "event_then_read_artifacts");
    assert_int_equal(mkdir(art, 0755), 0);
    loupe_storage *st = NULL;
    assert_int_equal(loupe_storage_open(url, LOUPE_OPEN_NOSYNC, &st), LOUPE_OK);
    loupe_artifact_store *store = NULL;
    assert_int_equal(loupe_artifact_store_fs_open(art, &store), LOUPE_OK);
    loupe_direction dir = LOUPE_MINIMIZE;
    loupe_study *first = NULL;
    enum { N_STUDIES = 40, N_OPEN = 20, N_UPLOADS = 8 };
    loupe_trial *trials[N_OPEN] = {0};
    for (int i = 0; i < N_STUDIES; i++) {
        char name[32];
        snprintf(name, sizeof name, "s%02d", i);
        loupe_study *s = NULL;
        assert_int_equal(loupe_study_create(st, name, 1, &dir, 0, &s), LOUPE_OK);
        /* unfinished trials are read again at every refresh: each study takes a while */
        for (int k = 0; k < N_OPEN; k++) {
            loupe_trial *t = NULL;
            assert_int_equal(loupe_study_ask(s, &t), LOUPE_OK);
            if (i == 0) trials[k] = t;
            else loupe_trial_free(t);
        }
        if (i == 0) first = s;
        else loupe_study_close(s);
    }
    long long sid = loupe_study_id(first);

    loupe__server *srv = start_on(url, art, 1000, 5);
    uint16_t port = loupe__server_port(srv);
    int fd = connect_to(port);
    char req[256];
    int n = snprintf(req, sizeof req, "GET /api/events?study_id=%lld HTTP/1.1\r\nHost: localhost:%u\r\n\r\n", sid, port);
    assert_int_equal(write(fd, req, (size_t)n), n);
    static char acc[1 << 20];
    acc[0] = '\0';
    assert_true(read_until(fd, ": connected", 3000, acc, sizeof acc));
    wait_count(srv, 1, 2000);
    for (int k = 0; k < N_UPLOADS; k++) {
        char id[37], path[256];
        assert_int_equal(loupe_artifact_upload_buffer(store, first, trials[k], "a.txt", "hello", 5, "text/plain", NULL, id), LOUPE_OK);
        assert_true(read_until(fd, id, 5000, acc, sizeof acc));
        snprintf(path, sizeof path, "/artifacts/%lld/%lld/%s", sid, (long long)loupe_trial_id(trials[k]), id);
        char *body = NULL;
        int status = http(port, "GET", path, NULL, &body);
        if (status != 200) fail_msg("upload %d: GET %s right after its event: %d %s", k, path, status, body);
        assert_string_equal(body, "hello");
        free(body);
    }
    close(fd);
    loupe__server_stop(srv);
    for (int k = 0; k < N_OPEN; k++) loupe_trial_free(trials[k]);
    loupe_study_close(first);
    loupe_artifact_store_close(store);
    loupe_storage_close(st);
}

typedef struct worker {
    uint16_t port;
    int id;
    int failures;
    long long sid, tid;
} worker;

static void *reader(void *arg) {
    worker *w = arg;
    for (int i = 0; i < 60; i++) {
        char *body = NULL, path[64];
        snprintf(path, sizeof path, "/api/studies/%lld", w->sid);
        int st = http(w->port, "GET", i % 2 ? path : "/api/studies", NULL, &body);
        if (st != 200 || !body || body[0] != '{') w->failures++;
        free(body);
    }
    return NULL;
}

static void *writer(void *arg) {
    worker *w = arg;
    for (int i = 0; i < 20; i++) {
        char body[128], path[64];
        snprintf(body, sizeof body, "{\"user_attrs\": {\"w%d\": %d}}", w->id, i);
        snprintf(path, sizeof path, "/api/trials/%lld/user-attrs", w->tid);
        if (http(w->port, "POST", path, body, NULL) != 204) w->failures++;
    }
    return NULL;
}

static void test_concurrency(void **state) {
    (void)state;
    char url[1024], path[768];
    tu_sqlite_url(url, sizeof url, "sse-concurrency.db");
    tu_path(path, sizeof path, "sse-concurrency.db");
    /* a study with one running trial, written through the library */
    loupe_storage *s = NULL;
    assert_int_equal(loupe_storage_open(url, 0, &s), LOUPE_OK);
    loupe_direction d = LOUPE_MINIMIZE;
    loupe_study *study = NULL;
    assert_int_equal(loupe_study_create(s, "c", 1, &d, 0, &study), LOUPE_OK);
    loupe_trial *t = NULL;
    assert_int_equal(loupe_study_ask(study, &t), LOUPE_OK);
    double x;
    assert_int_equal(loupe_trial_suggest_float(t, "x", 0, 1, 0, 0, &x), LOUPE_OK);
    long long sid = loupe_study_id(study), tid = loupe_trial_id(t);
    loupe_trial_free(t);
    loupe_study_close(study);
    loupe_storage_close(s);

    loupe__server_config cfg = {0};
    cfg.storage_url = url;
    cfg.quiet = 1;
    cfg.threads = 3;
    loupe__server *srv = NULL;
    char err[512];
    if (loupe__server_start(&cfg, &srv, err, sizeof err)) fail_msg("server: %s", err);
    uint16_t port = loupe__server_port(srv);
    pthread_t th[6];
    worker w[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (worker){port, i, 0, sid, tid};
        pthread_create(&th[i], NULL, i < 4 ? reader : writer, &w[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        if (w[i].failures) fail_msg("worker %d: %d failed requests", i, w[i].failures);
    }
    char *body = NULL;
    snprintf(path, sizeof path, "/api/studies/%lld", sid);
    assert_int_equal(http(port, "GET", path, NULL, &body), 200);
    assert_non_null(strstr(body, "{\"key\": \"w4\", \"value\": \"19\"}"));
    assert_non_null(strstr(body, "{\"key\": \"w5\", \"value\": \"19\"}"));
    free(body);
    loupe__server_stop(srv);
    (void)path;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_and_drops),
        cmocka_unit_test(test_event_then_read),
        cmocka_unit_test(test_concurrency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void) { return 0; } /* built without the dashboard (no libmicrohttpd) */
#endif
