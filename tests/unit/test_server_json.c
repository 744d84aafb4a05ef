/* test_server_json.c -- the dashboard's JSON writers (byte-equal to optuna-dashboard's
 * Python output; expected strings come from Python 3.11's json.dumps), the study-attr
 * decoder (notes, artifacts, figures, widgets, preferences) and the incremental
 * search spaces. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#ifdef LOUPE_HAVE_SERVER
#include "server/agg.h"
#include "server/extras.h"
#include "server/jsonw.h"
#include "util/pyjson.h"

typedef void (*dbl_writer)(loupe__buf *, double);

static void expect_dbl(dbl_writer w, double v, const char *want) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    w(&b, v);
    assert_string_equal(b.data, want);
    loupe__buf_free(&b);
}

static void test_doubles(void **state) {
    (void)state;
    expect_dbl(loupe__jw_double, 0.1, "0.1");
    expect_dbl(loupe__jw_double, 1e-05, "1e-05");
    expect_dbl(loupe__jw_double, 0.0001, "0.0001");
    expect_dbl(loupe__jw_double, 1e16, "1e+16");
    expect_dbl(loupe__jw_double, 1e15, "1000000000000000.0");
    expect_dbl(loupe__jw_double, 241.0, "241.0");
    expect_dbl(loupe__jw_double, -0.0, "-0.0");
    expect_dbl(loupe__jw_double, 5e-324, "5e-324");
    expect_dbl(loupe__jw_double, -2.666793131639766, "-2.666793131639766");
    expect_dbl(loupe__jw_double, 1.7976931348623157e308, "1.7976931348623157e+308");
    expect_dbl(loupe__jw_double, NAN, "NaN");
    expect_dbl(loupe__jw_double, -INFINITY, "-Infinity");
    expect_dbl(loupe__jw_pystr_double, NAN, "nan");
    expect_dbl(loupe__jw_pystr_double, INFINITY, "inf");
    expect_dbl(loupe__jw_pystr_double, 2.5, "2.5");
    expect_dbl(loupe__jw_value, INFINITY, "\"inf\"");
    expect_dbl(loupe__jw_value, -INFINITY, "\"-inf\"");
    expect_dbl(loupe__jw_value, NAN, "\"nan\"");
    expect_dbl(loupe__jw_value, 7.11, "7.11");
    /* the fast writer equals Python's repr on many doubles */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (!isfinite(d)) continue;
        loupe__buf a, c;
        loupe__buf_init(&a, 0);
        loupe__buf_init(&c, 0);
        loupe__jw_double(&a, d);
        loupe__pyjson_double(&c, d);
        if (strcmp(a.data, c.data) != 0) fail_msg("%s != %s", a.data, c.data);
        loupe__buf_free(&a);
        loupe__buf_free(&c);
    }
}

static void expect_attr(const char *json, const char *want) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__jw_attr_value(&b, json);
    assert_string_equal(b.data, want);
    loupe__buf_free(&b);
}

static void test_attr_values(void **state) {
    (void)state;
    /* serialize_attrs: str as is, numbers and bools via str(), the rest json.dumps()[:1024] */
    expect_attr("\"text \\u00e9\"", "\"text \\u00e9\"");
    expect_attr("1", "\"1\"");
    expect_attr("1.5", "\"1.5\"");
    expect_attr("1e400", "\"inf\"");
    expect_attr("NaN", "\"nan\"");
    expect_attr("true", "\"True\"");
    expect_attr("null", "\"null\"");
    expect_attr("[1,\"a\"]", "\"[1, \\\"a\\\"]\"");
    expect_attr("{\"k\":{\"x\":1}}", "\"{\\\"k\\\": {\\\"x\\\": 1}}\"");
    expect_attr("123456789012345678901234567890", "\"123456789012345678901234567890\"");
    /* truncation to 1024 characters of the json.dumps text */
    loupe__buf big;
    loupe__buf_init(&big, 0);
    loupe__buf_puts(&big, "[");
    for (int i = 0; i < 300; i++) loupe__buf_printf(&big, "%s%d", i ? "," : "", i);
    loupe__buf_puts(&big, "]");
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__jw_attr_value(&b, big.data);
    assert_int_equal(b.len, 1024 + 2);
    assert_memory_equal(b.data, "\"[0, 1, 2, 3,", 13);
    loupe__buf_free(&b);
    loupe__buf_free(&big);
    /* Python str() of containers is repr(), quotes chosen as Python does */
    const char *list = "[\"a\", null, true, 1.5, \"it's\", {\"k\": 2}]";
    yyjson_doc *d = yyjson_read(list, strlen(list), 0);
    assert_non_null(d);
    loupe__buf_init(&b, 0);
    loupe__jw_pystr_json(&b, yyjson_doc_get_root(d));
    assert_string_equal(b.data, "['a', None, True, 1.5, \"it's\", {'k': 2}]");
    loupe__buf_free(&b);
    yyjson_doc_free(d);
}

