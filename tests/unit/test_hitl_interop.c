/*
 * test_hitl_interop.c -- the loupe side of the HITL interop test with Python
 * (tests/interop/test_hitl_python.sh), and its self-check.
 *
 *   test_hitl_interop write URL ARTDIR   writes the HITL scenario (three
 *       studies: notes, forms, artifacts; see write_scenario) and prints the
 *       ids it made as JSON, for Python to check what it reads
 *   test_hitl_interop dump URL [skip]    prints every study's HITL data as
 *       loupe reads it (metric names, form JSON and decoded widgets, notes,
 *       artifacts) as JSON; "skip" opens old revisions read-only
 *   test_hitl_interop guess NAME...      prints loupe's mimetype guesses
 *   test_hitl_interop                    (ctest) writes the scenario and checks
 *       the dump of it with loupe alone
 *
 * The note bodies come from note_body(), which the Python side reproduces.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "loupe.h"
#include "testutil.h"
#include "util/buf.h"
#include "util/pyjson.h"

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != LOUPE_OK) {                                                                     \
            fprintf(stderr, "%s:%d: %s -> %s\n", __FILE__, __LINE__, #expr, loupe_strerror(rc_));  \
            return rc_;                                                                            \
        }                                                                                          \
    } while (0)

/* Code point i of the generated note bodies; Python: CPS[(i * 3 + i // 5) % 7]. */
static const char *const CPS[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                  "\n", "\"", "\\"};

static char *note_body(const char *head, size_t n_cp) {
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_puts(&b, head);
    for (size_t i = 0; i < n_cp; i++) loupe__buf_puts(&b, CPS[(i * 3 + i / 5) % 7]);
    return loupe__buf_steal(&b);
}

static const char PNG[] = "\x89PNG\r\n\x1a\nfake image";

/* ---------------------------------------------------------------- write */

