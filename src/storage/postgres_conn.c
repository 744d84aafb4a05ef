/*
 * postgres_conn.c -- the connection layer of the PostgreSQL storage: storage
 * URLs (SQLAlchemy's forms) to libpq connection strings, connecting and
 * reconnecting, prepared statements with text parameters, the mapping of
 * PostgreSQL errors (SQLSTATEs) to loupe codes, and transactions that are run
 * again after transient failures within a time bound.
 */
#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/errors.h"
#include "storage/postgres_internal.h"
#include "util/timeutil.h"

/* ------------------------------------------------------------ parameters */

void loupe__pgp_init(loupe__pgp *p) { p->n = 0; }

static char *pgp_slot(loupe__pgp *p) { return p->num[p->n]; }

void loupe__pgp_int(loupe__pgp *p, int64_t v) {
    if (p->n >= LOUPE__PG_MAX_PARAMS) return;
    snprintf(pgp_slot(p), sizeof p->num[0], "%lld", (long long)v);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

void loupe__pgp_double(loupe__pgp *p, double v) {
    if (p->n >= LOUPE__PG_MAX_PARAMS) return;
    char *b = pgp_slot(p);
    if (isnan(v))
        strcpy(b, "NaN");
    else if (isinf(v))
        strcpy(b, v > 0 ? "Infinity" : "-Infinity");
    else
        snprintf(b, sizeof p->num[0], "%.17g", v);
    p->v[p->n] = b;
    p->n++;
}

void loupe__pgp_text(loupe__pgp *p, const char *v) {
    if (p->n >= LOUPE__PG_MAX_PARAMS) return;
    p->v[p->n++] = v;
}

void loupe__pgp_datetime(loupe__pgp *p, int64_t us) {
    if (p->n >= LOUPE__PG_MAX_PARAMS) return;
    if (us < 0) {
        p->v[p->n++] = NULL;
        return;
    }
    char buf[32];
    loupe__format_datetime(us, buf);
    snprintf(pgp_slot(p), sizeof p->num[0], "%s", buf);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

/* ------------------------------------------------------------ results */

int loupe__pg_is_null(const PGresult *r, int row, int col) { return PQgetisnull(r, row, col); }

const char *loupe__pg_text(const PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int64_t loupe__pg_int(const PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

double loupe__pg_double(const PGresult *r, int row, int col) {
    /* float8 output: shortest exact digits, or Infinity / -Infinity / NaN (strtod reads all) */
    return PQgetisnull(r, row, col) ? NAN : strtod(PQgetvalue(r, row, col), NULL);
}

/* ------------------------------------------------------------ URLs */

int loupe__pg_is_url(const char *url) {
    if (!url) return 0;
    if (strncmp(url, "postgres://", 11) == 0) return 1;
    if (strncmp(url, "postgresql", 10) != 0) return 0;
    const char *p = url + 10;
    if (*p == '+') { /* SQLAlchemy's dialect+driver form */
        p++;
        while (isalnum((unsigned char)*p) || *p == '_') p++;
    }
    return strncmp(p, "://", 3) == 0;
}

/* Replaces every occurrence of the URL's password in msg by "***" (libpq quotes
 * the whole URI in some of its parse errors). */
static void redact_password(const char *url, char *msg) {
    const char *auth = strstr(url, "://");
    if (!auth) return;
    auth += 3;
    const char *at = strchr(auth, '@');
    const char *colon = strchr(auth, ':');
    if (!at || !colon || colon > at || at - colon < 2) return;
    size_t plen = (size_t)(at - colon - 1);
    char pw[256];
    if (plen >= sizeof pw) plen = sizeof pw - 1;
    memcpy(pw, colon + 1, plen);
    pw[plen] = 0;
    char *hit;
    while ((hit = strstr(msg, pw)) != NULL) {
        memmove(hit + 3, hit + plen, strlen(hit + plen) + 1);
        memcpy(hit, "***", 3);
    }
}

int loupe__pg_parse_url(loupe_storage *s, const char *url, char **conninfo, char *where,
                        size_t where_cap) {
    *conninfo = NULL;
    if (!loupe__pg_is_url(url))
        return loupe__error(s, LOUPE_EURL,
                            "'%.200s' is not a PostgreSQL URL; write "
                            "postgresql://user:password@host:port/dbname",
                            url ? url : "(null)");
    const char *rest = strstr(url, "://") + 3;
    size_t n = strlen("postgresql://") + strlen(rest) + 1;
    char *ci = malloc(n);
    if (!ci) return loupe__error(s, LOUPE_ENOMEM, "out of memory");
    snprintf(ci, n, "postgresql://%s", rest);

    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(ci, &err);
    if (!opts) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", err ? err : "out of memory");
        msg[strcspn(msg, "\n")] = 0;
        redact_password(url, msg);
        PQfreemem(err);
        free(ci);
        return loupe__error(s, LOUPE_EURL,
                            "Malformed PostgreSQL URL (%s). Write "
                            "postgresql://user:password@host:port/dbname, or "
                            "postgresql:///dbname?host=/socket/dir for a unix socket; "
                            "percent-encode special characters in the password.",
                            msg);
    }
    const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val) continue;
        if (strcmp(o->keyword, "host") == 0) host = o->val;
        if (strcmp(o->keyword, "hostaddr") == 0 && !host) host = o->val;
        if (strcmp(o->keyword, "port") == 0) port = o->val;
        if (strcmp(o->keyword, "dbname") == 0) db = o->val;
        if (strcmp(o->keyword, "user") == 0) user = o->val;
    }
    snprintf(where, where_cap, "database '%.60s' at %s%.120s%s%.20s%s%.60s%s",
             db ? db : (user ? user : "(default)"), host ? "" : "the default socket",
             host ? host : "", port ? ":" : "", port ? port : "", user ? " as user '" : "",
             user ? user : "", user ? "'" : "");
    PQconninfoFree(opts);
    *conninfo = ci;
    return LOUPE_OK;
}

/* ------------------------------------------------------------ errors */

static int starts(const char *a, const char *b) { return a && strncmp(a, b, strlen(b)) == 0; }

/* The first line of a libpq message, without "ERROR:  " and the newline. */
static void first_line(const char *msg, char *out, size_t cap) {
    if (!msg || !*msg) msg = "no message from the server";
    if (starts(msg, "ERROR:  ")) msg += 8;
    if (starts(msg, "FATAL:  ")) msg += 8;
    snprintf(out, cap, "%s", msg);
    out[strcspn(out, "\n")] = 0;
}

int loupe__pg_fail(pg_storage *s, const PGresult *res, const char *what) {
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char msg[600];
    first_line(res ? PQresultErrorMessage(res) : (s->conn ? PQerrorMessage(s->conn) : NULL), msg,
               sizeof msg);
    int bad = !s->conn || PQstatus(s->conn) != CONNECTION_OK;
    s->transient = 0;
    s->conn_lost = 0;
    loupe_storage *b = &s->base;

    if (bad || !state || starts(state, "08") || starts(state, "57P")) {
        s->transient = 1;
        s->conn_lost = 1;
        return loupe__error(b, LOUPE_EIO,
                            "lost the connection to PostgreSQL (%s) while %s: %s. Check that the "
                            "server is running and reachable.",
                            s->where, what, msg);
    }
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "55P03") == 0) {
        s->transient = 1;
        return loupe__error(b, LOUPE_EBUSY,
                            "PostgreSQL (%s) aborted a transaction that conflicted with another "
                            "one while %s: %s [SQLSTATE %s]",
                            s->where, what, msg, state);
    }
    if (strcmp(state, "53300") == 0) {
        s->transient = 1;
        return loupe__error(b, LOUPE_EIO,
                            "PostgreSQL (%s) has no free connection slot while %s: %s. Raise the "
                            "server's max_connections or run fewer workers.",
                            s->where, what, msg);
    }
    if (strcmp(state, "23505") == 0)
        return loupe__error(b, LOUPE_ECONFLICT,
                            "a concurrent write got there first while %s: %s [SQLSTATE 23505]",
                            what, msg);
    if (strcmp(state, "23503") == 0)
        return loupe__error(b, LOUPE_ENOTFOUND,
                            "the study or trial was deleted by another process while %s: %s",
                            what, msg);
    if (strcmp(state, "22001") == 0)
        return loupe__error(b, LOUPE_EINVAL,
                            "a text is too long for Optuna's schema while %s (names and keys hold "
                            "at most 512 characters): %s",
                            what, msg);
    if (strcmp(state, "22003") == 0)
        return loupe__error(b, LOUPE_EINVAL,
                            "a number is out of range for Optuna's PostgreSQL schema while %s "
                            "(trial numbers, steps and objectives are 32-bit integer columns): %s",
                            what, msg);
    if (starts(state, "22"))
        return loupe__error(b, LOUPE_EINVAL, "PostgreSQL refused a value while %s: %s [SQLSTATE %s]",
                            what, msg, state);
    if (starts(state, "42P01") || starts(state, "42703") || starts(state, "42704") ||
        starts(state, "42883") || starts(state, "42P10"))
        return loupe__error(b, LOUPE_ECORRUPT,
                            "%s does not have Optuna's schema (%s while %s) [SQLSTATE %s]",
                            s->where, msg, what, state);
    if (strcmp(state, "42501") == 0)
        return loupe__error(b, LOUPE_EIO,
                            "permission denied in %s while %s: %s. Grant the user access to "
                            "Optuna's tables and sequences.",
                            s->where, what, msg);
    if (strcmp(state, "25006") == 0)
        return loupe__error(b, LOUPE_EIO,
                            "%s is read-only (a standby server?) while %s: %s", s->where, what,
                            msg);
    if (strcmp(state, "57014") == 0)
        return loupe__error(b, LOUPE_EBUSY, "PostgreSQL canceled the statement while %s: %s",
                            what, msg);
    return loupe__error(b, LOUPE_EIO, "PostgreSQL (%s) failed while %s: %s [SQLSTATE %s]",
                        s->where, what, msg, state);
}