static void expect_dist(const loupe_distribution *dist, const char *want) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__jw_distribution(&b, dist);
    assert_string_equal(b.data, want);
    loupe__buf_free(&b);
}

static void test_distributions(void **state) {
    (void)state;
    loupe_distribution f = {LOUPE_DIST_FLOAT, -10, 10, 0, 0, 0, NULL};
    expect_dist(&f, "{\"type\": \"FloatDistribution\", \"low\": -10.0, \"high\": 10.0, \"step\": null, \"log\": false}");
    loupe_distribution fs = {LOUPE_DIST_FLOAT, 0, 1, 0.1, 0, 0, NULL};
    expect_dist(&fs, "{\"type\": \"FloatDistribution\", \"low\": 0.0, \"high\": 1.0, \"step\": 0.1, \"log\": false}");
    loupe_distribution il = {LOUPE_DIST_INT, 1, 1024, 1, 1, 0, NULL};
    expect_dist(&il, "{\"type\": \"IntDistribution\", \"low\": 1, \"high\": 1024, \"step\": 1, \"log\": true}");
    const char *choices[] = {"\"a\"", "1", "1.5", "true", "null"};
    loupe_distribution c = {LOUPE_DIST_CATEGORICAL, 0, 0, 0, 0, 5, choices};
    expect_dist(&c, "{\"type\": \"CategoricalDistribution\", \"choices\": [{\"pytype\": \"<class 'str'>\", \"value\": "
                    "\"a\"}, {\"pytype\": \"<class 'int'>\", \"value\": \"1\"}, {\"pytype\": \"<class 'float'>\", "
                    "\"value\": \"1.5\"}, {\"pytype\": \"<class 'bool'>\", \"value\": \"True\"}, {\"pytype\": "
                    "\"<class 'NoneType'>\", \"value\": \"None\"}]}");
}

static void test_trial(void **state) {
    (void)state;
    const char *ab[] = {"\"a\"", "\"b\""};
    loupe_param params[2] = {
        {"x", 0.25, {LOUPE_DIST_FLOAT, -1, 1, 0, 0, 0, NULL}},
        {"c", 1, {LOUPE_DIST_CATEGORICAL, 0, 0, 0, 0, 2, ab}},
    };
    loupe_attr ua[1] = {{"u", "[1, 2]"}};
    loupe_attr sa[3] = {{"fixed_params", "{\"x\": 0.25, \"c\": \"b\"}"},
                        {"constraints", "[0.5, -1]"},
                        {"artifacts:0d6546b5-e9b1-483a-baf3-cf2ee88d5325", "\"null\""}};
    loupe_intermediate iv[2] = {{0, NAN}, {2, 1.5}};
    double values[1] = {INFINITY};
    loupe_frozen_trial t = {5, 3, 2, LOUPE_COMPLETE, 1, values, 1795832929000000, 1795832929000001,
                            2, params, 1, ua, 3, sa, 2, iv};
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__jw_trial(&b, 2, &t, NULL, NULL);
    /* json.dumps of optuna-dashboard's serialize_frozen_trial for the same trial */
    assert_string_equal(
        b.data,
        "{\"trial_id\": 5, \"study_id\": 2, \"number\": 3, \"state\": \"Complete\", \"params\": [{\"name\": \"x\", "
        "\"param_internal_value\": 0.25, \"param_external_value\": \"0.25\", \"param_external_pytyp\": \"<class "
        "'float'>\", \"distribution\": {\"type\": \"FloatDistribution\", \"low\": -1.0, \"high\": 1.0, \"step\": "
        "null, \"log\": false}}, {\"name\": \"c\", \"param_internal_value\": 1, \"param_external_value\": \"b\", "
        "\"param_external_pytyp\": \"<class 'str'>\", \"distribution\": {\"type\": \"CategoricalDistribution\", "
        "\"choices\": [{\"pytype\": \"<class 'str'>\", \"value\": \"a\"}, {\"pytype\": \"<class 'str'>\", \"value\": "
        "\"b\"}]}}], \"fixed_params\": [{\"name\": \"x\", \"param_external_value\": \"0.25\"}, {\"name\": \"c\", "
        "\"param_external_value\": \"b\"}], \"user_attrs\": [{\"key\": \"u\", \"value\": \"[1, 2]\"}], \"note\": "
        "{\"version\": 0, \"body\": \"\"}, \"artifacts\": [], \"constraints\": [0.5, -1], \"intermediate_values\": "
        "[{\"step\": 0, \"value\": \"nan\"}, {\"step\": 2, \"value\": 1.5}], \"values\": [\"inf\"], "
        "\"datetime_start\": \"2026-11-28T02:28:49\", \"datetime_complete\": \"2026-11-28T02:28:49.000001\"}");
    loupe__buf_free(&b);
}

