/*
 * test_hitl_widgets.c -- form widgets: the exact "dashboard:form_widgets:v2"
 * text optuna-dashboard writes (the tutorial's ChoiceWidget byte for byte),
 * every widget type and field round-tripped through the stored JSON,
 * upstream's validation messages, the legacy keys, and metric names read
 * from "dashboard:objective_names". Runs on the memory and the SQLite storage.
 */
#include <math.h>
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

typedef struct fixture {
    loupe_storage *storage;
    loupe_study *one; /* 1 objective */
    loupe_study *four; /* 4 objectives */
} fixture;

static int counter;

static int setup_with(void **state, const char *url) {
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(loupe_storage_open(url, 0, &f->storage), LOUPE_OK);
    loupe_direction d[4] = {LOUPE_MINIMIZE, LOUPE_MAXIMIZE, LOUPE_MINIMIZE, LOUPE_MINIMIZE};
    assert_int_equal(loupe_study_create(f->storage, "one", 1, d, 0, &f->one), LOUPE_OK);
    assert_int_equal(loupe_study_create(f->storage, "four", 4, d, 0, &f->four), LOUPE_OK);
    *state = f;
    return 0;
}

static int setup_memory(void **state) { return setup_with(state, ":memory:"); }

static int setup_sqlite(void **state) {
    char name[64], url[700];
    snprintf(name, sizeof name, "widgets-%d.db", counter++);
    tu_sqlite_url(url, sizeof url, name);
    return setup_with(state, url);
}

static int teardown(void **state) {
    fixture *f = *state;
    loupe_study_close(f->one);
    loupe_study_close(f->four);
    loupe_storage_close(f->storage);
    free(f);
    return 0;
}

static const char *stored(loupe_study *s) {
    const char *json = NULL;
    if (loupe_study_system_attr(s, "dashboard:form_widgets:v2", &json) != LOUPE_OK) return NULL;
    return json;
}

/* The fixture's value_json, written by optuna-dashboard for the tutorial. */
static const char *const TUTORIAL =
    "{\"output_type\": \"objective\", \"widgets\": [{\"type\": \"choice\", \"description\": "
    "\"Please input your score!\", \"choices\": [\"Good \\ud83d\\udc4d\", \"So-so\\ud83d\\udc4c\", "
    "\"Bad \\ud83d\\udc4e\"], \"values\": [-1, 0, 1], \"user_attr_key\": null}]}";

static void test_tutorial_choice(void **state) {
    fixture *f = *state;
    const char *choices[] = {"Good \xf0\x9f\x91\x8d", "So-so\xf0\x9f\x91\x8c", "Bad \xf0\x9f\x91\x8e"};
    double values[] = {-1, 0, 1};
    loupe_form_widget w = {0};
    w.type = LOUPE_WIDGET_CHOICE;
    w.description = "Please input your score!";
    w.n_choices = 3;
    w.choices = choices;
    w.values = values;
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 1, &w), LOUPE_OK);
    assert_string_equal(stored(f->one), TUTORIAL);
    char *json;
    assert_int_equal(loupe_form_widgets_json(f->one, &json), LOUPE_OK);
    assert_string_equal(json, TUTORIAL);
    loupe_free(json);

    loupe_form_widgets *fw;
    assert_int_equal(loupe_form_widgets_get(f->one, &fw), LOUPE_OK);
    assert_int_equal(fw->output_type, LOUPE_FORM_OBJECTIVE);
    assert_int_equal(fw->n_widgets, 1);
    const loupe_form_widget *g = &fw->widgets[0];
    assert_int_equal(g->type, LOUPE_WIDGET_CHOICE);
    assert_string_equal(g->description, "Please input your score!");
    assert_null(g->user_attr_key);
    assert_int_equal(g->n_choices, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(g->choices[i], choices[i]);
        assert_true(g->values[i] == values[i]);
    }
    loupe_form_widgets_free(fw);

    /* Registering again replaces the definition (one per study). */
    loupe_form_widget t = {0};
    t.type = LOUPE_WIDGET_TEXT;
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 1, &t), LOUPE_OK);
    assert_string_equal(stored(f->one),
                        "{\"output_type\": \"objective\", \"widgets\": [{\"type\": \"text\", "
                        "\"description\": null, \"user_attr_key\": null, \"optional\": false}]}");
}

