/*
 * form_widget.c -- optuna-dashboard's form widgets (ChoiceWidget, SliderWidget,
 * TextInputWidget, ObjectiveUserAttrRef): the checks of
 * register_objective_form_widgets / register_user_attr_form_widgets, the JSON
 * that to_dict() produces (same key order, stored under the study system attr
 * "dashboard:form_widgets:v2"), and reading it back, including the two legacy
 * keys older dashboards wrote.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hitl/hitl.h"
#include "util/buf.h"
#include "util/pyjson.h"

#define KEY_V2 "dashboard:form_widgets:v2"
#define KEY_V1 "dashboard:objective_form_widgets:v1" /* a list (v0.9.0, v0.9.0b6) */
#define KEY_V0 "dashboard:objective_form_widgets"    /* a JSON string of the list (v0.9.0b5) */

static const char *type_name(loupe_form_widget_type t) {
    switch (t) {
    case LOUPE_WIDGET_CHOICE: return "ChoiceWidget";
    case LOUPE_WIDGET_SLIDER: return "SliderWidget";
    case LOUPE_WIDGET_TEXT: return "TextInputWidget";
    case LOUPE_WIDGET_USER_ATTR_REF: return "ObjectiveUserAttrRef";
    default: return "unknown widget";
    }
}

/* ---------------------------------------------------------------- writing */

/* Integral numbers as ints (Python writes values=[-1, 0, 1] so), others as floats. */
static void put_number(loupe__buf *b, double v) {
    if (v == floor(v) && fabs(v) <= 9007199254740992.0) loupe__buf_printf(b, "%lld", (long long)v);
    else loupe__pyjson_double(b, v);
}

static void put_str_or_null(loupe__buf *b, const char *s) {
    if (s) loupe__pyjson_string(b, s, strlen(s));
    else loupe__buf_puts(b, "null");
}

static void put_widget(loupe__buf *b, const loupe_form_widget *w) {
    switch (w->type) {
    case LOUPE_WIDGET_CHOICE:
        loupe__buf_puts(b, "{\"type\": \"choice\", \"description\": ");
        put_str_or_null(b, w->description);
        loupe__buf_puts(b, ", \"choices\": [");
        for (size_t i = 0; i < w->n_choices; i++) {
            if (i) loupe__buf_puts(b, ", ");
            loupe__pyjson_string(b, w->choices[i], strlen(w->choices[i]));
        }
        loupe__buf_puts(b, "], \"values\": [");
        for (size_t i = 0; i < w->n_choices; i++) {
            if (i) loupe__buf_puts(b, ", ");
            put_number(b, w->values[i]);
        }
        loupe__buf_puts(b, "], \"user_attr_key\": ");
        put_str_or_null(b, w->user_attr_key);
        loupe__buf_putc(b, '}');
        break;
    case LOUPE_WIDGET_SLIDER:
        loupe__buf_puts(b, "{\"type\": \"slider\", \"description\": ");
        put_str_or_null(b, w->description);
        loupe__buf_puts(b, ", \"min\": ");
        put_number(b, w->min);
        loupe__buf_puts(b, ", \"max\": ");
        put_number(b, w->max);
        loupe__buf_puts(b, ", \"step\": ");
        if (w->has_step) put_number(b, w->step);
        else loupe__buf_puts(b, "null");
        loupe__buf_puts(b, ", \"labels\": ");
        if (w->labels) {
            loupe__buf_putc(b, '[');
            for (size_t i = 0; i < w->n_labels; i++) {
                if (i) loupe__buf_puts(b, ", ");
                loupe__buf_puts(b, "{\"value\": ");
                put_number(b, w->labels[i].value);
                loupe__buf_puts(b, ", \"label\": ");
                loupe__pyjson_string(b, w->labels[i].label, strlen(w->labels[i].label));
                loupe__buf_putc(b, '}');
            }
            loupe__buf_putc(b, ']');
        } else {
            loupe__buf_puts(b, "null");
        }
        loupe__buf_puts(b, ", \"user_attr_key\": ");
        put_str_or_null(b, w->user_attr_key);
        loupe__buf_putc(b, '}');
        break;
    case LOUPE_WIDGET_TEXT:
        loupe__buf_puts(b, "{\"type\": \"text\", \"description\": ");
        put_str_or_null(b, w->description);
        loupe__buf_puts(b, ", \"user_attr_key\": ");
        put_str_or_null(b, w->user_attr_key);
        loupe__buf_puts(b, w->optional ? ", \"optional\": true}" : ", \"optional\": false}");
        break;
    case LOUPE_WIDGET_USER_ATTR_REF:
        loupe__buf_puts(b, "{\"type\": \"user_attr\", \"key\": ");
        loupe__pyjson_string(b, w->key, strlen(w->key));
        loupe__buf_putc(b, '}');
        break;
    }
}

