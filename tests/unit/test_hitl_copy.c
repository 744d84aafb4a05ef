/*
 * test_hitl_copy.c -- loupe_study_copy: directions, trials (every state, params,
 * values, intermediate values, attrs, datetimes), user and system attrs, notes
 * remapped to the new trial ids with their artifact links rewritten, legacy
 * artifact and skip keys remapped, artifact metadata shared; and the errors.
 * Runs on the memory and the SQLite storage.
 */
#include <inttypes.h>
#include <math.h>
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

typedef struct fixture {
    loupe_storage *storage;
    loupe_study *src;
    loupe_artifact_store *store;
    int64_t tids[6]; /* trial_id by number */
    char trial_art[37], study_art[37];
} fixture;

static int counter;

static int setup_with(void **state, const char *url) {
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(loupe_storage_open(url, 0, &f->storage), LOUPE_OK);
    /* An unrelated study first, so that study and trial ids differ from numbers. */
    loupe_direction d[2] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE};
    loupe_study *pad;
    assert_int_equal(loupe_study_create(f->storage, "pad", 1, d, 0, &pad), LOUPE_OK);
    loupe_trial *pt;
    assert_int_equal(loupe_study_ask(pad, &pt), LOUPE_OK);
    loupe_trial_free(pt);
    loupe_study_close(pad);
    assert_int_equal(loupe_study_create(f->storage, "src", 2, d, 0, &f->src), LOUPE_OK);
    char dir[600], name[64];
    snprintf(name, sizeof name, "copy-art-%d-%d", (int)getpid(), counter++);
    tu_path(dir, sizeof dir, name);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(loupe_artifact_store_fs_open(dir, &f->store), LOUPE_OK);
    *state = f;
    return 0;
}

static int setup_memory(void **state) { return setup_with(state, ":memory:"); }

static int setup_sqlite(void **state) {
    char name[64], url[700];
    snprintf(name, sizeof name, "copy-%d.db", counter++);
    tu_sqlite_url(url, sizeof url, name);
    return setup_with(state, url);
}

static int teardown(void **state) {
    fixture *f = *state;
    loupe_artifact_store_close(f->store);
    loupe_study_close(f->src);
    loupe_storage_close(f->storage);
    free(f);
    return 0;
}

