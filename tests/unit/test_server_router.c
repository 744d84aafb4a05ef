/* test_server_router.c -- the dashboard's route table and request checks: every
 * route, parameter validation, 405s, traversal refusal, Host/Origin/token checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#ifdef LOUPE_HAVE_SERVER
#include "server/router.h"
#include "server/security.h"

static loupe__route_id route(const char *method, const char *path, loupe__route *r) {
    return loupe__route_match(loupe__method_parse(method), path, strlen(path), r);
}

static void test_routes(void **state) {
    (void)state;
    loupe__route r;
    static const struct {
        const char *m, *p;
        loupe__route_id id;
    } cases[] = {
        {"GET", "/", LOUPE__R_ROOT},
        {"GET", "/dashboard", LOUPE__R_PAGE},
        {"GET", "/dashboard/studies/3/trials", LOUPE__R_PAGE},
        {"HEAD", "/dashboard", LOUPE__R_PAGE},
        {"GET", "/api/meta", LOUPE__R_META},
        {"GET", "/api/studies", LOUPE__R_STUDIES},
        {"GET", "/api/studies/", LOUPE__R_STUDIES},
        {"POST", "/api/studies", LOUPE__R_STUDY_CREATE},
        {"GET", "/api/studies/12", LOUPE__R_STUDY},
        {"DELETE", "/api/studies/12", LOUPE__R_STUDY_DELETE},
        {"POST", "/api/studies/12/rename", LOUPE__R_STUDY_RENAME},
        {"PUT", "/api/studies/12/note", LOUPE__R_STUDY_NOTE},
        {"PUT", "/api/studies/12/34/note", LOUPE__R_TRIAL_NOTE},
        {"GET", "/api/studies/12/param_importances", LOUPE__R_IMPORTANCES},
        {"GET", "/api/studies/12/compact", LOUPE__R_STUDY_COMPACT},
        {"GET", "/api/studies/12/plot/contour", LOUPE__R_PLOT},
        {"GET", "/api/compare-studies/plot/edf", LOUPE__R_COMPARE_PLOT},
        {"POST", "/api/studies/12/preference", LOUPE__R_PREFERENCE},
        {"DELETE", "/api/studies/12/preference/abc-1", LOUPE__R_PREF_REMOVE},
        {"POST", "/api/studies/12/preference/abc-1", LOUPE__R_PREF_RESTORE},
        {"PUT", "/api/studies/12/preference_feedback_component", LOUPE__R_PREF_COMPONENT},
        {"POST", "/api/studies/12/34/skip", LOUPE__R_SKIP},
        {"POST", "/api/trials/34/tell", LOUPE__R_TELL},
        {"POST", "/api/trials/34/user-attrs", LOUPE__R_USER_ATTRS},
        {"GET", "/csv/12", LOUPE__R_CSV},
        {"GET", "/artifacts/12/e3e70682-c209-4cac-a29f-6fbed82c07cd", LOUPE__R_ARTIFACT_STUDY},
        {"GET", "/artifacts/12/34/e3e70682-c209-4cac-a29f-6fbed82c07cd", LOUPE__R_ARTIFACT_TRIAL},
        {"POST", "/api/artifacts/12", LOUPE__R_UPLOAD_STUDY},
        {"POST", "/api/artifacts/12/34", LOUPE__R_UPLOAD_TRIAL},
        {"DELETE", "/api/artifacts/12/e3e70682-c209-4cac-a29f-6fbed82c07cd", LOUPE__R_DELETE_ART_STUDY},
        {"DELETE", "/api/artifacts/12/34/e3e70682-c209-4cac-a29f-6fbed82c07cd", LOUPE__R_DELETE_ART_TRIAL},
        {"GET", "/api/events", LOUPE__R_EVENTS},
        {"POST", "/api/llm/trial_filter_query", LOUPE__R_LLM},
        {"GET", "/favicon.ico", LOUPE__R_FAVICON},
        {"GET", "/assets/index-Bx12_aZ9.js", LOUPE__R_STATIC},
        {"GET", "/static/bundle.js", LOUPE__R_STATIC},
        {"GET", "/logo.svg", LOUPE__R_STATIC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        route(cases[i].m, cases[i].p, &r);
        if (r.id != cases[i].id) fail_msg("%s %s -> %s, expected %s", cases[i].m, cases[i].p,
                                          loupe__route_name(r.id), loupe__route_name(cases[i].id));
    }
    route("PUT", "/api/studies/12/34/note", &r);
    assert_int_equal(r.study_id, 12);
    assert_int_equal(r.trial_id, 34);
    route("GET", "/artifacts/7/8/E3E70682-C209-4CAC-A29F-6FBED82C07CD", &r);
    assert_int_equal(r.study_id, 7);
    assert_string_equal(r.artifact_id, "E3E70682-C209-4CAC-A29F-6FBED82C07CD");
    assert_false(r.bad_id);
    route("GET", "/assets/index-Bx12_aZ9.js", &r);
    assert_string_equal(r.name, "assets/index-Bx12_aZ9.js");
    route("GET", "/static/bundle.js", &r);
    assert_string_equal(r.name, "bundle.js");
    route("GET", "/api/studies/12/plot/slice", &r);
    assert_string_equal(r.name, "slice");
    assert_true(loupe__route_is_write(LOUPE__R_TELL));
    assert_false(loupe__route_is_write(LOUPE__R_STUDY));
}

static void test_bad_params(void **state) {
    (void)state;
    loupe__route r;
    static const char *none[] = {
        "/api/studies/-1", "/api/studies/1x", "/api/studies/0x10", "/api/studies/1234567890123456789",
        "/api/trials/abc/tell", "/api/trials//tell", "/api/studies/1/2/3/note", "/csv/a",
        "/artifacts/1/zz-not-hex", "/artifacts/1/../etc/passwd", "/artifacts/x/e3e70682",
        "/static/../secret", "/static/./x", "/static/a/../../b", "/assets/..", "/assets/a%00b",
        "/static/a\\b", "/nothing/here/at/all", "api/studies", "",
        "/api/studies/1/plot/a b", "/api/studies/1/preference/x\\y",
        "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s",
    };
    for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
        route("GET", none[i], &r);
        if (r.id != LOUPE__R_NONE) fail_msg("GET %s matched %s", none[i], loupe__route_name(r.id));
        route("DELETE", none[i], &r);
        if (r.id != LOUPE__R_NONE) fail_msg("DELETE %s matched %s", none[i], loupe__route_name(r.id));
    }
    /* a lone word is looked up among the web app's top-level files (then 404) */
    route("GET", "/csv/", &r);
    assert_int_equal(r.id, LOUPE__R_STATIC);
    assert_string_equal(r.name, "csv");
    /* an embedded NUL never matches */
    assert_int_equal(loupe__route_match(LOUPE__M_GET, "/api/meta\0x", 11, &r), LOUPE__R_NONE);
    /* hex ids that are not UUIDs route, but are flagged (404 later) */
    route("GET", "/artifacts/1/abc", &r);
    assert_int_equal(r.id, LOUPE__R_ARTIFACT_STUDY);
    assert_true(r.bad_id);
    route("GET", "/artifacts/1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &r);
    assert_true(r.bad_id);
}