static void test_all_types(void **state) {
    fixture *f = *state;
    const char *choices[] = {"A", "B"};
    double values[] = {0.5, 1e20};
    loupe_slider_label labels[] = {{1, "low"}, {10.5, "high \"!\""}};
    loupe_form_widget w[4];
    memset(w, 0, sizeof w);
    w[0].type = LOUPE_WIDGET_CHOICE;
    w[0].n_choices = 2;
    w[0].choices = choices;
    w[0].values = values;
    w[0].user_attr_key = "unused"; /* stored, unused (upstream only warns) */
    w[1].type = LOUPE_WIDGET_SLIDER;
    w[1].description = "Higher is better.";
    w[1].min = 1;
    w[1].max = 10.5;
    w[1].has_step = 1;
    w[1].step = 0.5;
    w[1].n_labels = 2;
    w[1].labels = labels;
    w[2].type = LOUPE_WIDGET_SLIDER;
    w[2].min = -3;
    w[2].max = 3;
    w[3].type = LOUPE_WIDGET_USER_ATTR_REF;
    w[3].key = "precomputed";
    assert_int_equal(loupe_register_objective_form_widgets(f->four, 4, w), LOUPE_OK);
    assert_string_equal(
        stored(f->four),
        "{\"output_type\": \"objective\", \"widgets\": ["
        "{\"type\": \"choice\", \"description\": null, \"choices\": [\"A\", \"B\"], \"values\": "
        "[0.5, 1e+20], \"user_attr_key\": \"unused\"}, "
        "{\"type\": \"slider\", \"description\": \"Higher is better.\", \"min\": 1, \"max\": 10.5, "
        "\"step\": 0.5, \"labels\": [{\"value\": 1, \"label\": \"low\"}, {\"value\": 10.5, "
        "\"label\": \"high \\\"!\\\"\"}], \"user_attr_key\": null}, "
        "{\"type\": \"slider\", \"description\": null, \"min\": -3, \"max\": 3, \"step\": null, "
        "\"labels\": null, \"user_attr_key\": null}, "
        "{\"type\": \"user_attr\", \"key\": \"precomputed\"}]}");

    loupe_form_widgets *fw;
    assert_int_equal(loupe_form_widgets_get(f->four, &fw), LOUPE_OK);
    assert_int_equal(fw->n_widgets, 4);
    const loupe_form_widget *g = fw->widgets;
    assert_int_equal(g[0].type, LOUPE_WIDGET_CHOICE);
    assert_string_equal(g[0].user_attr_key, "unused");
    assert_true(g[0].values[1] == 1e20);
    assert_int_equal(g[1].type, LOUPE_WIDGET_SLIDER);
    assert_true(g[1].min == 1 && g[1].max == 10.5 && g[1].has_step && g[1].step == 0.5);
    assert_int_equal(g[1].n_labels, 2);
    assert_string_equal(g[1].labels[1].label, "high \"!\"");
    assert_true(g[1].labels[1].value == 10.5);
    assert_false(g[2].has_step);
    assert_null(g[2].labels);
    assert_int_equal(g[3].type, LOUPE_WIDGET_USER_ATTR_REF);
    assert_string_equal(g[3].key, "precomputed");
    /* Writing what was read gives the same text. */
    char *before = strdup(stored(f->four));
    assert_int_equal(loupe_register_objective_form_widgets(f->four, 4, fw->widgets), LOUPE_OK);
    assert_string_equal(stored(f->four), before);
    free(before);
    loupe_form_widgets_free(fw);
}