static void test_extras(void **state) {
    (void)state;
    const loupe_attr attrs[] = {
        {"study:metric_names", "[\"loss\", \"acc\"]"},
        {"dashboard:note_ver", "2"},
        {"dashboard:note_str:1", "\"world\""},
        {"dashboard:note_str:0", "\"hello \""},
        {"dashboard:10:note_ver", "1"},
        {"dashboard:10:note_str:0", "\"## T\\n\\ud83d\\udc4d\""},
        {"dashboard:11:note_ver", "3"},
        {"dashboard:artifacts:11:0d6546b5-e9b1-483a-baf3-cf2ee88d5325",
         "\"{\\\"artifact_id\\\": \\\"0d6546b5-e9b1-483a-baf3-cf2ee88d5325\\\", \\\"filename\\\": \\\"a.png\\\", "
         "\\\"mimetype\\\": \\\"image/png\\\", \\\"encoding\\\": null}\""},
        {"dashboard:artifacts:11:1d6546b5-e9b1-483a-baf3-cf2ee88d5325", "\"null\""},
        {"artifacts:2d6546b5-e9b1-483a-baf3-cf2ee88d5325",
         "\"{\\\"artifact_id\\\": \\\"2d6546b5-e9b1-483a-baf3-cf2ee88d5325\\\", \\\"filename\\\": \\\"t.csv.gz\\\", "
         "\\\"mimetype\\\": \\\"text/csv\\\", \\\"encoding\\\": \\\"gzip\\\"}\""},
        {"dashboard:plot_data:fig:1", "\"}\""},
        {"dashboard:plot_data:fig:0", "\"{\\\"data\\\": []\""},
        {"dashboard:objective_form_widgets:v1", "[{\"type\": \"text\", \"description\": null}]"},
        {"preference:is_preferential", "true"},
        {"preference:values0d6546b5-e9b1-483a-baf3-cf2ee88d5325", "[[0, 1], [2, 1]]"},
        {"preference:history0d6546b5-e9b1-483a-baf3-cf2ee88d5325",
         "\"{\\\"mode\\\": \\\"ChooseWorst\\\", \\\"id\\\": \\\"0d6546b5-e9b1-483a-baf3-cf2ee88d5325\\\", "
         "\\\"timestamp\\\": \\\"2026-11-28T02:04:34.221428\\\", \\\"candidates\\\": [0, 1, 2], \\\"clicked\\\": 1, "
         "\\\"preferences\\\": [[0, 1], [2, 1]]}\""},
        {"preference:skip_trial:12", "true"},
    };
    loupe__study_extras e;
    assert_int_equal(loupe__extras_parse(attrs, sizeof attrs / sizeof *attrs, &e), LOUPE_OK);
    assert_string_equal(e.note_json, "{\"version\": 2, \"body\": \"hello world\"}");
    assert_int_equal(e.n_trials, 2);
    const loupe__trial_extra *t10 = loupe__extras_find(&e, 10), *t11 = loupe__extras_find(&e, 11);
    assert_non_null(t10);
    assert_string_equal(t10->note_json, "{\"version\": 1, \"body\": \"## T\\n\\ud83d\\udc4d\"}");
    assert_null(t10->legacy_artifacts);
    assert_string_equal(t11->note_json, "{\"version\": 3, \"body\": \"\"}");
    assert_string_equal(t11->legacy_artifacts,
                        "{\"artifact_id\": \"0d6546b5-e9b1-483a-baf3-cf2ee88d5325\", \"filename\": \"a.png\", "
                        "\"mimetype\": \"image/png\", \"encoding\": null}");
    assert_null(loupe__extras_find(&e, 12));
    assert_string_equal(e.artifacts_json,
                        "[{\"artifact_id\": \"2d6546b5-e9b1-483a-baf3-cf2ee88d5325\", \"filename\": \"t.csv.gz\", "
                        "\"mimetype\": \"text/csv\", \"encoding\": \"gzip\"}]");
    assert_string_equal(e.plotly_json, "[{\"id\": \"fig\", \"graph_object\": \"{\\\"data\\\": []}\"}]");
    assert_string_equal(e.objective_names_json, "[\"loss\", \"acc\"]");
    assert_int_equal(e.n_metric_names, 2);
    assert_string_equal(e.metric_names[1], "acc");
    assert_string_equal(e.form_widgets_json,
                        "{\"output_type\": \"objective\", \"widgets\": [{\"type\": \"text\", \"description\": null}]}");
    assert_string_equal(e.feedback_json, "{\"output_type\": \"note\"}");
    assert_true(e.is_preferential);
    assert_string_equal(e.preferences_json, "[[0, 1], [2, 1]]");
    assert_int_equal(e.n_pairs, 2);
    assert_string_equal(e.history_json,
                        "[{\"history\": {\"mode\": \"ChooseWorst\", \"id\": \"0d6546b5-e9b1-483a-baf3-cf2ee88d5325\", "
                        "\"timestamp\": \"2026-11-28T02:04:34.221428\", \"candidates\": [0, 1, 2], \"clicked\": 1, "
                        "\"preferences\": [[0, 1], [2, 1]]}, \"is_removed\": false}]");
    assert_int_equal(e.n_skipped, 1);
    assert_int_equal(e.skipped_ids[0], 12);
    loupe__study_extras e2;
    assert_int_equal(loupe__extras_parse(attrs, 4, &e2), LOUPE_OK);
    assert_true(loupe__extras_trial_differs(loupe__extras_find(&e, 10), loupe__extras_find(&e2, 10)));
    assert_false(loupe__extras_trial_differs(loupe__extras_find(&e, 10), loupe__extras_find(&e, 10)));
    assert_string_equal(e2.is_preferential_json, "false");
    assert_null(e2.form_widgets_json);
    loupe__extras_free(&e2);
    loupe__extras_free(&e);
    /* empty attrs: the defaults */
    assert_int_equal(loupe__extras_parse(NULL, 0, &e), LOUPE_OK);
    assert_string_equal(e.note_json, "{\"version\": 0, \"body\": \"\"}");
    assert_string_equal(e.artifacts_json, "[]");
    assert_null(e.objective_names_json);
    loupe__extras_free(&e);
}