/* Structural checks (beyond upstream's, which a C struct can violate). */
static int check_widget(loupe_study *study, size_t i, const loupe_form_widget *w) {
    const char *tn = type_name(w->type);
    switch (w->type) {
    case LOUPE_WIDGET_CHOICE:
        if (w->n_choices == 0 || !w->choices || !w->values)
            return loupe__hitl_error(study, LOUPE_EINVAL,
                                     "widget %zu (%s) needs at least one choice: set n_choices, "
                                     "choices and values (one value per choice)",
                                     i, tn);
        for (size_t k = 0; k < w->n_choices; k++) {
            if (!w->choices[k])
                return loupe__hitl_error(study, LOUPE_EINVAL, "widget %zu (%s): choice %zu is NULL",
                                         i, tn, k);
            if (!isfinite(w->values[k]))
                return loupe__hitl_error(study, LOUPE_EINVAL,
                                         "widget %zu (%s): value %zu is not finite (browsers "
                                         "cannot read NaN or Infinity): use a finite number",
                                         i, tn, k);
        }
        break;
    case LOUPE_WIDGET_SLIDER:
        if (!isfinite(w->min) || !isfinite(w->max) || w->min > w->max)
            return loupe__hitl_error(study, LOUPE_EINVAL,
                                     "widget %zu (%s): min and max must be finite with min <= max "
                                     "(got %g and %g)",
                                     i, tn, w->min, w->max);
        if (w->has_step && !(isfinite(w->step) && w->step > 0))
            return loupe__hitl_error(study, LOUPE_EINVAL,
                                     "widget %zu (%s): step must be a positive number (got %g), "
                                     "or set has_step 0 for the default",
                                     i, tn, w->step);
        if (w->n_labels && !w->labels)
            return loupe__hitl_error(study, LOUPE_EINVAL,
                                     "widget %zu (%s): labels is NULL but n_labels is %zu", i, tn,
                                     w->n_labels);
        for (size_t k = 0; w->labels && k < w->n_labels; k++)
            if (!w->labels[k].label || !isfinite(w->labels[k].value))
                return loupe__hitl_error(study, LOUPE_EINVAL,
                                         "widget %zu (%s): label %zu needs a finite value and a "
                                         "non-NULL text",
                                         i, tn, k);
        break;
    case LOUPE_WIDGET_TEXT: break;
    case LOUPE_WIDGET_USER_ATTR_REF:
        if (!w->key)
            return loupe__hitl_error(study, LOUPE_EINVAL,
                                     "widget %zu (%s) needs key: the trial user attr that holds "
                                     "the objective value",
                                     i, tn);
        break;
    default:
        return loupe__hitl_error(study, LOUPE_EINVAL,
                                 "widget %zu has an unknown type %d: use a LOUPE_WIDGET_* value", i,
                                 (int)w->type);
    }
    return LOUPE_OK;
}