static void test_method_not_allowed(void **state) {
    (void)state;
    loupe__route r;
    route("DELETE", "/api/meta", &r);
    assert_int_equal(r.id, LOUPE__R_NONE);
    assert_true(r.method_not_allowed);
    assert_string_equal(r.allow, "GET");
    route("PUT", "/api/studies", &r);
    assert_true(r.method_not_allowed);
    assert_string_equal(r.allow, "GET, POST");
    route("GET", "/api/trials/1/tell", &r);
    assert_string_equal(r.allow, "POST");
    route("PATCH", "/api/studies/1", &r);
    assert_string_equal(r.allow, "GET, DELETE");
    /* an all-digit segment is a trial id for POST and an artifact id for DELETE */
    route("POST", "/api/artifacts/1/123", &r);
    assert_int_equal(r.id, LOUPE__R_UPLOAD_TRIAL);
    assert_int_equal(r.trial_id, 123);
    route("DELETE", "/api/artifacts/1/123", &r);
    assert_int_equal(r.id, LOUPE__R_DELETE_ART_STUDY);
    assert_string_equal(r.artifact_id, "123");
}

static void test_host(void **state) {
    (void)state;
    const char *allowed[] = {"optuna.example.org"};
    assert_true(loupe__host_ok("127.0.0.1:8080", "127.0.0.1", NULL, 0));
    assert_true(loupe__host_ok("localhost:8080", "127.0.0.1", NULL, 0));
    assert_true(loupe__host_ok("LOCALHOST", "127.0.0.1", NULL, 0));
    assert_true(loupe__host_ok("app.localhost:1", "127.0.0.1", NULL, 0));
    assert_true(loupe__host_ok("[::1]:8080", "127.0.0.1", NULL, 0));
    assert_true(loupe__host_ok("127.1.2.3", "127.0.0.1", NULL, 0));
    assert_false(loupe__host_ok("evil.example:8080", "127.0.0.1", NULL, 0));
    assert_false(loupe__host_ok("127.0.0.1.evil.example", "127.0.0.1", NULL, 0));
    assert_false(loupe__host_ok("localhost.evil.example", "127.0.0.1", NULL, 0));
    assert_false(loupe__host_ok("127.0.0.1:80x", "127.0.0.1", NULL, 0));
    assert_false(loupe__host_ok("a@127.0.0.1", "127.0.0.1", NULL, 0));
    assert_false(loupe__host_ok("", "127.0.0.1", NULL, 0));
    assert_false(loupe__host_ok(NULL, "127.0.0.1", NULL, 0));
    assert_false(loupe__host_ok("::1", "127.0.0.1", NULL, 0)); /* IPv6 must be bracketed */
    assert_true(loupe__host_ok("optuna.example.org", "127.0.0.1", allowed, 1));
    assert_true(loupe__host_ok("10.0.0.5:8080", "10.0.0.5", NULL, 0));
    assert_false(loupe__host_ok("10.0.0.6:8080", "10.0.0.5", NULL, 0));
    assert_true(loupe__host_ok("anything.example", "0.0.0.0", NULL, 0));
    assert_true(loupe__is_loopback_name("localhost", 9));
    assert_false(loupe__is_loopback_name("128.0.0.1", 9));
}