static void test_user_attr_form(void **state) {
    fixture *f = *state;
    const char *choices[] = {"Good", "Bad"};
    double values[] = {-1, 1};
    loupe_form_widget w[3];
    memset(w, 0, sizeof w);
    w[0].type = LOUPE_WIDGET_CHOICE;
    w[0].n_choices = 2;
    w[0].choices = choices;
    w[0].values = values;
    w[0].user_attr_key = "hitl/choice";
    w[1].type = LOUPE_WIDGET_SLIDER;
    w[1].min = 1;
    w[1].max = 10;
    w[1].has_step = 1;
    w[1].step = 1;
    w[1].user_attr_key = "hitl/slider";
    w[2].type = LOUPE_WIDGET_TEXT;
    w[2].description = "comment";
    w[2].user_attr_key = "hitl/text";
    w[2].optional = 1;
    assert_int_equal(loupe_register_user_attr_form_widgets(f->one, 3, w), LOUPE_OK);
    assert_string_equal(
        stored(f->one),
        "{\"output_type\": \"user_attr\", \"widgets\": ["
        "{\"type\": \"choice\", \"description\": null, \"choices\": [\"Good\", \"Bad\"], \"values\": "
        "[-1, 1], \"user_attr_key\": \"hitl/choice\"}, "
        "{\"type\": \"slider\", \"description\": null, \"min\": 1, \"max\": 10, \"step\": 1, "
        "\"labels\": null, \"user_attr_key\": \"hitl/slider\"}, "
        "{\"type\": \"text\", \"description\": \"comment\", \"user_attr_key\": \"hitl/text\", "
        "\"optional\": true}]}");
    loupe_form_widgets *fw;
    assert_int_equal(loupe_form_widgets_get(f->one, &fw), LOUPE_OK);
    assert_int_equal(fw->output_type, LOUPE_FORM_USER_ATTR);
    assert_int_equal(fw->widgets[2].optional, 1);
    assert_string_equal(fw->widgets[2].user_attr_key, "hitl/text");
    loupe_form_widgets_free(fw);

    /* Upstream's checks and messages; nothing is written on error. */
    char *before = strdup(stored(f->one));
    w[1].user_attr_key = "hitl/choice";
    assert_int_equal(loupe_register_user_attr_form_widgets(f->one, 3, w), LOUPE_EINVAL);
    assert_true(strncmp(loupe_study_errmsg(f->one),
                        "`user_attr_key` must be unique for each widget.", 47) == 0);
    w[1].user_attr_key = NULL;
    assert_int_equal(loupe_register_user_attr_form_widgets(f->one, 3, w), LOUPE_EINVAL);
    assert_true(strncmp(loupe_study_errmsg(f->one), "`user_attr_key` is not specified.", 33) == 0);
    loupe_form_widget ref = {0};
    ref.type = LOUPE_WIDGET_USER_ATTR_REF;
    ref.key = "k";
    assert_int_equal(loupe_register_user_attr_form_widgets(f->one, 1, &ref), LOUPE_EINVAL);
    assert_true(strncmp(loupe_study_errmsg(f->one), "ObjectiveUserAttrRef can't be specified.", 40) ==
                0);
    assert_string_equal(stored(f->one), before);
    free(before);
    /* An empty user-attr form is allowed, as upstream. */
    assert_int_equal(loupe_register_user_attr_form_widgets(f->one, 0, NULL), LOUPE_OK);
    assert_string_equal(stored(f->one), "{\"output_type\": \"user_attr\", \"widgets\": []}");
}

static void test_objective_errors(void **state) {
    fixture *f = *state;
    loupe_form_widget w[2];
    memset(w, 0, sizeof w);
    w[0].type = LOUPE_WIDGET_TEXT;
    w[1].type = LOUPE_WIDGET_TEXT;
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 2, w), LOUPE_EINVAL);
    assert_true(strncmp(loupe_study_errmsg(f->one),
                        "The length of actions must be the same with the number of objectives.",
                        69) == 0);
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 0, NULL), LOUPE_EINVAL);
    w[0].optional = 1;
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 1, w), LOUPE_EINVAL);
    assert_true(strncmp(loupe_study_errmsg(f->one), "TextInputWidget.optional must be False.", 39) ==
                0);
    /* Structural checks. */
    double nan_value[] = {NAN};
    const char *one_choice[] = {"x"};
    loupe_form_widget c = {0};
    c.type = LOUPE_WIDGET_CHOICE;
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 1, &c), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_study_errmsg(f->one), "at least one choice"));
    c.n_choices = 1;
    c.choices = one_choice;
    c.values = nan_value;
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 1, &c), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_study_errmsg(f->one), "not finite"));
    loupe_form_widget s = {0};
    s.type = LOUPE_WIDGET_SLIDER;
    s.min = 5;
    s.max = 1;
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 1, &s), LOUPE_EINVAL);
    s.max = 6;
    s.has_step = 1;
    s.step = 0;
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 1, &s), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_study_errmsg(f->one), "step must be a positive number"));
    loupe_form_widget r = {0};
    r.type = LOUPE_WIDGET_USER_ATTR_REF;
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 1, &r), LOUPE_EINVAL);
    loupe_form_widget u = {0};
    u.type = (loupe_form_widget_type)9;
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 1, &u), LOUPE_EINVAL);
    assert_non_null(strstr(loupe_study_errmsg(f->one), "unknown type"));
    assert_null(stored(f->one));
    loupe_form_widgets *fw = (loupe_form_widgets *)1;
    assert_int_equal(loupe_form_widgets_get(f->one, &fw), LOUPE_OK);
    assert_null(fw);
    char *json = (char *)1;
    assert_int_equal(loupe_form_widgets_json(f->one, &json), LOUPE_OK);
    assert_null(json);
}