static int store(loupe_study *study, loupe_form_output_type ot, size_t n,
                 const loupe_form_widget *widgets) {
    for (size_t i = 0; i < n; i++) {
        int rc = check_widget(study, i, &widgets[i]);
        if (rc) return rc;
    }
    loupe__buf b;
    loupe__buf_init(&b, 0);
    loupe__buf_puts(&b, ot == LOUPE_FORM_OBJECTIVE ? "{\"output_type\": \"objective\", \"widgets\": ["
                                                   : "{\"output_type\": \"user_attr\", \"widgets\": [");
    for (size_t i = 0; i < n; i++) {
        if (i) loupe__buf_puts(&b, ", ");
        put_widget(&b, &widgets[i]);
    }
    loupe__buf_puts(&b, "]}");
    if (b.failed) {
        loupe__buf_free(&b);
        return loupe__hitl_error(study, LOUPE_ENOMEM, "out of memory");
    }
    int rc = loupe_study_set_system_attr(study, KEY_V2, b.data);
    loupe__buf_free(&b);
    return rc;
}

int loupe_register_objective_form_widgets(loupe_study *study, size_t n,
                                          const loupe_form_widget *widgets) {
    if (!study) return LOUPE_EINVAL;
    loupe__hitl_clear(study);
    size_t n_obj = loupe_study_n_objectives(study);
    if (n != n_obj || (n && !widgets))
        return loupe__hitl_error(study, LOUPE_EINVAL,
                                 "The length of actions must be the same with the number of "
                                 "objectives. (got %zu widgets for %zu objectives: pass one widget "
                                 "per objective)",
                                 n, n_obj);
    /* Upstream only warns about a user_attr_key here (it is stored, unused). */
    for (size_t i = 0; i < n; i++)
        if (widgets[i].type == LOUPE_WIDGET_TEXT && widgets[i].optional)
            return loupe__hitl_error(study, LOUPE_EINVAL,
                                     "TextInputWidget.optional must be False. (widget %zu: an "
                                     "objective value cannot be left empty)",
                                     i);
    return store(study, LOUPE_FORM_OBJECTIVE, n, widgets);
}

int loupe_register_user_attr_form_widgets(loupe_study *study, size_t n,
                                          const loupe_form_widget *widgets) {
    if (!study) return LOUPE_EINVAL;
    loupe__hitl_clear(study);
    if (n && !widgets)
        return loupe__hitl_error(study, LOUPE_EINVAL, "widgets is NULL but n is %zu", n);
    for (size_t i = 0; i < n; i++) {
        if (widgets[i].type == LOUPE_WIDGET_USER_ATTR_REF)
            return loupe__hitl_error(study, LOUPE_EINVAL,
                                     "ObjectiveUserAttrRef can't be specified. (widget %zu: a "
                                     "user-attr form writes user attrs, it cannot read one)",
                                     i);
        if (!widgets[i].user_attr_key)
            return loupe__hitl_error(study, LOUPE_EINVAL,
                                     "`user_attr_key` is not specified. (widget %zu: set the user "
                                     "attr key its value is saved under)",
                                     i);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(widgets[i].user_attr_key, widgets[j].user_attr_key) == 0)
                return loupe__hitl_error(study, LOUPE_EINVAL,
                                         "`user_attr_key` must be unique for each widget. "
                                         "(widgets %zu and %zu both use '%s')",
                                         j, i, widgets[i].user_attr_key);
    return store(study, LOUPE_FORM_USER_ATTR, n, widgets);
}

/* ---------------------------------------------------------------- reading */

/* The widgets and every string and array they point to, in one owner. */
typedef struct owned_widgets {
    loupe_form_widgets pub;
    loupe_form_widget *w;
} owned_widgets;

static void widget_free(loupe_form_widget *w) {
    free((char *)w->description);
    free((char *)w->user_attr_key);
    free((char *)w->key);
    for (size_t k = 0; w->choices && k < w->n_choices; k++) free((char *)w->choices[k]);
    free((void *)w->choices);
    free((void *)w->values);
    for (size_t k = 0; w->labels && k < w->n_labels; k++) free((char *)w->labels[k].label);
    free((void *)w->labels);
}

