/*
 * test_hitl_fixture.c -- reading what Optuna 3.1 and optuna-dashboard wrote:
 * the fixture optuna-3.1-hitl.db (see tests/data/fixtures/README.md §1) gives
 * the trial note, the ChoiceWidget form, the metric names and the artifact
 * metadata listed there; its upgraded twin also takes HITL writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loupe.h"
#include "testutil.h"

static const char *const NOTE_BODY =
    "## Trial 9\n\nr=241, g=133, b=106\n\n"
    "![color](/artifacts/1/10/e3e70682-c209-4cac-a29f-6fbed82c07cd)\n";
static const char *const ARTIFACT_ID = "e3e70682-c209-4cac-a29f-6fbed82c07cd";
static const char *const WIDGETS_JSON =
    "{\"output_type\": \"objective\", \"widgets\": [{\"type\": \"choice\", \"description\": "
    "\"Please input your score!\", \"choices\": [\"Good \\ud83d\\udc4d\", \"So-so\\ud83d\\udc4c\", "
    "\"Bad \\ud83d\\udc4e\"], \"values\": [-1, 0, 1], \"user_attr_key\": null}]}";

/* Opens a private copy of a fixture. */
static loupe_storage *open_copy(const char *fixture, const char *copy, unsigned flags) {
    char from[700], to[700], url[800];
    snprintf(from, sizeof from, "%s/fixtures/%s", tu_datadir(), fixture);
    tu_path(to, sizeof to, copy);
    assert_int_equal(tu_copy_file(from, to), 0);
    snprintf(url, sizeof url, "sqlite:///%s", to);
    loupe_storage *s = NULL;
    int rc = loupe_storage_open(url, flags, &s);
    if (rc) fprintf(stderr, "open %s: %s\n", url, loupe_storage_errmsg(s));
    assert_int_equal(rc, LOUPE_OK);
    return s;
}

static void check_hitl_contents(loupe_study *study) {
    assert_int_equal(loupe_study_id(study), 1);
    /* The trial note of trial_id 10 (number 9); no study note. */
    int64_t v;
    char *body;
    assert_int_equal(loupe_note_get(study, 10, &v, &body), LOUPE_OK);
    assert_int_equal(v, 1);
    assert_string_equal(body, NOTE_BODY);
    assert_int_equal(strlen(body), 96); /* 96 characters, all ASCII */
    loupe_free(body);
    assert_int_equal(loupe_note_get(study, LOUPE_STUDY_NOTE, &v, &body), LOUPE_OK);
    assert_int_equal(v, 0);
    assert_string_equal(body, "");
    loupe_free(body);
    assert_int_equal(loupe_note_get(study, 11, &v, &body), LOUPE_OK);
    assert_int_equal(v, 0);
    loupe_free(body);

    /* The form: exactly the stored text, and its decoded widget. */
    char *json;
    assert_int_equal(loupe_form_widgets_json(study, &json), LOUPE_OK);
    assert_string_equal(json, WIDGETS_JSON);
    loupe_free(json);
    loupe_form_widgets *fw;
    assert_int_equal(loupe_form_widgets_get(study, &fw), LOUPE_OK);
    assert_int_equal(fw->output_type, LOUPE_FORM_OBJECTIVE);
    assert_int_equal(fw->n_widgets, 1);
    const loupe_form_widget *w = &fw->widgets[0];
    assert_int_equal(w->type, LOUPE_WIDGET_CHOICE);
    assert_string_equal(w->description, "Please input your score!");
    assert_null(w->user_attr_key);
    assert_int_equal(w->n_choices, 3);
    assert_string_equal(w->choices[0], "Good \xf0\x9f\x91\x8d");
    assert_string_equal(w->choices[1], "So-so\xf0\x9f\x91\x8c");
    assert_string_equal(w->choices[2], "Bad \xf0\x9f\x91\x8e");
    assert_true(w->values[0] == -1 && w->values[1] == 0 && w->values[2] == 1);
    loupe_form_widgets_free(fw);

    char *names;
    assert_int_equal(loupe_study_metric_names(study, &names), LOUPE_OK);
    assert_string_equal(names, "[\"Looks like sunset color?\"]");
    loupe_free(names);

    /* Artifacts: one on trial 9, none elsewhere. */
    loupe_trial_list *trials;
    assert_int_equal(loupe_study_get_trials(study, 0, &trials), LOUPE_OK);
    assert_int_equal(loupe_trial_list_count(trials), 12);
    for (size_t i = 0; i < 12; i++) {
        const loupe_frozen_trial *t = loupe_trial_list_at(trials, i);
        loupe_artifact_list *al;
        assert_int_equal(loupe_artifact_list_get(study, t, &al), LOUPE_OK);
        if (t->number == 9) {
            assert_int_equal(t->trial_id, 10);
            assert_int_equal(loupe_artifact_list_count(al), 1);
            const loupe_artifact_meta *m = loupe_artifact_list_at(al, 0);
            assert_string_equal(m->artifact_id, ARTIFACT_ID);
            assert_string_equal(m->filename, "color.png");
            assert_string_equal(m->mimetype, "image/png");
            assert_null(m->encoding);
        } else {
            assert_int_equal(loupe_artifact_list_count(al), 0);
        }
        loupe_artifact_list_free(al);
    }
    loupe_artifact_list *al;
    assert_int_equal(loupe_artifact_list_get(study, NULL, &al), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(al), 0);
    loupe_artifact_list_free(al);
    assert_int_equal(loupe_artifact_find(study, loupe_trial_list_at(trials, 9), ARTIFACT_ID, &al),
                     LOUPE_OK);
    assert_string_equal(loupe_artifact_list_at(al, 0)->filename, "color.png");
    loupe_artifact_list_free(al);
    /* The note's link is what loupe_artifact_path builds for it. */
    char path[128];
    assert_int_equal(loupe_artifact_path(1, 10, ARTIFACT_ID, path, sizeof path), 52);
    assert_non_null(strstr(NOTE_BODY, path));
    loupe_trial_list_free(trials);
}