static int write_scenario(const char *url, const char *artdir, loupe__buf *out) {
    loupe_storage *st = NULL;
    int rc = loupe_storage_open(url, 0, &st);
    if (rc) {
        fprintf(stderr, "open: %s\n", loupe_storage_errmsg(st));
        loupe_storage_close(st);
        return rc;
    }
    loupe_artifact_store *store = NULL;
    rc = loupe_artifact_store_fs_open(artdir, &store);
    if (rc) {
        fprintf(stderr, "store: %s\n", loupe_artifact_store_errmsg(store));
        return rc;
    }
    loupe_direction d[3] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE, LOUPE_MINIMIZE};

    /* 1. "hitl-objective": the tutorial's form, notes and artifacts. */
    loupe_study *s;
    CHECK(loupe_study_create(st, "hitl-objective", 1, d, 0, &s));
    const char *names[] = {"Looks like sunset color?"};
    CHECK(loupe_study_set_metric_names(s, 1, names));
    const char *choices[] = {"Good \xf0\x9f\x91\x8d", "So-so\xf0\x9f\x91\x8c", "Bad \xf0\x9f\x91\x8e"};
    double values[] = {-1, 0, 1};
    loupe_form_widget w = {0};
    w.type = LOUPE_WIDGET_CHOICE;
    w.description = "Please input your score!";
    w.n_choices = 3;
    w.choices = choices;
    w.values = values;
    CHECK(loupe_register_objective_form_widgets(s, 1, &w));
    loupe_trial *t[3];
    for (int i = 0; i < 3; i++) {
        CHECK(loupe_study_ask(s, &t[i]));
        int64_t r;
        CHECK(loupe_trial_suggest_int(t[i], "r", 0, 255, 1, 0, &r));
    }
    char color[37], csvgz[37], jsonl[37], summary[37], path[128];
    CHECK(loupe_artifact_upload_buffer(store, s, t[0], "color.png", PNG, sizeof PNG - 1, NULL, NULL,
                                       color));
    loupe_artifact_path(loupe_study_id(s), loupe_trial_id(t[0]), color, path, sizeof path);
    char note0[256];
    snprintf(note0, sizeof note0, "## Trial 0\n\n![color](%s)\n", path);
    CHECK(loupe_note_save(s, loupe_trial_id(t[0]), 0, note0, NULL, NULL));
    CHECK(loupe_trial_tell(t[0], LOUPE_COMPLETE, 1, (double[]){-1}, 0));
    CHECK(loupe_artifact_upload_buffer(store, s, t[1], "table.csv.gz", "gz", 2, NULL, NULL, csvgz));
    CHECK(loupe_artifact_upload_buffer(store, s, t[1], "rows.jsonl", "{}\n", 3, NULL, NULL, jsonl));
    CHECK(loupe_artifact_delete(store, s, t[1], jsonl));
    char *long_body = note_body("# long\n", 5000), *short_body = note_body("# short\n", 2100);
    CHECK(loupe_note_save(s, loupe_trial_id(t[1]), 0, long_body, NULL, NULL));
    CHECK(loupe_note_save(s, loupe_trial_id(t[1]), 1, short_body, NULL, NULL));
    CHECK(loupe_artifact_upload_buffer(store, s, NULL, "summary.json", "{\"a\": 1}", 8,
                                       "application/x-summary", "identity", summary));
    char *study_note = note_body("# Study\n", 3000);
    CHECK(loupe_note_save(s, LOUPE_STUDY_NOTE, 0, study_note, NULL, NULL));
    loupe__buf_printf(out,
                      "{\"objective_study_id\": %" PRId64 ", \"trial_ids\": [%" PRId64 ", %" PRId64
                      ", %" PRId64 "], \"color\": \"%s\", \"csvgz\": \"%s\", \"jsonl\": \"%s\", "
                      "\"summary\": \"%s\"}\n",
                      loupe_study_id(s), loupe_trial_id(t[0]), loupe_trial_id(t[1]),
                      loupe_trial_id(t[2]), color, csvgz, jsonl, summary);
    for (int i = 0; i < 3; i++) loupe_trial_free(t[i]);
    free(long_body);
    free(short_body);
    free(study_note);
    loupe_study_close(s);

    /* 2. "hitl-user-attr": a user-attr form with every input widget. */
    CHECK(loupe_study_create(st, "hitl-user-attr", 1, d, 0, &s));
    const char *yn[] = {"yes", "no"};
    double yv[] = {1.5, 2.5};
    loupe_slider_label labels[] = {{0, "bad"}, {100, "good"}};
    loupe_form_widget u[3];
    memset(u, 0, sizeof u);
    u[0].type = LOUPE_WIDGET_CHOICE;
    u[0].n_choices = 2;
    u[0].choices = yn;
    u[0].values = yv;
    u[0].user_attr_key = "hitl/choice";
    u[1].type = LOUPE_WIDGET_SLIDER;
    u[1].min = 0;
    u[1].max = 100;
    u[1].has_step = 1;
    u[1].step = 5;
    u[1].n_labels = 2;
    u[1].labels = labels;
    u[1].description = "How good?";
    u[1].user_attr_key = "hitl/slider";
    u[2].type = LOUPE_WIDGET_TEXT;
    u[2].user_attr_key = "hitl/text";
    u[2].optional = 1;
    CHECK(loupe_register_user_attr_form_widgets(s, 3, u));
    loupe_study_close(s);

    /* 3. "hitl-multi": three objectives, slider / text / user-attr reference. */
    CHECK(loupe_study_create(st, "hitl-multi", 3, d, 0, &s));
    loupe_form_widget m[3];
    memset(m, 0, sizeof m);
    m[0].type = LOUPE_WIDGET_SLIDER;
    m[0].min = 1;
    m[0].max = 10;
    m[0].description = "Higher is better.";
    m[1].type = LOUPE_WIDGET_TEXT;
    m[1].description = "float";
    m[2].type = LOUPE_WIDGET_USER_ATTR_REF;
    m[2].key = "precomputed";
    CHECK(loupe_register_objective_form_widgets(s, 3, m));
    loupe_study_close(s);

    loupe_artifact_store_close(store);
    loupe_storage_close(st);
    return out->failed ? LOUPE_ENOMEM : LOUPE_OK;
}

/* ---------------------------------------------------------------- dump */