void loupe_form_widgets_free(loupe_form_widgets *widgets) {
    if (!widgets) return;
    owned_widgets *o = (owned_widgets *)widgets;
    for (size_t i = 0; i < o->pub.n_widgets; i++) widget_free(&o->w[i]);
    free(o->w);
    free(o);
}

/* A string or null (NULL); -1 for another type, -2 out of memory. */
static int opt_str(yyjson_val *v, const char **out) {
    *out = NULL;
    if (!v || yyjson_is_null(v)) return 0;
    if (!yyjson_is_str(v)) return -1;
    *out = strndup(yyjson_get_str(v), yyjson_get_len(v));
    return *out ? 0 : -2;
}

static int num(yyjson_val *v, double *out) {
    if (!yyjson_is_num(v)) return -1;
    *out = yyjson_get_num(v);
    return 0;
}

/* Parses one widget dict as dict_to_form_widget does. Returns 0, -1 (bad: why
 * set) or -2 (out of memory). */
static int parse_widget(yyjson_val *d, loupe_form_widget *w, const char **why) {
    memset(w, 0, sizeof *w);
    *why = "not an object";
    if (!yyjson_is_obj(d)) return -1;
    const char *type = yyjson_get_str(yyjson_obj_get(d, "type"));
    *why = "unknown widget type";
    if (!type) return -1;
    int r;
    if (strcmp(type, "choice") == 0) {
        w->type = LOUPE_WIDGET_CHOICE;
        yyjson_val *ch = yyjson_obj_get(d, "choices"), *va = yyjson_obj_get(d, "values");
        *why = "choice widget needs arrays choices and values of the same length";
        if (!yyjson_is_arr(ch) || !yyjson_is_arr(va) || yyjson_arr_size(ch) != yyjson_arr_size(va))
            return -1;
        size_t n = yyjson_arr_size(ch);
        const char **choices = calloc(n ? n : 1, sizeof *choices);
        double *values = calloc(n ? n : 1, sizeof *values);
        w->choices = choices;
        w->values = values;
        if (!choices || !values) return -2;
        w->n_choices = n;
        for (size_t k = 0; k < n; k++) {
            *why = "choices must be strings and values numbers";
            if (num(yyjson_arr_get(va, k), &values[k]) != 0) return -1;
            r = opt_str(yyjson_arr_get(ch, k), &choices[k]);
            if (r == -2) return -2;
            if (r || !choices[k]) return -1;
        }
    } else if (strcmp(type, "slider") == 0) {
        w->type = LOUPE_WIDGET_SLIDER;
        *why = "slider widget needs numbers min and max";
        if (num(yyjson_obj_get(d, "min"), &w->min) || num(yyjson_obj_get(d, "max"), &w->max))
            return -1;
        yyjson_val *st = yyjson_obj_get(d, "step");
        if (st && !yyjson_is_null(st)) {
            *why = "slider step must be a number or null";
            if (num(st, &w->step)) return -1;
            w->has_step = 1;
        }
        yyjson_val *lb = yyjson_obj_get(d, "labels");
        if (lb && !yyjson_is_null(lb)) {
            *why = "slider labels must be a list of {\"value\": number, \"label\": string}";
            if (!yyjson_is_arr(lb)) return -1;
            size_t n = yyjson_arr_size(lb);
            loupe_slider_label *labels = calloc(n ? n : 1, sizeof *labels);
            w->labels = labels;
            if (!labels) return -2;
            w->n_labels = n;
            for (size_t k = 0; k < n; k++) {
                yyjson_val *e = yyjson_arr_get(lb, k);
                if (!yyjson_is_obj(e) || num(yyjson_obj_get(e, "value"), &labels[k].value))
                    return -1;
                r = opt_str(yyjson_obj_get(e, "label"), &labels[k].label);
                if (r == -2) return -2;
                if (r || !labels[k].label) return -1;
            }
        }
    } else if (strcmp(type, "text") == 0) {
        w->type = LOUPE_WIDGET_TEXT;
        yyjson_val *op = yyjson_obj_get(d, "optional");
        *why = "text widget's optional must be a bool";
        if (op && !yyjson_is_bool(op)) return -1;
        w->optional = op ? yyjson_get_bool(op) : 0;
    } else if (strcmp(type, "user_attr") == 0) {
        w->type = LOUPE_WIDGET_USER_ATTR_REF;
        *why = "user_attr reference needs a string key";
        r = opt_str(yyjson_obj_get(d, "key"), &w->key);
        if (r == -2) return -2;
        if (r || !w->key) return -1;
        return 0;
    } else {
        return -1;
    }
    *why = "description and user_attr_key must be strings or null";
    r = opt_str(yyjson_obj_get(d, "description"), &w->description);
    if (r) return r;
    r = opt_str(yyjson_obj_get(d, "user_attr_key"), &w->user_attr_key);
    return r;
}