/* Fills the source study with every kind of data. */
static void populate(fixture *f) {
    loupe_study *s = f->src;
    loupe_trial *t[5];
    for (int i = 0; i < 5; i++) {
        assert_int_equal(loupe_study_ask(s, &t[i]), LOUPE_OK);
        double x;
        int64_t n;
        const char *c;
        assert_int_equal(loupe_trial_suggest_float(t[i], "x", -1, 1, 0, 0, &x), LOUPE_OK);
        assert_int_equal(loupe_trial_suggest_int(t[i], "n", 1, 100, 1, 1, &n), LOUPE_OK);
        const char *ch[] = {"adam", "sgd"};
        assert_int_equal(loupe_trial_suggest_categorical_str(t[i], "opt", 2, ch, &c), LOUPE_OK);
        assert_int_equal(loupe_trial_set_user_attr(t[i], "i", i == 2 ? "Infinity" : "[1, 2.5, null]"),
                         LOUPE_OK);
        f->tids[i] = loupe_trial_id(t[i]);
    }
    assert_int_equal(loupe_trial_tell(t[0], LOUPE_COMPLETE, 2, (double[]){0.25, -3}, 0), LOUPE_OK);
    assert_int_equal(loupe_trial_tell(t[1], LOUPE_FAIL, 0, NULL, 0), LOUPE_OK);
    assert_int_equal(loupe_trial_set_system_attr(t[4], "constraints", "[0.5, -1.0]"), LOUPE_OK);
    /* trial 2, 3 and 4 stay RUNNING; trial 5 is WAITING. */
    assert_int_equal(loupe_study_enqueue_trial(s, "{\"x\": 0.5}", "{\"why\": \"human\"}", NULL),
                     LOUPE_OK);
    loupe_trial_list *wl;
    assert_int_equal(loupe_study_get_trial(s, 5, &wl), LOUPE_OK);
    f->tids[5] = loupe_trial_list_at(wl, 0)->trial_id;
    loupe_trial_list_free(wl);

    assert_int_equal(loupe_artifact_upload_buffer(f->store, s, t[2], "img.png", "png", 3, NULL, NULL,
                                                  f->trial_art),
                     LOUPE_OK);
    assert_int_equal(loupe_artifact_upload_buffer(f->store, s, NULL, "all.csv", "a\n", 2, NULL, NULL,
                                                  f->study_art),
                     LOUPE_OK);
    for (int i = 0; i < 5; i++) loupe_trial_free(t[i]);

    /* Study attrs of every kind. */
    const char *names[] = {"loss", "score"};
    assert_int_equal(loupe_study_set_metric_names(s, 2, names), LOUPE_OK);
    assert_int_equal(loupe_study_set_user_attr(s, "owner", "\"alice\""), LOUPE_OK);
    assert_int_equal(loupe_study_set_user_attr(s, "nan", "NaN"), LOUPE_OK);
    loupe_form_widget w[2] = {{0}};
    w[0].type = LOUPE_WIDGET_TEXT;
    w[1].type = LOUPE_WIDGET_USER_ATTR_REF;
    w[1].key = "score";
    assert_int_equal(loupe_register_objective_form_widgets(s, 2, w), LOUPE_OK);
    char key[128], body[512], link[128];
    int64_t sid = loupe_study_id(s);
    loupe_artifact_path(sid, f->tids[2], f->trial_art, link, sizeof link);
    snprintf(body, sizeof body, "![img](%s) and /artifacts/%" PRId64 "/%" PRId64 "/not-a-uuid and "
             "/artifacts/999/%" PRId64 "/%s", link, sid, f->tids[2], f->tids[2], f->trial_art);
    assert_int_equal(loupe_note_save(s, f->tids[2], 0, body, NULL, NULL), LOUPE_OK);
    assert_int_equal(loupe_note_save(s, f->tids[2], 1, body, NULL, NULL), LOUPE_OK); /* version 2 */
    assert_int_equal(loupe_note_save(s, f->tids[0], 0, "done \xf0\x9f\x91\x8d", NULL, NULL), LOUPE_OK);
    loupe_artifact_path(sid, -1, f->study_art, link, sizeof link);
    snprintf(body, sizeof body, "# Study\n[csv](%s)", link);
    assert_int_equal(loupe_note_save(s, LOUPE_STUDY_NOTE, 0, body, NULL, NULL), LOUPE_OK);
    snprintf(key, sizeof key, "dashboard:artifacts:%" PRId64 ":%s", f->tids[3],
             "a7e8b1c2-0000-4000-8000-000000000001");
    assert_int_equal(loupe_study_set_system_attr(
                         s, key,
                         "\"{\\\"artifact_id\\\": \\\"a7e8b1c2-0000-4000-8000-000000000001\\\", "
                         "\\\"filename\\\": \\\"old.gif\\\", \\\"mimetype\\\": \\\"image/gif\\\", "
                         "\\\"encoding\\\": null}\""),
                     LOUPE_OK);
    snprintf(key, sizeof key, "preference:skip_trial:%" PRId64, f->tids[4]);
    assert_int_equal(loupe_study_set_system_attr(s, key, "true"), LOUPE_OK);
    /* A note of a trial outside the study is copied as is. */
    assert_int_equal(loupe_study_set_system_attr(s, "dashboard:99999:note_ver", "1"), LOUPE_OK);
}

static void expect_same_trial(const loupe_frozen_trial *a, const loupe_frozen_trial *b) {
    assert_int_equal(a->number, b->number);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->n_values, b->n_values);
    for (size_t i = 0; i < a->n_values; i++) assert_true(a->values[i] == b->values[i]);
    assert_int_equal(a->datetime_start_us, b->datetime_start_us);
    assert_int_equal(a->datetime_complete_us, b->datetime_complete_us);
    assert_int_equal(a->n_params, b->n_params);
    for (size_t i = 0; i < a->n_params; i++) {
        assert_string_equal(a->params[i].name, b->params[i].name);
        assert_true(a->params[i].internal == b->params[i].internal);
        char *da = loupe_distribution_to_json(&a->params[i].dist);
        char *db = loupe_distribution_to_json(&b->params[i].dist);
        assert_string_equal(da, db);
        loupe_free(da);
        loupe_free(db);
    }
    assert_int_equal(a->n_user_attrs, b->n_user_attrs);
    for (size_t i = 0; i < a->n_user_attrs; i++) {
        assert_string_equal(a->user_attrs[i].key, b->user_attrs[i].key);
        assert_string_equal(a->user_attrs[i].json, b->user_attrs[i].json);
    }
    assert_int_equal(a->n_system_attrs, b->n_system_attrs);
    for (size_t i = 0; i < a->n_system_attrs; i++) {
        assert_string_equal(a->system_attrs[i].key, b->system_attrs[i].key);
        assert_string_equal(a->system_attrs[i].json, b->system_attrs[i].json);
    }
    assert_int_equal(a->n_intermediate, b->n_intermediate);
}