static void test_read_optuna31_fixture(void **state) {
    (void)state;
    loupe_storage *s = open_copy("optuna-3.1-hitl.db", "hitl-31.db", LOUPE_OPEN_SKIP_SCHEMA_CHECK);
    loupe_study *study;
    assert_int_equal(loupe_study_load(s, "Human-in-the-loop Optimization", &study), LOUPE_OK);
    check_hitl_contents(study);
    loupe_study_close(study);
    loupe_storage_close(s);
}

static void test_upgraded_fixture_writes(void **state) {
    (void)state;
    loupe_storage *s = open_copy("optuna-hitl-v3.2.0.a.db", "hitl-32.db", 0);
    loupe_study *study;
    assert_int_equal(loupe_study_load(s, "Human-in-the-loop Optimization", &study), LOUPE_OK);
    check_hitl_contents(study);
    /* The REST protocol's conflict: version 1 is current. */
    int64_t v;
    char *cur = NULL;
    assert_int_equal(loupe_note_save(study, 10, 0, "stale", &v, &cur), LOUPE_ECONFLICT);
    assert_int_equal(v, 1);
    assert_string_equal(cur, NOTE_BODY);
    loupe_free(cur);
    assert_int_equal(loupe_note_save(study, 10, 1, "## Trial 9\n\nlooks good", &v, NULL), LOUPE_OK);
    assert_int_equal(v, 2);
    char *body;
    assert_int_equal(loupe_note_get(study, 10, &v, &body), LOUPE_OK);
    assert_string_equal(body, "## Trial 9\n\nlooks good");
    loupe_free(body);
    /* Trial 9 is RUNNING: it takes artifacts; trial 0 is COMPLETE: it does not. */
    char dir[700];
    tu_path(dir, sizeof dir, "");
    loupe_artifact_store *store;
    assert_int_equal(loupe_artifact_store_fs_open(dir, &store), LOUPE_OK);
    loupe_trial *t9, *t0;
    assert_int_equal(loupe_study_trial(study, 9, &t9), LOUPE_OK);
    assert_int_equal(loupe_study_trial(study, 0, &t0), LOUPE_OK);
    char id[37];
    assert_int_equal(loupe_artifact_upload_buffer(store, study, t9, "b.png", "b", 1, NULL, NULL, id),
                     LOUPE_OK);
    assert_int_equal(loupe_artifact_upload_buffer(store, study, t0, "b.png", "b", 1, NULL, NULL, id),
                     LOUPE_EFINISHED);
    const loupe_frozen_trial *ft;
    assert_int_equal(loupe_trial_snapshot(t9, &ft), LOUPE_OK);
    loupe_artifact_list *al;
    assert_int_equal(loupe_artifact_list_get(study, ft, &al), LOUPE_OK);
    assert_int_equal(loupe_artifact_list_count(al), 2);
    assert_string_equal(loupe_artifact_list_at(al, 0)->artifact_id, ARTIFACT_ID);
    loupe_artifact_list_free(al);
    loupe_trial_free(t9);
    loupe_trial_free(t0);
    loupe_artifact_store_close(store);
    loupe_study_close(study);
    loupe_storage_close(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_optuna31_fixture),
        cmocka_unit_test(test_upgraded_fixture_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