/*
 * Finds the stored form definition and returns it as a parsed document whose
 * root is {"output_type", "widgets"} (built for the legacy keys, as
 * get_form_widgets_json does). *doc NULL when none. *src names the key.
 */
static int load_form(loupe_study *study, yyjson_doc **doc, yyjson_mut_doc **mdoc,
                     const char **src) {
    *doc = NULL;
    *mdoc = NULL;
    *src = NULL;
    const loupe_attr *attrs;
    size_t n;
    int rc = loupe_study_system_attrs(study, &attrs, &n);
    if (rc) return rc;
    const char *json;
    if ((json = loupe__attr_find(attrs, n, KEY_V2))) {
        *src = KEY_V2;
        *doc = loupe__pyjson_parse(json, strlen(json), NULL, 0);
        yyjson_val *root = *doc ? yyjson_doc_get_root(*doc) : NULL;
        if (!yyjson_is_obj(root) || !yyjson_is_arr(yyjson_obj_get(root, "widgets")) ||
            !yyjson_is_str(yyjson_obj_get(root, "output_type")))
            goto corrupt;
        return LOUPE_OK;
    }
    yyjson_doc *list = NULL;
    if ((json = loupe__attr_find(attrs, n, KEY_V1))) {
        *src = KEY_V1;
        list = loupe__pyjson_parse(json, strlen(json), NULL, 0);
    } else if ((json = loupe__attr_find(attrs, n, KEY_V0))) {
        *src = KEY_V0;
        yyjson_doc *outer = loupe__pyjson_parse(json, strlen(json), NULL, 0);
        yyjson_val *s = outer ? yyjson_doc_get_root(outer) : NULL;
        if (yyjson_is_str(s)) list = loupe__pyjson_parse(yyjson_get_str(s), yyjson_get_len(s), NULL, 0);
        yyjson_doc_free(outer);
    } else {
        return LOUPE_OK;
    }
    if (!list || !yyjson_is_arr(yyjson_doc_get_root(list))) {
        yyjson_doc_free(list);
        goto corrupt;
    }
    /* {"output_type": "objective", "widgets": <list>} */
    yyjson_mut_doc *m = yyjson_mut_doc_new(NULL);
    yyjson_mut_val *root = m ? yyjson_mut_obj(m) : NULL;
    yyjson_mut_val *copy = root ? yyjson_val_mut_copy(m, yyjson_doc_get_root(list)) : NULL;
    yyjson_doc_free(list);
    if (!copy || !yyjson_mut_obj_add_str(m, root, "output_type", "objective") ||
        !yyjson_mut_obj_add_val(m, root, "widgets", copy)) {
        yyjson_mut_doc_free(m);
        return loupe__hitl_error(study, LOUPE_ENOMEM, "out of memory");
    }
    yyjson_mut_doc_set_root(m, root);
    *mdoc = m;
    return LOUPE_OK;
corrupt:
    yyjson_doc_free(*doc);
    *doc = NULL;
    return loupe__hitl_error(study, LOUPE_ECORRUPT,
                             "study '%s': system attr '%s' is not a form definition "
                             "({\"output_type\": ..., \"widgets\": [...]}): register the widgets "
                             "again",
                             loupe_study_name(study), *src);
}