static void expect_note(loupe_study *s, int64_t tid, int64_t version, const char *body) {
    int64_t v;
    char *b;
    assert_int_equal(loupe_note_get(s, tid, &v, &b), LOUPE_OK);
    assert_int_equal(v, version);
    assert_string_equal(b, body);
    loupe_free(b);
}

static void test_copy(void **state) {
    fixture *f = *state;
    populate(f);
    loupe_study *dst;
    assert_int_equal(loupe_study_copy(f->storage, "src", "dst", &dst), LOUPE_OK);
    assert_string_equal(loupe_study_name(dst), "dst");
    assert_int_equal(loupe_study_n_objectives(dst), 2);
    assert_int_equal(loupe_study_direction(dst, 0), LOUPE_MINIMIZE);
    assert_int_equal(loupe_study_direction(dst, 1), LOUPE_MAXIMIZE);
    int64_t sid = loupe_study_id(f->src), did = loupe_study_id(dst);
    assert_true(did != sid);

    /* Trials: equal except ids. */
    loupe_trial_list *a, *b;
    assert_int_equal(loupe_study_get_trials(f->src, 0, &a), LOUPE_OK);
    assert_int_equal(loupe_study_get_trials(dst, 0, &b), LOUPE_OK);
    assert_int_equal(loupe_trial_list_count(a), 6);
    assert_int_equal(loupe_trial_list_count(b), 6);
    int64_t new_tids[6];
    for (size_t i = 0; i < 6; i++) {
        const loupe_frozen_trial *ta = loupe_trial_list_at(a, i), *tb = loupe_trial_list_at(b, i);
        expect_same_trial(ta, tb);
        assert_true(ta->trial_id != tb->trial_id);
        assert_int_equal(tb->study_id, did);
        new_tids[i] = tb->trial_id;
    }
    assert_int_equal(loupe_trial_list_at(b, 5)->state, LOUPE_WAITING);
    int64_t counts[5];
    assert_int_equal(loupe_study_count_trials(dst, counts), LOUPE_OK);
    assert_int_equal(counts[LOUPE_RUNNING], 3);
    assert_int_equal(counts[LOUPE_COMPLETE], 1);
    assert_int_equal(counts[LOUPE_FAIL], 1);
    assert_int_equal(counts[LOUPE_WAITING], 1);

    /* Trial artifacts: the same metadata, the same blob. */
    loupe_artifact_list *al;
    assert_int_equal(loupe_artifact_list_get(dst, loupe_trial_list_at(b, 2), &al), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(al), 1);
    assert_string_equal(loupe_artifact_list_at(al, 0)->artifact_id, f->trial_art);
    loupe_artifact_list_free(al);
    /* Legacy key remapped to the new trial 3. */
    assert_int_equal(loupe_artifact_list_get(dst, loupe_trial_list_at(b, 3), &al), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(al), 1);
    assert_string_equal(loupe_artifact_list_at(al, 0)->filename, "old.gif");
    loupe_artifact_list_free(al);
    assert_int_equal(loupe_artifact_list_get(dst, NULL, &al), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(al), 1);
    assert_string_equal(loupe_artifact_list_at(al, 0)->artifact_id, f->study_art);
    loupe_artifact_list_free(al);
    void *data;
    size_t len;
    assert_int_equal(loupe_artifact_read_all(f->store, f->trial_art, &data, &len), LOUPE_OK);
    loupe_free(data);

    /* Notes: under the new ids, same versions, links rewritten. */
    char body[512], link[128];
    loupe_artifact_path(did, new_tids[2], f->trial_art, link, sizeof link);
    snprintf(body, sizeof body, "![img](%s) and /artifacts/%" PRId64 "/%" PRId64 "/not-a-uuid and "
             "/artifacts/999/%" PRId64 "/%s", link, sid, f->tids[2], f->tids[2], f->trial_art);
    expect_note(dst, new_tids[2], 2, body);
    expect_note(dst, new_tids[0], 1, "done \xf0\x9f\x91\x8d");
    expect_note(dst, new_tids[1], 0, "");
    loupe_artifact_path(did, -1, f->study_art, link, sizeof link);
    snprintf(body, sizeof body, "# Study\n[csv](%s)", link);
    expect_note(dst, LOUPE_STUDY_NOTE, 1, body);
    /* The source is unchanged. */
    loupe_artifact_path(sid, -1, f->study_art, link, sizeof link);
    snprintf(body, sizeof body, "# Study\n[csv](%s)", link);
    expect_note(f->src, LOUPE_STUDY_NOTE, 1, body);

    /* The remaining attrs. */
    const char *json;
    char key[128];
    assert_int_equal(loupe_study_user_attr(dst, "owner", &json), LOUPE_OK);
    assert_string_equal(json, "\"alice\"");
    assert_int_equal(loupe_study_user_attr(dst, "nan", &json), LOUPE_OK);
    assert_string_equal(json, "NaN");
    char *names;
    assert_int_equal(loupe_study_metric_names(dst, &names), LOUPE_OK);
    assert_string_equal(names, "[\"loss\", \"score\"]");
    loupe_free(names);
    char *w1, *w2;
    assert_int_equal(loupe_form_widgets_json(f->src, &w1), LOUPE_OK);
    assert_int_equal(loupe_form_widgets_json(dst, &w2), LOUPE_OK);
    assert_string_equal(w1, w2);
    loupe_free(w1);
    loupe_free(w2);
    snprintf(key, sizeof key, "preference:skip_trial:%" PRId64, new_tids[4]);
    assert_int_equal(loupe_study_system_attr(dst, key, &json), LOUPE_OK);
    assert_string_equal(json, "true");
    snprintf(key, sizeof key, "preference:skip_trial:%" PRId64, f->tids[4]);
    assert_int_equal(loupe_study_system_attr(dst, key, &json), LOUPE_ENOTFOUND);
    assert_int_equal(loupe_study_system_attr(dst, "dashboard:99999:note_ver", &json), LOUPE_OK);
    /* No key of the source's trials survives in the copy. */
    const loupe_attr *attrs;
    size_t n;
    assert_int_equal(loupe_study_system_attrs(dst, &attrs, &n), LOUPE_OK);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 6; k++) {
            char needle[40];
            snprintf(needle, sizeof needle, ":%" PRId64 ":", f->tids[k]);
            assert_null(strstr(attrs[i].key, needle));
        }

    /* The copy is an ordinary study: ask and tell work and numbers continue. */
    loupe_trial *t;
    assert_int_equal(loupe_study_ask(dst, &t), LOUPE_OK); /* takes the WAITING trial */
    assert_int_equal(loupe_trial_number(t), 5);
    loupe_trial_free(t);
    assert_int_equal(loupe_study_ask(dst, &t), LOUPE_OK);
    assert_int_equal(loupe_trial_number(t), 6);
    loupe_trial_free(t);
    loupe_trial_list_free(a);
    loupe_trial_list_free(b);
    loupe_study_close(dst);
}