/* ------------------------------------------------------------ connecting */

static void quiet_notices(void *arg, const char *message) {
    (void)arg;
    (void)message; /* NOTICEs (e.g. "relation exists, skipping") are not errors */
}

int loupe__pg_connect(pg_storage *s) {
    if (s->conn) PQfinish(s->conn);
    memset(s->prepared, 0, sizeof s->prepared);
    /* the URL's own settings win over the defaults given before it; the encoding
     * comes after it because every text loupe sends and reads is UTF-8 */
    const char *keys[] = {"connect_timeout", "dbname", "fallback_application_name",
                          "client_encoding", NULL};
    const char *vals[] = {LOUPE__PG_CONNECT_TIMEOUT, s->conninfo, "loupe", "UTF8", NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    s->transient = 0;
    s->conn_lost = 0;
    if (!s->conn) {
        s->transient = 1;
        s->conn_lost = 1;
        return loupe__error(&s->base, LOUPE_ENOMEM, "out of memory while connecting to PostgreSQL");
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        char msg[600];
        first_line(PQerrorMessage(s->conn), msg, sizeof msg);
        s->transient = 1;
        s->conn_lost = 1;
        return loupe__error(&s->base, LOUPE_EIO,
                            "cannot connect to PostgreSQL (%s): %s. Check the URL's host, port, "
                            "user, password and database name, and that the server is running.",
                            s->where, msg);
    }
    PQsetNoticeProcessor(s->conn, quiet_notices, NULL);
    s->server_version = PQserverVersion(s->conn);
    /* datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' and floats with round-trip digits,
     * whatever the server's or the environment's defaults are */
    return loupe__pg_exec_simple(s, "SET datestyle TO 'ISO, YMD'; SET extra_float_digits TO 3",
                                 NULL, "setting up the session");
}

/* ------------------------------------------------------------ statements */

static int check_result(pg_storage *s, PGresult *r, PGresult **out, const char *what) {
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out)
            *out = r;
        else
            PQclear(r);
        return LOUPE_OK;
    }
    int rc = loupe__pg_fail(s, r, what);
    PQclear(r);
    return rc;
}