static void test_legacy_keys(void **state) {
    fixture *f = *state;
    const char *list = "[{\"type\": \"slider\", \"description\": \"old\", \"min\": 0, \"max\": 1, "
                       "\"step\": null, \"labels\": null}]";
    /* v0.9.0b5: a JSON string holding the list. */
    char v0[512];
    snprintf(v0, sizeof v0, "\"[{\\\"type\\\": \\\"choice\\\", \\\"choices\\\": [\\\"y\\\"], "
                            "\\\"values\\\": [2.5], \\\"description\\\": \\\"b5\\\"}]\"");
    assert_int_equal(loupe_study_set_system_attr(f->one, "dashboard:objective_form_widgets", v0),
                     LOUPE_OK);
    char *json;
    assert_int_equal(loupe_form_widgets_json(f->one, &json), LOUPE_OK);
    assert_string_equal(json, "{\"output_type\": \"objective\", \"widgets\": [{\"type\": \"choice\", "
                              "\"choices\": [\"y\"], \"values\": [2.5], \"description\": \"b5\"}]}");
    loupe_free(json);
    loupe_form_widgets *fw;
    assert_int_equal(loupe_form_widgets_get(f->one, &fw), LOUPE_OK);
    assert_int_equal(fw->widgets[0].type, LOUPE_WIDGET_CHOICE);
    assert_true(fw->widgets[0].values[0] == 2.5);
    assert_string_equal(fw->widgets[0].description, "b5");
    loupe_form_widgets_free(fw);
    /* v0.9.0: a list; preferred over the older key. */
    assert_int_equal(loupe_study_set_system_attr(f->one, "dashboard:objective_form_widgets:v1", list),
                     LOUPE_OK);
    assert_int_equal(loupe_form_widgets_get(f->one, &fw), LOUPE_OK);
    assert_int_equal(fw->output_type, LOUPE_FORM_OBJECTIVE);
    assert_int_equal(fw->widgets[0].type, LOUPE_WIDGET_SLIDER);
    assert_string_equal(fw->widgets[0].description, "old");
    assert_null(fw->widgets[0].user_attr_key);
    loupe_form_widgets_free(fw);
    /* v2 wins over both. */
    loupe_form_widget t = {0};
    t.type = LOUPE_WIDGET_TEXT;
    assert_int_equal(loupe_register_objective_form_widgets(f->one, 1, &t), LOUPE_OK);
    assert_int_equal(loupe_form_widgets_get(f->one, &fw), LOUPE_OK);
    assert_int_equal(fw->widgets[0].type, LOUPE_WIDGET_TEXT);
    loupe_form_widgets_free(fw);

    /* Damaged definitions are reported. */
    assert_int_equal(loupe_study_set_system_attr(f->four, "dashboard:form_widgets:v2", "[1, 2]"),
                     LOUPE_OK);
    assert_int_equal(loupe_form_widgets_get(f->four, &fw), LOUPE_ECORRUPT);
    assert_non_null(strstr(loupe_study_errmsg(f->four), "dashboard:form_widgets:v2"));
    assert_int_equal(loupe_study_set_system_attr(
                         f->four, "dashboard:form_widgets:v2",
                         "{\"output_type\": \"objective\", \"widgets\": [{\"type\": \"dial\"}]}"),
                     LOUPE_OK);
    assert_int_equal(loupe_form_widgets_get(f->four, &fw), LOUPE_ECORRUPT);
    assert_non_null(strstr(loupe_study_errmsg(f->four), "unknown widget type"));
}

static void test_metric_names(void **state) {
    fixture *f = *state;
    char *names;
    assert_int_equal(loupe_study_metric_names(f->one, &names), LOUPE_OK);
    assert_null(names);
    /* The legacy key optuna-dashboard's browser reader uses. */
    assert_int_equal(
        loupe_study_set_system_attr(f->one, "dashboard:objective_names", "[\"Looks good?\"]"),
        LOUPE_OK);
    assert_int_equal(loupe_study_metric_names(f->one, &names), LOUPE_OK);
    assert_string_equal(names, "[\"Looks good?\"]");
    loupe_free(names);
    /* study:metric_names is preferred. */
    const char *n[] = {"score \xf0\x9f\x91\x8d"};
    assert_int_equal(loupe_study_set_metric_names(f->one, 1, n), LOUPE_OK);
    assert_int_equal(loupe_study_metric_names(f->one, &names), LOUPE_OK);
    assert_string_equal(names, "[\"score \\ud83d\\udc4d\"]");
    loupe_free(names);
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_setup_teardown(fn, setup_memory, teardown),                                   \
        cmocka_unit_test_setup_teardown(fn, setup_sqlite, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        BOTH(test_tutorial_choice),  BOTH(test_all_types),   BOTH(test_user_attr_form),
        BOTH(test_objective_errors), BOTH(test_legacy_keys), BOTH(test_metric_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
