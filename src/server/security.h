/*
 * security.h -- the dashboard's request checks: Host (against DNS rebinding),
 * Origin (against cross-site writes), the access token (compared in constant
 * time) and the token's sources (Authorization header, cookie). Pure string
 * functions, fuzzed together with the router.
 */
#ifndef LOUPE_SERVER_SECURITY_H
#define LOUPE_SERVER_SECURITY_H

#include <stddef.h>

/* Non-zero when host (a bind address or a Host header's name, without port)
 * is a loopback name: "localhost", "*.localhost", 127.0.0.0/8, "::1". */
int loupe__is_loopback_name(const char *host, size_t len);
/* Non-zero when the bind address listens on every interface ("0.0.0.0", "::", ""). */
int loupe__is_wildcard_bind(const char *host);

/*
 * Checks a Host header. With a loopback bind only loopback names (or names in
 * allowed) are accepted, so a rebound DNS name cannot reach the server from a
 * browser. With another bind address: that address, loopback names and
 * allowed; with a wildcard bind any host (the token protects it then).
 * A missing Host header is refused (HTTP/1.1 requires it).
 */
int loupe__host_ok(const char *host_header, const char *bind_host, const char *const *allowed,
                   size_t n_allowed);

/* Splits "name[:port]" / "[v6]:port" into the name (without brackets). */
int loupe__host_name(const char *host_header, const char **name, size_t *len);

/*
 * Checks a write request's origin: Origin (when present) must name the same
 * host[:port] as the Host header ("null" and other sites are refused); without
 * Origin, Sec-Fetch-Site (when present) must be "same-origin" or "none".
 * Requests from non-browser clients carry neither and pass.
 */
int loupe__origin_ok(const char *origin, const char *sec_fetch_site, const char *host_header);

/* Constant-time comparison of two NUL-terminated secrets (time depends only on
 * the length of `expected`). */
int loupe__token_equal(const char *given, const char *expected);

/* The value of cookie `name` in a Cookie header, copied into out (cap bytes);
 * 0 when absent or too long. */
int loupe__cookie_get(const char *cookie_header, const char *name, char *out, size_t cap);
/* The token of "Authorization: Bearer <token>"; 0 when absent. */
int loupe__bearer_token(const char *authorization, char *out, size_t cap);

/* The Content-Security-Policy sent with pages. */
extern const char loupe__page_csp[];

#endif