int loupe_form_widgets_json(loupe_study *study, char **json) {
    if (!study || !json) return LOUPE_EINVAL;
    *json = NULL;
    loupe__hitl_clear(study);
    yyjson_doc *doc;
    yyjson_mut_doc *mdoc;
    const char *src;
    int rc = load_form(study, &doc, &mdoc, &src);
    if (rc || (!doc && !mdoc)) return rc;
    loupe__buf b;
    loupe__buf_init(&b, 0);
    /* a converted legacy form is mutable: write it through an immutable copy */
    yyjson_doc *copy = doc ? NULL : yyjson_mut_doc_imut_copy(mdoc, NULL);
    if (doc || copy) loupe__pyjson_value(&b, yyjson_doc_get_root(doc ? doc : copy));
    else b.failed = 1;
    yyjson_doc_free(copy);
    yyjson_doc_free(doc);
    yyjson_mut_doc_free(mdoc);
    *json = loupe__buf_steal(&b);
    return *json ? LOUPE_OK : loupe__hitl_error(study, LOUPE_ENOMEM, "out of memory");
}

int loupe_form_widgets_get(loupe_study *study, loupe_form_widgets **out) {
    if (!study || !out) return LOUPE_EINVAL;
    *out = NULL;
    char *json = NULL;
    int rc = loupe_form_widgets_json(study, &json);
    if (rc || !json) return rc;
    owned_widgets *o = NULL;
    yyjson_doc *doc = loupe__pyjson_parse(json, strlen(json), NULL, 0);
    yyjson_val *root = doc ? yyjson_doc_get_root(doc) : NULL;
    if (!root) {
        rc = loupe__hitl_error(study, LOUPE_ENOMEM, "out of memory");
        goto cleanup;
    }
    const char *ot = yyjson_get_str(yyjson_obj_get(root, "output_type"));
    yyjson_val *ws = yyjson_obj_get(root, "widgets");
    o = calloc(1, sizeof *o);
    size_t n = yyjson_arr_size(ws);
    if (o) o->w = calloc(n ? n : 1, sizeof *o->w);
    if (!o || !o->w) {
        rc = loupe__hitl_error(study, LOUPE_ENOMEM, "out of memory");
        goto cleanup;
    }
    o->pub.widgets = o->w;
    if (strcmp(ot, "objective") == 0) o->pub.output_type = LOUPE_FORM_OBJECTIVE;
    else if (strcmp(ot, "user_attr") == 0) o->pub.output_type = LOUPE_FORM_USER_ATTR;
    else {
        rc = loupe__hitl_error(study, LOUPE_ECORRUPT,
                               "study '%s': form widgets have an unknown output_type '%.40s' "
                               "(expected \"objective\" or \"user_attr\"): register them again",
                               loupe_study_name(study), ot);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        const char *why = "";
        int r = parse_widget(yyjson_arr_get(ws, i), &o->w[i], &why);
        o->pub.n_widgets = i + 1; /* so that free releases this one too */
        if (r == -2) {
            rc = loupe__hitl_error(study, LOUPE_ENOMEM, "out of memory");
            goto cleanup;
        }
        if (r) {
            rc = loupe__hitl_error(study, LOUPE_ECORRUPT,
                                   "study '%s': form widget %zu is not valid (%s): register the "
                                   "widgets again",
                                   loupe_study_name(study), i, why);
            goto cleanup;
        }
    }
    *out = &o->pub;
    o = NULL;
    rc = LOUPE_OK;
cleanup:
    if (o) loupe_form_widgets_free(&o->pub);
    yyjson_doc_free(doc);
    free(json);
    return rc;
}
