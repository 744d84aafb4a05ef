/*
 * assets.c -- serves the embedded web app: index.html for every
 * /dashboard[/...] route (with <base href> for --base-path, a strict
 * Content-Security-Policy, no-cache), hashed assets with
 * "Cache-Control: immutable", pre-gzipped variants when the client accepts
 * gzip, and a built-in page when the web app was not built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/assets.h"
#include "server/http.h"
#include "server/security.h"

const loupe__asset *loupe__asset_find(const char *path) {
    for (size_t i = 0; i < loupe__n_assets; i++)
        if (strcmp(loupe__assets[i].path, path) == 0) return &loupe__assets[i];
    return NULL;
}

const char *loupe__asset_mime(const char *path) {
    static const struct {
        const char *ext, *mime;
    } map[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".map", "application/json"},
        {".webmanifest", "application/manifest+json"}, {".svg", "image/svg+xml"},
        {".png", "image/png"}, {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"},
        {".gif", "image/gif"}, {".webp", "image/webp"}, {".ico", "image/x-icon"},
        {".woff", "font/woff"}, {".woff2", "font/woff2"}, {".ttf", "font/ttf"},
        {".txt", "text/plain; charset=utf-8"}, {".wasm", "application/wasm"},
    };
    const char *dot = strrchr(path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof map / sizeof *map; i++)
            if (strcasecmp(dot, map[i].ext) == 0) return map[i].mime;
    return "application/octet-stream";
}

int loupe__asset_is_hashed(const char *path) {
    /* Vite: name-<8+ chars of [A-Za-z0-9_-]>.ext */
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot) return 0;
    const char *dash = NULL;
    for (const char *p = base; p < dot; p++)
        if (*p == '-') dash = p;
    if (!dash || dot - dash - 1 < 8) return 0;
    for (const char *p = dash + 1; p < dot; p++) {
        char c = *p;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static const char no_web_page[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>loupe dashboard</title>"
    "<style>body{font-family:system-ui,sans-serif;max-width:44em;margin:3em auto;padding:0 1em;"
    "line-height:1.5}code,pre{background:#f3f3f3;padding:.1em .3em}</style></head><body>"
    "<h1>loupe dashboard</h1><p>The server is running, but this loupe binary was built "
    "<b>without the web app</b> (web/dist was missing or LOUPE_WEB was OFF).</p>"
    "<p>Build it and rebuild loupe:</p><pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build\n"
    "cmake -S . -B build -DLOUPE_WEB=ON &amp;&amp; ninja -C build</pre>"
    "<p>The REST API works without it: <a href=\"api/studies\">api/studies</a>, "
    "<a href=\"api/meta\">api/meta</a>.</p></body></html>\n";

static int accepts_gzip(const loupe__req *req) {
    const char *ae = loupe__req_header(req, "Accept-Encoding");
    return ae && strstr(ae, "gzip") != NULL;
}

void loupe__page(loupe__req *req, loupe__resp *resp) {
    const loupe__asset *idx = loupe__asset_find("index.html");
    loupe__resp_header(resp, "Content-Security-Policy", loupe__page_csp);
    loupe__resp_header(resp, "X-Frame-Options", "DENY");
    loupe__resp_header(resp, "Cache-Control", "no-cache");
    resp->ctype = "text/html; charset=utf-8";
    resp->status = 200;
    resp->kind = LOUPE__RESP_BUF;
    const char *html = idx ? (const char *)idx->data : no_web_page;
    size_t len = idx ? idx->len : sizeof no_web_page - 1;
    /* every URL in the app is relative to <base href>, which carries --base-path */
    const char *head = NULL;
    for (size_t i = 0; i + 6 <= len && !head; i++)
        if (strncasecmp(html + i, "<head>", 6) == 0) head = html + i + 6;
    if (!head) {
        loupe__buf_append(&resp->body, html, len);
    } else {
        loupe__buf_append(&resp->body, html, (size_t)(head - html));
        loupe__buf_printf(&resp->body, "<base href=\"%s/\">", req->srv->base_path);
        loupe__buf_append(&resp->body, head, len - (size_t)(head - html));
    }
    if (resp->body.failed) loupe__resp_error(resp, 500, "out of memory");
}

void loupe__static(loupe__req *req, loupe__resp *resp) {
    const char *path = req->route.id == LOUPE__R_FAVICON ? "favicon.ico" : req->route.name;
    if (strcmp(path, "index.html") == 0) {
        loupe__page(req, resp);
        return;
    }
    const loupe__asset *a = loupe__asset_find(path);
    if (!a) {
        loupe__resp_error(resp, 404, "Not found: %s", req->path);
        return;
    }
    resp->ctype = loupe__asset_mime(path);
    resp->kind = LOUPE__RESP_STATIC;
    resp->status = 200;
    loupe__resp_header(resp, "Cache-Control", loupe__asset_is_hashed(path) ? "public, max-age=31536000, immutable"
                                                                          : "no-cache");
    if (a->gz) loupe__resp_header(resp, "Vary", "Accept-Encoding");
    if (a->gz && accepts_gzip(req)) {
        loupe__resp_header(resp, "Content-Encoding", "gzip");
        resp->data = a->gz;
        resp->len = a->gz_len;
    } else {
        resp->data = a->data;
        resp->len = a->len;
    }
    if (loupe__asset_is_hashed(path)) return;
    /* a content ETag for revalidating the unhashed files */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < a->len; i++) h = (h ^ a->data[i]) * 1099511628211ull;
    char etag[32];
    snprintf(etag, sizeof etag, "\"%016llx\"", (unsigned long long)h);
    loupe__resp_header(resp, "ETag", etag);
    const char *inm = loupe__req_header(req, "If-None-Match");
    if (inm && strstr(inm, etag)) {
        resp->data = "";
        resp->len = 0;
        resp->status = 304;
    }
}