static loupe_frozen_trial trial(loupe_trial_state st, size_t np, loupe_param *p, size_t nua, loupe_attr *ua) {
    loupe_frozen_trial t;
    memset(&t, 0, sizeof t);
    t.state = st;
    t.n_params = np;
    t.params = p;
    t.n_user_attrs = nua;
    t.user_attrs = ua;
    t.datetime_start_us = t.datetime_complete_us = -1;
    return t;
}

static void expect_ss(const loupe__ss *ss, const char *want) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__agg_write_ss(&b, ss);
    assert_string_equal(b.data, want);
    loupe__buf_free(&b);
}

static void test_agg(void **state) {
    (void)state;
    loupe_param p1[] = {{"x", 0.5, {LOUPE_DIST_FLOAT, 0, 1, 0, 0, 0, NULL}}};
    loupe_param p2[] = {{"y", 3, {LOUPE_DIST_INT, 0, 5, 1, 0, 0, NULL}},
                        {"x", -0.5, {LOUPE_DIST_FLOAT, -1, 0.5, 0, 0, 0, NULL}}};
    loupe_param p3[] = {{"z", 1, {LOUPE_DIST_FLOAT, 0, 2, 0, 0, 0, NULL}}};
    loupe_attr a1[] = {{"score", "1.5"}, {"tag", "\"a\""}};
    loupe_attr a2[] = {{"score", "true"}, {"n", "3"}};
    loupe__agg a;
    memset(&a, 0, sizeof a);
    loupe_frozen_trial t1 = trial(LOUPE_COMPLETE, 1, p1, 2, a1), t2 = trial(LOUPE_COMPLETE, 2, p2, 0, NULL),
                       t3 = trial(LOUPE_RUNNING, 0, NULL, 0, NULL), t4 = trial(LOUPE_FAIL, 1, p3, 2, a2);
    assert_int_equal(loupe__agg_fold(&a, &t1), LOUPE_OK);
    assert_int_equal(loupe__agg_fold(&a, &t2), LOUPE_OK);
    assert_int_equal(loupe__agg_fold(&a, &t3), LOUPE_OK); /* no params yet: keeps the intersection */
    assert_int_equal(loupe__agg_fold(&a, &t4), LOUPE_OK); /* FAIL: user attrs only */
    expect_ss(&a.inter, "[{\"name\": \"x\", \"distribution\": {\"type\": \"FloatDistribution\", \"low\": -1.0, "
                        "\"high\": 1.0, \"step\": null, \"log\": false}}]");
    expect_ss(&a.uni, "[{\"name\": \"x\", \"distribution\": {\"type\": \"FloatDistribution\", \"low\": -1.0, "
                      "\"high\": 1.0, \"step\": null, \"log\": false}}, {\"name\": \"y\", \"distribution\": "
                      "{\"type\": \"IntDistribution\", \"low\": 0, \"high\": 5, \"step\": 1, \"log\": false}}]");
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__agg_write_ua(&b, &a);
    assert_string_equal(b.data, "[{\"key\": \"n\", \"sortable\": true}, {\"key\": \"score\", \"sortable\": false}, "
                                "{\"key\": \"tag\", \"sortable\": false}]");
    loupe__buf_free(&b);
    /* a copy is independent; a finished trial without params empties the intersection */
    loupe__agg c;
    assert_int_equal(loupe__agg_copy(&c, &a), LOUPE_OK);
    loupe_frozen_trial t5 = trial(LOUPE_COMPLETE, 0, NULL, 0, NULL);
    assert_int_equal(loupe__agg_fold(&c, &t5), LOUPE_OK);
    expect_ss(&c.inter, "[]");
    assert_int_equal(a.inter.n, 1);
    /* a different step is another entry in the union */
    loupe_param p6[] = {{"x", 0.5, {LOUPE_DIST_FLOAT, 0, 1, 0.5, 0, 0, NULL}}};
    loupe_frozen_trial t6 = trial(LOUPE_COMPLETE, 1, p6, 0, NULL);
    assert_int_equal(loupe__agg_fold(&c, &t6), LOUPE_OK);
    assert_int_equal(c.uni.n, 3);
    loupe__agg_free(&c);
    loupe__agg_free(&a);
    /* best and dominance */
    double v1[] = {1, 5}, v2[] = {2, 4}, v3[] = {2, 6};
    loupe_frozen_trial m1 = trial(LOUPE_COMPLETE, 0, NULL, 0, NULL), m2 = m1, m3 = m1;
    m1.values = v1, m1.n_values = 2, m1.number = 0;
    m2.values = v2, m2.n_values = 2, m2.number = 1;
    m3.values = v3, m3.n_values = 2, m3.number = 2;
    loupe_direction dirs[] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE};
    assert_true(loupe__agg_dominates(&m3, &m2, 2, dirs));
    assert_false(loupe__agg_dominates(&m1, &m3, 2, dirs));
    assert_false(loupe__agg_dominates(&m1, &m1, 2, dirs));
    assert_true(loupe__agg_better(&m1, &m2, LOUPE_MINIMIZE));
    assert_true(loupe__agg_better(&m2, &m1, LOUPE_MAXIMIZE));
    m2.values = v1;
    assert_true(loupe__agg_better(&m1, &m2, LOUPE_MINIMIZE)); /* tie: the lower number */
    assert_false(loupe__agg_better(&m2, &m1, LOUPE_MINIMIZE));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles), cmocka_unit_test(test_attr_values), cmocka_unit_test(test_distributions),
        cmocka_unit_test(test_trial),   cmocka_unit_test(test_extras),      cmocka_unit_test(test_agg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void) { return 0; } /* built without the dashboard (no libmicrohttpd) */
#endif