static void put_str(loupe__buf *b, const char *s) {
    if (s) loupe__pyjson_string(b, s, strlen(s));
    else loupe__buf_puts(b, "null");
}

static void put_num(loupe__buf *b, double v) { loupe__pyjson_double(b, v); }

static int dump_note(loupe__buf *b, loupe_study *s, int64_t tid) {
    int64_t v;
    char *body;
    CHECK(loupe_note_get(s, tid, &v, &body));
    loupe__buf_printf(b, "{\"version\": %" PRId64 ", \"body\": ", v);
    put_str(b, body);
    loupe__buf_putc(b, '}');
    loupe_free(body);
    return LOUPE_OK;
}

static int dump_artifacts(loupe__buf *b, loupe_study *s, const loupe_frozen_trial *t) {
    loupe_artifact_list *al;
    CHECK(loupe_artifact_list_get(s, t, &al));
    loupe__buf_putc(b, '[');
    for (size_t i = 0; i < loupe_artifact_list_count(al); i++) {
        const loupe_artifact_meta *m = loupe_artifact_list_at(al, i);
        if (i) loupe__buf_puts(b, ", ");
        loupe__buf_puts(b, "{\"artifact_id\": ");
        put_str(b, m->artifact_id);
        loupe__buf_puts(b, ", \"filename\": ");
        put_str(b, m->filename);
        loupe__buf_puts(b, ", \"mimetype\": ");
        put_str(b, m->mimetype);
        loupe__buf_puts(b, ", \"encoding\": ");
        put_str(b, m->encoding);
        loupe__buf_putc(b, '}');
    }
    loupe__buf_putc(b, ']');
    loupe_artifact_list_free(al);
    return LOUPE_OK;
}

/* The decoded widgets written back in to_dict() form (floats as floats). */
static int dump_widgets(loupe__buf *b, loupe_study *s) {
    loupe_form_widgets *fw;
    CHECK(loupe_form_widgets_get(s, &fw));
    if (!fw) {
        loupe__buf_puts(b, "null");
        return LOUPE_OK;
    }
    loupe__buf_printf(b, "{\"output_type\": \"%s\", \"widgets\": [",
                      fw->output_type == LOUPE_FORM_OBJECTIVE ? "objective" : "user_attr");
    for (size_t i = 0; i < fw->n_widgets; i++) {
        const loupe_form_widget *w = &fw->widgets[i];
        if (i) loupe__buf_puts(b, ", ");
        switch (w->type) {
        case LOUPE_WIDGET_CHOICE:
            loupe__buf_puts(b, "{\"type\": \"choice\", \"description\": ");
            put_str(b, w->description);
            loupe__buf_puts(b, ", \"choices\": [");
            for (size_t k = 0; k < w->n_choices; k++) {
                if (k) loupe__buf_puts(b, ", ");
                put_str(b, w->choices[k]);
            }
            loupe__buf_puts(b, "], \"values\": [");
            for (size_t k = 0; k < w->n_choices; k++) {
                if (k) loupe__buf_puts(b, ", ");
                put_num(b, w->values[k]);
            }
            loupe__buf_puts(b, "], \"user_attr_key\": ");
            put_str(b, w->user_attr_key);
            loupe__buf_putc(b, '}');
            break;
        case LOUPE_WIDGET_SLIDER:
            loupe__buf_puts(b, "{\"type\": \"slider\", \"description\": ");
            put_str(b, w->description);
            loupe__buf_puts(b, ", \"min\": ");
            put_num(b, w->min);
            loupe__buf_puts(b, ", \"max\": ");
            put_num(b, w->max);
            loupe__buf_puts(b, ", \"step\": ");
            if (w->has_step) put_num(b, w->step);
            else loupe__buf_puts(b, "null");
            loupe__buf_puts(b, ", \"labels\": ");
            if (w->labels) {
                loupe__buf_putc(b, '[');
                for (size_t k = 0; k < w->n_labels; k++) {
                    if (k) loupe__buf_puts(b, ", ");
                    loupe__buf_puts(b, "{\"value\": ");
                    put_num(b, w->labels[k].value);
                    loupe__buf_puts(b, ", \"label\": ");
                    put_str(b, w->labels[k].label);
                    loupe__buf_putc(b, '}');
                }
                loupe__buf_putc(b, ']');
            } else {
                loupe__buf_puts(b, "null");
            }
            loupe__buf_puts(b, ", \"user_attr_key\": ");
            put_str(b, w->user_attr_key);
            loupe__buf_putc(b, '}');
            break;
        case LOUPE_WIDGET_TEXT:
            loupe__buf_puts(b, "{\"type\": \"text\", \"description\": ");
            put_str(b, w->description);
            loupe__buf_puts(b, ", \"user_attr_key\": ");
            put_str(b, w->user_attr_key);
            loupe__buf_printf(b, ", \"optional\": %s}", w->optional ? "true" : "false");
            break;
        case LOUPE_WIDGET_USER_ATTR_REF:
            loupe__buf_puts(b, "{\"type\": \"user_attr\", \"key\": ");
            put_str(b, w->key);
            loupe__buf_putc(b, '}');
            break;
        }
    }
    loupe__buf_puts(b, "]}");
    loupe_form_widgets_free(fw);
    return LOUPE_OK;
}

