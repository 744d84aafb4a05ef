/* security.c -- Host, Origin and token checks for the dashboard (see security.h). */
#include "server/security.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

const char loupe__page_csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; frame-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'";

static int ieq(const char *a, size_t alen, const char *b) {
    size_t blen = strlen(b);
    return alen == blen && strncasecmp(a, b, blen) == 0;
}

int loupe__is_loopback_name(const char *h, size_t len) {
    if (ieq(h, len, "localhost") || ieq(h, len, "::1") || ieq(h, len, "0:0:0:0:0:0:0:1")) return 1;
    if (len > 10 && ieq(h + len - 10, 10, ".localhost")) return 1;
    /* 127.a.b.c, digits and dots only */
    if (len >= 7 && len <= 15 && strncmp(h, "127.", 4) == 0) {
        int dots = 0;
        for (size_t i = 0; i < len; i++) {
            if (h[i] == '.') dots++;
            else if (!isdigit((unsigned char)h[i])) return 0;
        }
        return dots == 3;
    }
    return 0;
}

int loupe__is_wildcard_bind(const char *host) {
    return !host || !*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
           strcmp(host, "[::]") == 0;
}

int loupe__host_name(const char *hh, const char **name, size_t *len) {
    if (!hh || !*hh) return 0;
    size_t n = strlen(hh);
    if (n > 255) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)hh[i];
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '\\' || c == '@' || c == '?' || c == '#')
            return 0;
    }
    if (hh[0] == '[') {
        const char *close = strchr(hh, ']');
        if (!close) return 0;
        if (close[1] && (close[1] != ':' || !close[2])) return 0;
        for (const char *p = close[1] ? close + 2 : close + 1; *p; p++)
            if (!isdigit((unsigned char)*p)) return 0;
        *name = hh + 1;
        *len = (size_t)(close - hh - 1);
        return *len > 0;
    }
    const char *colon = strchr(hh, ':');
    if (colon) {
        if (strchr(colon + 1, ':') || !colon[1]) return 0; /* bare IPv6 is not a valid Host */
        for (const char *p = colon + 1; *p; p++)
            if (!isdigit((unsigned char)*p)) return 0;
    }
    *name = hh;
    *len = colon ? (size_t)(colon - hh) : n;
    return *len > 0;
}

int loupe__host_ok(const char *host_header, const char *bind_host, const char *const *allowed,
                   size_t n_allowed) {
    const char *name;
    size_t len;
    if (!loupe__host_name(host_header, &name, &len)) return 0;
    if (loupe__is_wildcard_bind(bind_host)) return 1;
    if (loupe__is_loopback_name(name, len)) return 1;
    for (size_t i = 0; i < n_allowed; i++)
        if (allowed[i] && ieq(name, len, allowed[i])) return 1;
    if (bind_host && !loupe__is_loopback_name(bind_host, strlen(bind_host))) {
        const char *b = bind_host;
        size_t bl = strlen(b);
        if (bl > 2 && b[0] == '[' && b[bl - 1] == ']') {
            b++;
            bl -= 2;
        }
        if (len == bl && strncasecmp(name, b, bl) == 0) return 1;
    }
    return 0;
}

int loupe__origin_ok(const char *origin, const char *sec_fetch_site, const char *host_header) {
    if (origin) {
        if (!host_header) return 0;
        const char *p = NULL;
        if (strncasecmp(origin, "http://", 7) == 0) p = origin + 7;
        else if (strncasecmp(origin, "https://", 8) == 0) p = origin + 8;
        if (!p) return 0; /* "null", file:, other schemes */
        size_t ol = strlen(p);
        while (ol > 0 && p[ol - 1] == '/') ol--;
        return ol == strlen(host_header) && strncasecmp(p, host_header, ol) == 0;
    }
    if (sec_fetch_site)
        return strcasecmp(sec_fetch_site, "same-origin") == 0 || strcasecmp(sec_fetch_site, "none") == 0;
    return 1;
}

int loupe__token_equal(const char *given, const char *expected) {
    if (!given || !expected) return 0;
    size_t el = strlen(expected), gl = strnlen(given, el + 1);
    unsigned diff = (unsigned)(gl != el);
    for (size_t i = 0; i < el; i++) {
        /* read within given's bounds; a shorter given compares against itself */
        unsigned char g = (unsigned char)(i < gl ? given[i] : 0);
        diff |= (unsigned)(g ^ (unsigned char)expected[i]);
    }
    return diff == 0;
}

int loupe__cookie_get(const char *cookie, const char *name, char *out, size_t cap) {
    if (!cookie || !cap) return 0;
    size_t nl = strlen(name);
    const char *p = cookie;
    while (*p) {
        while (*p == ' ' || *p == ';') p++;
        const char *eq = strchr(p, '=');
        const char *semi = strchr(p, ';');
        if (!eq || (semi && semi < eq)) {
            if (!semi) break;
            p = semi + 1;
            continue;
        }
        size_t kl = (size_t)(eq - p);
        while (kl > 0 && p[kl - 1] == ' ') kl--;
        const char *v = eq + 1;
        size_t vl = semi ? (size_t)(semi - v) : strlen(v);
        if (kl == nl && strncmp(p, name, nl) == 0) {
            if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                v++;
                vl -= 2;
            }
            if (vl + 1 > cap) return 0;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 1;
        }
        if (!semi) break;
        p = semi + 1;
    }
    return 0;
}

int loupe__bearer_token(const char *a, char *out, size_t cap) {
    if (!a || strncasecmp(a, "Bearer ", 7) != 0) return 0;
    a += 7;
    while (*a == ' ') a++;
    size_t n = strlen(a);
    while (n > 0 && a[n - 1] == ' ') n--;
    if (n == 0 || n + 1 > cap) return 0;
    memcpy(out, a, n);
    out[n] = '\0';
    return 1;
}