static void test_copy_errors(void **state) {
    fixture *f = *state;
    loupe_study *out = (loupe_study *)1;
    assert_int_equal(loupe_study_copy(f->storage, "nope", "x", &out), LOUPE_ENOTFOUND);
    assert_null(out);
    loupe_study *x;
    assert_int_equal(loupe_study_load(f->storage, "x", &x), LOUPE_ENOTFOUND);
    /* An existing target is left alone. */
    assert_int_equal(loupe_study_copy(f->storage, "src", "pad", &out), LOUPE_EEXISTS);
    assert_int_equal(loupe_study_load(f->storage, "pad", &x), LOUPE_OK);
    assert_int_equal(loupe_study_n_objectives(x), 1);
    loupe_trial_list *l;
    assert_int_equal(loupe_study_get_trials(x, 0, &l), LOUPE_OK);
    assert_int_equal(loupe_trial_list_count(l), 1);
    loupe_trial_list_free(l);
    loupe_study_close(x);
    assert_int_equal(loupe_study_copy(f->storage, NULL, "y", NULL), LOUPE_EINVAL);
    /* An empty study copies (no trials, no attrs); out may be NULL. */
    assert_int_equal(loupe_study_copy(f->storage, "src", "empty-copy", NULL), LOUPE_OK);
    assert_int_equal(loupe_study_load(f->storage, "empty-copy", &x), LOUPE_OK);
    assert_int_equal(loupe_study_n_objectives(x), 2);
    loupe_study_close(x);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_setup_teardown(fn, setup_memory, teardown),                                   \
        cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {BOTH(test_copy), BOTH(test_copy_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