static void test_origin(void **state) {
    (void)state;
    assert_true(loupe__origin_ok(NULL, NULL, "127.0.0.1:8080"));
    assert_true(loupe__origin_ok("http://127.0.0.1:8080", NULL, "127.0.0.1:8080"));
    assert_true(loupe__origin_ok("HTTP://LOCALHOST:8080", NULL, "localhost:8080"));
    assert_false(loupe__origin_ok("http://127.0.0.1:8081", NULL, "127.0.0.1:8080"));
    assert_false(loupe__origin_ok("http://evil.example", NULL, "127.0.0.1:8080"));
    assert_false(loupe__origin_ok("null", NULL, "127.0.0.1:8080"));
    assert_false(loupe__origin_ok("file://", NULL, "127.0.0.1:8080"));
    assert_false(loupe__origin_ok("http://127.0.0.1:8080.evil", NULL, "127.0.0.1:8080"));
    assert_false(loupe__origin_ok("http://127.0.0.1:8080", NULL, NULL));
    assert_true(loupe__origin_ok(NULL, "same-origin", "h"));
    assert_true(loupe__origin_ok(NULL, "none", "h"));
    assert_false(loupe__origin_ok(NULL, "cross-site", "h"));
    assert_false(loupe__origin_ok(NULL, "same-site", "h"));
}

static void test_token(void **state) {
    (void)state;
    assert_true(loupe__token_equal("abcdefgh", "abcdefgh"));
    assert_false(loupe__token_equal("abcdefgH", "abcdefgh"));
    assert_false(loupe__token_equal("abcdefg", "abcdefgh"));
    assert_false(loupe__token_equal("abcdefghi", "abcdefgh"));
    assert_false(loupe__token_equal("", "abcdefgh"));
    assert_false(loupe__token_equal(NULL, "abcdefgh"));
    char out[64];
    assert_true(loupe__cookie_get("a=1; loupe_token_8080=secret; b=2", "loupe_token_8080", out, sizeof out));
    assert_string_equal(out, "secret");
    assert_true(loupe__cookie_get("loupe_token_8080=\"quoted\"", "loupe_token_8080", out, sizeof out));
    assert_string_equal(out, "quoted");
    assert_false(loupe__cookie_get("xloupe_token_8080=1", "loupe_token_8080", out, sizeof out));
    assert_false(loupe__cookie_get("loupe_token_8081=1", "loupe_token_8080", out, sizeof out));
    assert_false(loupe__cookie_get("garbage;;==;", "loupe_token_8080", out, sizeof out));
    assert_false(loupe__cookie_get("loupe_token_8080=0123456789", "loupe_token_8080", out, 4));
    assert_true(loupe__bearer_token("Bearer  tok-123 ", out, sizeof out));
    assert_string_equal(out, "tok-123");
    assert_true(loupe__bearer_token("bearer tok", out, sizeof out));
    assert_false(loupe__bearer_token("Basic dXNlcjpwYXNz", out, sizeof out));
    assert_false(loupe__bearer_token("Bearer ", out, sizeof out));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),  cmocka_unit_test(test_bad_params), cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_host),    cmocka_unit_test(test_origin),     cmocka_unit_test(test_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void) { return 0; } /* built without the dashboard (no libmicrohttpd) */
#endif
