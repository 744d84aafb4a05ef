/*
 * api_misc.c -- GET /api/events (loupe's live-update stream) and upstream's
 * server-side Plotly endpoints, which loupe answers with a clear 4xx: its web
 * app draws every plot itself, and /api/meta says plotlypy_is_available false.
 */
#include <stdlib.h>
#include <string.h>

#include "server/http.h"

void loupe__api_events(loupe__req *req, loupe__resp *resp) {
    int64_t sid = -1;
    const char *q = loupe__req_query(req, "study_id");
    if (q) {
        char *end;
        long long v = strtoll(q, &end, 10);
        if (!*q || *end || v < 0) {
            loupe__resp_error(resp, 400, "study_id must be a study's id (a non-negative integer), not '%.40s'.", q);
            return;
        }
        sid = v;
        /* render the study in full now, so the very next change is announced */
        loupe__snap *snap = loupe__views_study(req->srv->views, sid, 1);
        if (!snap) {
            loupe__resp_error(resp, 404, "study_id=%lld is not found", (long long)sid);
            return;
        }
        loupe__snap_release(snap);
    }
    loupe__sse_client *c = loupe__hub_subscribe(req->srv->hub, sid, req->conn);
    if (!c) {
        loupe__resp_error(resp, 503,
                          "Too many live-update streams are open on this server; close some "
                          "dashboard tabs and reload.");
        return;
    }
    resp->kind = LOUPE__RESP_SSE;
    resp->sse = c;
    resp->ctype = "text/event-stream; charset=utf-8";
    resp->status = 200;
    loupe__resp_header(resp, "Cache-Control", "no-store");
    loupe__resp_header(resp, "X-Accel-Buffering", "no");
}

void loupe__api_plot(loupe__req *req, loupe__resp *resp) {
    static const char *known[] = {"contour", "slice", "parallel_coordinate", "rank", "edf",
                                  "timeline", "param_importances", "pareto_front"};
    int found = 0;
    for (size_t i = 0; i < sizeof known / sizeof *known && !found; i++)
        found = strcmp(req->route.name, known[i]) == 0;
    if (!found || (req->route.id == LOUPE__R_COMPARE_PLOT && strcmp(req->route.name, "edf") != 0)) {
        loupe__resp_error(resp, 404, "plot_type=%s is not supported.", req->route.name);
        return;
    }
    loupe__resp_error(resp, 400,
                      "Server-side Plotly figures are not available in loupe "
                      "(plotlypy_is_available is false): the web app draws every plot itself.");
}