static int dump_study(loupe__buf *b, loupe_study *s) {
    loupe__buf_puts(b, "{\"study_id\": ");
    loupe__buf_printf(b, "%" PRId64 ", \"metric_names\": ", loupe_study_id(s));
    char *names, *form;
    CHECK(loupe_study_metric_names(s, &names));
    loupe__buf_puts(b, names ? names : "null");
    loupe_free(names);
    loupe__buf_puts(b, ", \"form_widgets\": ");
    CHECK(loupe_form_widgets_json(s, &form));
    loupe__buf_puts(b, form ? form : "null");
    loupe_free(form);
    loupe__buf_puts(b, ", \"decoded_widgets\": ");
    CHECK(dump_widgets(b, s));
    loupe__buf_puts(b, ", \"note\": ");
    CHECK(dump_note(b, s, LOUPE_STUDY_NOTE));
    loupe__buf_puts(b, ", \"artifacts\": ");
    CHECK(dump_artifacts(b, s, NULL));
    loupe__buf_puts(b, ", \"trials\": [");
    loupe_trial_list *tl;
    CHECK(loupe_study_get_trials(s, 0, &tl));
    for (size_t i = 0; i < loupe_trial_list_count(tl); i++) {
        const loupe_frozen_trial *t = loupe_trial_list_at(tl, i);
        if (i) loupe__buf_puts(b, ", ");
        loupe__buf_printf(b, "{\"number\": %" PRId64 ", \"trial_id\": %" PRId64 ", \"note\": ",
                          t->number, t->trial_id);
        CHECK(dump_note(b, s, t->trial_id));
        loupe__buf_puts(b, ", \"artifacts\": ");
        CHECK(dump_artifacts(b, s, t));
        loupe__buf_putc(b, '}');
    }
    loupe_trial_list_free(tl);
    loupe__buf_puts(b, "]}");
    return LOUPE_OK;
}

static int dump(const char *url, unsigned flags, loupe__buf *b) {
    loupe_storage *st = NULL;
    int rc = loupe_storage_open(url, flags, &st);
    if (rc) {
        fprintf(stderr, "open: %s\n", loupe_storage_errmsg(st));
        loupe_storage_close(st);
        return rc;
    }
    loupe_study_list *sl;
    CHECK(loupe_storage_list_studies(st, &sl));
    loupe__buf_putc(b, '{');
    for (size_t i = 0; i < loupe_study_list_count(sl); i++) {
        const char *name = loupe_study_list_at(sl, i)->name;
        loupe_study *s;
        CHECK(loupe_study_load(st, name, &s));
        if (i) loupe__buf_puts(b, ", ");
        put_str(b, name);
        loupe__buf_puts(b, ": ");
        rc = dump_study(b, s);
        if (rc) fprintf(stderr, "study %s: %s\n", name, loupe_study_errmsg(s));
        loupe_study_close(s);
        if (rc) break;
    }
    loupe__buf_puts(b, "}\n");
    loupe_study_list_free(sl);
    loupe_storage_close(st);
    return rc;
}