int loupe__pg_exec(pg_storage *s, int id, const char *sql, const loupe__pgp *p, PGresult **out,
                   const char *what) {
    if (out) *out = NULL;
    if (id < 0 || id >= LOUPE__PG_MAX_STMTS)
        return loupe__error(&s->base, LOUPE_ERROR, "statement id %d out of range", id);
    char name[16];
    snprintf(name, sizeof name, "loupe_%d", id);
    if (!s->prepared[id]) {
        PGresult *r = PQprepare(s->conn, name, sql, 0, NULL);
        int rc = check_result(s, r, NULL, what);
        if (rc) return rc;
        s->prepared[id] = 1;
    }
    PGresult *r = PQexecPrepared(s->conn, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0);
    return check_result(s, r, out, what);
}

int loupe__pg_exec_simple(pg_storage *s, const char *sql, PGresult **out, const char *what) {
    if (out) *out = NULL;
    return check_result(s, PQexec(s->conn, sql), out, what);
}

/* ------------------------------------------------------------ transactions */

static void backoff(pg_storage *s, int attempt) {
    /* 20 ms doubling up to 2 s, randomized so that workers do not retry in step */
    long cap = attempt >= 7 ? 2000 : 20L << (attempt - 1);
    s->seed = s->seed * 1103515245u + 12345u;
    long ms = cap / 2 + (long)((s->seed >> 16) % (unsigned long)(cap / 2 + 1));
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* After the connection dropped during COMMIT: reconnects and asks the server
 * whether transaction xid committed. 1 committed, 0 aborted, -1 unknown (the
 * message is on s), retrying until deadline. */
static int commit_outcome(pg_storage *s, int64_t xid, int64_t deadline) {
    for (int attempt = 1;; attempt++) {
        if (!loupe__pg_connect(s)) {
            char q[96];
            snprintf(q, sizeof q, "SELECT txid_status(%lld)", (long long)xid);
            PGresult *r = NULL;
            if (!loupe__pg_exec_simple(s, q, &r, "checking whether a commit went through")) {
                const char *st = loupe__pg_text(r, 0, 0);
                int out = !st ? -2 : strcmp(st, "committed") == 0 ? 1 : strcmp(st, "aborted") == 0 ? 0 : -3;
                PQclear(r);
                if (out >= 0) return out;
                if (out == -2) {
                    loupe__error(&s->base, LOUPE_EIO,
                                 "the connection to PostgreSQL (%s) dropped during COMMIT and the "
                                 "server no longer knows whether transaction %lld committed; "
                                 "check the study's last trials",
                                 s->where, (long long)xid);
                    return -1;
                }
                /* "in progress": the server is still finishing it */
            }
        }
        if (loupe__monotonic_us() >= deadline) {
            char prev[sizeof s->base.errmsg];
            snprintf(prev, sizeof prev, "%s", s->base.errmsg);
            loupe__error(&s->base, LOUPE_EIO,
                         "the connection to PostgreSQL dropped during COMMIT and whether the "
                         "write went through could not be checked in time: %.700s",
                         prev);
            return -1;
        }
        backoff(s, attempt);
    }
}

static void notice(pg_storage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(pg_storage *s, const char *fmt, ...) {
    if (s->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("loupe: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int loupe__pg_run_tx(pg_storage *s, int write, loupe__pg_tx_body body, void *ctx) {
    int64_t start = loupe__monotonic_us();
    int64_t deadline = start + (int64_t)s->retry_ms * 1000;
    int reported = 0;
    for (int attempt = 1;; attempt++) {
        int rc = LOUPE_OK;
        int64_t xid = -1;
        s->transient = 0;
        if (!s->conn || s->conn_lost || PQstatus(s->conn) != CONNECTION_OK)
            rc = loupe__pg_connect(s);
        if (!rc)
            rc = loupe__pg_exec_simple(
                s, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL,
                "starting a transaction");
        if (!rc) rc = body(s, ctx);
        if (!rc && write) {
            /* the transaction id exists only if the body wrote; NULL means there is
             * nothing to lose if the COMMIT's answer goes missing */
            PGresult *r = NULL;
            rc = loupe__pg_exec_simple(s, "SELECT txid_current_if_assigned()", &r,
                                       "finishing a transaction");
            if (!rc && !PQgetisnull(r, 0, 0)) xid = loupe__pg_int(r, 0, 0);
            PQclear(r);
        }
        if (!rc) {
            PGresult *r = NULL;
            rc = loupe__pg_exec_simple(s, "COMMIT", &r, "committing");
            if (!rc && strcmp(PQcmdStatus(r), "COMMIT") != 0)
                rc = loupe__error(&s->base, LOUPE_ERROR,
                                  "PostgreSQL rolled a transaction back at COMMIT (%s)",
                                  PQcmdStatus(r));
            PQclear(r);
            if (rc && write && xid > 0 && s->conn_lost) {
                int outcome = commit_outcome(s, xid, deadline);
                if (outcome == 1) rc = LOUPE_OK;
                else if (outcome < 0) {
                    s->transient = 0;
                    return LOUPE_EIO;
                } else {
                    s->transient = 1; /* aborted: run it again */
                    s->conn_lost = 0;
                }
            }
        }
        if (s->conn && PQstatus(s->conn) == CONNECTION_OK &&
            PQtransactionStatus(s->conn) != PQTRANS_IDLE)
            PQclear(PQexec(s->conn, "ROLLBACK"));
        if (!rc) {
            if (reported)
                notice(s, "reconnected to PostgreSQL (%s) after %.1f s; continuing", s->where,
                       (double)(loupe__monotonic_us() - start) / 1e6);
            return LOUPE_OK;
        }
        if (!s->transient) return rc;
        if (loupe__monotonic_us() >= deadline) {
            char prev[sizeof s->base.errmsg];
            snprintf(prev, sizeof prev, "%s", s->base.errmsg);
            return loupe__error(&s->base, rc,
                                "%.850s (gave up after retrying for %d s; the environment variable "
                                "LOUPE_PG_RETRY_MS sets how long)",
                                prev, s->retry_ms / 1000);
        }
        if (s->conn_lost && !reported) {
            notice(s, "%s (retrying for up to %d s)", s->base.errmsg, s->retry_ms / 1000);
            reported = 1;
        }
        backoff(s, attempt);
    }
}