/* ---------------------------------------------------------------- self-check */

static void test_write_and_dump(void **state) {
    (void)state;
    char url[800], dir[700];
    tu_sqlite_url(url, sizeof url, "interop-self.db");
    tu_path(dir, sizeof dir, "interop-art");
    mkdir(dir, 0755);
    loupe__buf ids, out;
    loupe__buf_init(&ids, 0);
    loupe__buf_init(&out, 0);
    assert_int_equal(write_scenario(url, dir, &ids), LOUPE_OK);
    assert_int_equal(dump(url, 0, &out), LOUPE_OK);
    yyjson_doc *doc = loupe__pyjson_parse(out.data, out.len, NULL, 0);
    assert_non_null(doc);
    yyjson_val *root = yyjson_doc_get_root(doc);
    yyjson_val *obj = yyjson_obj_get(root, "hitl-objective");
    assert_non_null(obj);
    /* The long-then-short trial note reads back as the short body. */
    yyjson_val *t1 = yyjson_arr_get(yyjson_obj_get(obj, "trials"), 1);
    char *short_body = note_body("# short\n", 2100);
    yyjson_val *note = yyjson_obj_get(t1, "note");
    assert_int_equal(yyjson_get_int(yyjson_obj_get(note, "version")), 2);
    assert_string_equal(yyjson_get_str(yyjson_obj_get(note, "body")), short_body);
    free(short_body);
    /* One live artifact on trial 1 (the other was deleted). */
    assert_int_equal(yyjson_arr_size(yyjson_obj_get(t1, "artifacts")), 1);
    /* The form of every study; the decoded widgets equal the stored ones. */
    yyjson_val *multi = yyjson_obj_get(root, "hitl-multi");
    yyjson_val *fw = yyjson_obj_get(multi, "form_widgets");
    assert_int_equal(yyjson_arr_size(yyjson_obj_get(fw, "widgets")), 3);
    yyjson_val *dw = yyjson_obj_get(yyjson_obj_get(multi, "decoded_widgets"), "widgets");
    assert_int_equal(yyjson_arr_size(dw), 3);
    assert_true(yyjson_get_num(yyjson_obj_get(yyjson_arr_get(dw, 0), "max")) == 10.0);
    assert_string_equal(yyjson_get_str(yyjson_obj_get(yyjson_arr_get(dw, 2), "key")), "precomputed");
    yyjson_doc_free(doc);
    loupe__buf_free(&ids);
    loupe__buf_free(&out);
}

int main(int argc, char **argv) {
    if (argc == 1) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_write_and_dump)};
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    loupe__buf out;
    loupe__buf_init(&out, 0);
    int rc = LOUPE_EINVAL;
    if (strcmp(argv[1], "write") == 0 && argc == 4) {
        rc = write_scenario(argv[2], argv[3], &out);
    } else if (strcmp(argv[1], "dump") == 0 && (argc == 3 || argc == 4)) {
        rc = dump(argv[2], argc == 4 && strcmp(argv[3], "skip") == 0 ? LOUPE_OPEN_SKIP_SCHEMA_CHECK : 0,
                  &out);
    } else if (strcmp(argv[1], "guess") == 0) {
        loupe__buf_putc(&out, '[');
        for (int i = 2; i < argc; i++) {
            const char *m, *e;
            loupe_artifact_guess_type(argv[i], &m, &e);
            loupe__buf_puts(&out, i > 2 ? ", [" : "[");
            put_str(&out, m);
            loupe__buf_puts(&out, ", ");
            put_str(&out, e);
            loupe__buf_putc(&out, ']');
        }
        loupe__buf_puts(&out, "]\n");
        rc = LOUPE_OK;
    } else {
        fprintf(stderr, "usage: %s write URL ARTDIR | dump URL [skip] | guess NAME...\n", argv[0]);
    }
    if (rc == LOUPE_OK) fputs(out.data ? out.data : "", stdout);
    loupe__buf_free(&out);
    return rc == LOUPE_OK ? 0 : 1;
}
