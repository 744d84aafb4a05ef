/*
 * generate_config.c -- reads the configuration file of `loupe generate` (JSON,
 * format in docs/generate.md): study settings, the search space, the form
 * widgets (optuna-dashboard's widget JSON), the command template, and checks
 * every setting up front, so a mistake is reported before any trial exists.
 * Also the {placeholder} expansion and the text of param values.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "generate.h"
#include "util/pyjson.h"

/* Placeholders every template may use besides the param names. */
static const char *const builtin_names[] = {"output", "output_dir", "number", "trial_id", "study_name",
                                            "params_json", NULL};
/* Extra placeholders of the note template. */
static const char *const note_names[] = {"artifacts", "params", NULL};

static const char *const known_keys[] = {
    "study_name", "storage", "artifact_dir", "workdir", "direction", "directions", "metric_names", "sampler",
    "batch_size", "parallel", "timeout", "max_consecutive_failures", "params", "form", "command", "output",
    "note", NULL};

/* ---------------------------------------------------------------- small helpers */

static int fail(char *err, size_t errcap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errcap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
    return -1;
}

/* Records an allocation that gen_config_free releases; NULL stays NULL. */
static void *own(gen_config *cfg, void *p) {
    if (!p) return NULL;
    if (cfg->n_owned == cfg->cap_owned) {
        cfg->cap_owned = cfg->cap_owned ? 2 * cfg->cap_owned : 16;
        cfg->owned = cli_xrealloc(cfg->owned, cfg->cap_owned * sizeof *cfg->owned);
    }
    cfg->owned[cfg->n_owned++] = p;
    return p;
}

static const char *json_type_name(yyjson_val *v) {
    if (!v) return "missing";
    switch (yyjson_get_type(v)) {
    case YYJSON_TYPE_NULL: return "null";
    case YYJSON_TYPE_BOOL: return "a boolean";
    case YYJSON_TYPE_NUM: return "a number";
    case YYJSON_TYPE_STR: return "a string";
    case YYJSON_TYPE_ARR: return "a list";
    case YYJSON_TYPE_OBJ: return "an object";
    default: return "a raw value";
    }
}

static int get_number(yyjson_val *v, double *out) {
    if (yyjson_is_num(v)) {
        *out = yyjson_get_num(v);
        return 0;
    }
    return -1;
}

/* A string setting; NULL when absent. Errors for another type. */
static int opt_string(const gen_config *cfg, yyjson_val *obj, const char *key, const char **out, char *err,
                      size_t errcap) {
    yyjson_val *v = yyjson_obj_get(obj, key);
    *out = NULL;
    if (!v || yyjson_is_null(v)) return 0;
    if (!yyjson_is_str(v) || !*yyjson_get_str(v))
        return fail(err, errcap, "%s: \"%s\" must be a non-empty string, not %s", cfg->path, key,
                    yyjson_is_str(v) ? "an empty string" : json_type_name(v));
    if (strlen(yyjson_get_str(v)) != yyjson_get_len(v))
        return fail(err, errcap, "%s: \"%s\" contains a NUL character", cfg->path, key);
    *out = yyjson_get_str(v);
    return 0;
}

/* An integer setting within [lo, hi]; def when absent. */
static int opt_long(const gen_config *cfg, yyjson_val *obj, const char *key, long lo, long hi, long def, long *out,
                    char *err, size_t errcap) {
    yyjson_val *v = yyjson_obj_get(obj, key);
    *out = def;
    if (!v || yyjson_is_null(v)) return 0;
    double d;
    if (get_number(v, &d) || d != floor(d) || d < (double)lo || d > (double)hi)
        return fail(err, errcap, "%s: \"%s\" must be an integer from %ld to %ld, not %s", cfg->path, key, lo, hi,
                    yyjson_is_num(v) ? "that number" : json_type_name(v));
    *out = (long)d;
    return 0;
}

static int opt_bool(const gen_config *cfg, yyjson_val *obj, const char *key, int def, int *out, char *err,
                    size_t errcap) {
    yyjson_val *v = yyjson_obj_get(obj, key);
    *out = def;
    if (!v || yyjson_is_null(v)) return 0;
    if (!yyjson_is_bool(v))
        return fail(err, errcap, "%s: \"%s\" must be true or false, not %s", cfg->path, key, json_type_name(v));
    *out = yyjson_get_bool(v);
    return 0;
}

/* ---------------------------------------------------------------- templates */

int gen_expand(const char *tmpl, gen_lookup_fn lookup, void *ctx, loupe__buf *out, char *err, size_t errcap) {
    for (const char *p = tmpl; *p;) {
        if (p[0] == '{' && p[1] == '{') {
            loupe__buf_putc(out, '{');
            p += 2;
        } else if (p[0] == '}' && p[1] == '}') {
            loupe__buf_putc(out, '}');
            p += 2;
        } else if (p[0] == '}') {
            return fail(err, errcap, "a lone '}' in \"%s\" (write }} for a literal brace)", tmpl);
        } else if (p[0] == '{') {
            const char *close = strchr(p + 1, '}');
            const char *open2 = strchr(p + 1, '{');
            if (!close || (open2 && open2 < close))
                return fail(err, errcap, "an unclosed '{' in \"%s\" (write {name}, or {{ for a literal brace)", tmpl);
            char name[256];
            size_t len = (size_t)(close - p - 1);
            if (len == 0 || len >= sizeof name)
                return fail(err, errcap, "an empty or too long placeholder in \"%s\"", tmpl);
            memcpy(name, p + 1, len);
            name[len] = '\0';
            const char *v = lookup(ctx, name);
            if (!v) return fail(err, errcap, "unknown placeholder {%s} in \"%s\"", name, tmpl);
            loupe__buf_puts(out, v);
            p = close + 1;
        } else {
            const char *q = p;
            while (*q && *q != '{' && *q != '}') q++;
            loupe__buf_append(out, p, (size_t)(q - p));
            p = q;
        }
    }
    return 0;
}

void gen_param_text(const loupe_param *param, loupe__buf *out) {
    if (param->dist.kind == LOUPE_DIST_INT) {
        loupe__buf_printf(out, "%lld", (long long)param->internal);
        return;
    }
    if (param->dist.kind == LOUPE_DIST_FLOAT) {
        loupe__pyjson_double(out, param->internal);
        return;
    }
    size_t i = (size_t)param->internal;
    const char *json = i < param->dist.n_choices ? param->dist.choices[i] : "null";
    yyjson_doc *doc = json[0] == '"' ? yyjson_read(json, strlen(json), 0) : NULL;
    if (doc && yyjson_is_str(yyjson_doc_get_root(doc)))
        loupe__buf_puts(out, yyjson_get_str(yyjson_doc_get_root(doc)));
    else
        loupe__buf_puts(out, json);
    yyjson_doc_free(doc);
}

/* Lookup used to check templates: known names expand to "". */
typedef struct check_ctx {
    const gen_config *cfg;
    int note;
} check_ctx;

static int in_list(const char *const *list, const char *name) {
    for (; *list; list++)
        if (strcmp(*list, name) == 0) return 1;
    return 0;
}

static const char *check_lookup(void *vctx, const char *name) {
    const check_ctx *c = vctx;
    if (in_list(builtin_names, name)) return "";
    if (c->note && in_list(note_names, name)) return "";
    for (size_t i = 0; i < c->cfg->n_params; i++)
        if (strcmp(c->cfg->params[i].name, name) == 0) return "";
    return NULL;
}

static int check_template(const gen_config *cfg, const char *what, const char *tmpl, int note, char *err,
                          size_t errcap) {
    check_ctx c = {cfg, note};
    loupe__buf tmp = {0};
    char msg[512];
    int rc = gen_expand(tmpl, check_lookup, &c, &tmp, msg, sizeof msg);
    loupe__buf_free(&tmp);
    if (rc == 0) return 0;
    loupe__buf names = {0};
    for (size_t i = 0; i < cfg->n_params; i++) loupe__buf_printf(&names, "{%s} ", cfg->params[i].name);
    for (const char *const *b = builtin_names; *b; b++) loupe__buf_printf(&names, "{%s} ", *b);
    if (note)
        for (const char *const *b = note_names; *b; b++) loupe__buf_printf(&names, "{%s} ", *b);
    fail(err, errcap, "%s: %s: %s. Known placeholders: %s", cfg->path, what, msg, names.data ? names.data : "");
    loupe__buf_free(&names);
    return -1;
}

/* Splits a command string into words the way a shell splits plain words, but
 * without any expansion: blanks separate words, '...' is literal, "..." keeps
 * blanks (backslash escapes \" \\ \$ \`), a backslash outside quotes escapes
 * the next character. */
static int split_command(gen_config *cfg, const char *s, char *err, size_t errcap) {
    size_t cap = 8;
    cfg->command = own(cfg, cli_xmalloc(cap * sizeof *cfg->command));
    cfg->n_command = 0;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        loupe__buf w = {0};
        loupe__buf_append(&w, "", 0);
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
            if (*p == '\'') {
                const char *q = strchr(p + 1, '\'');
                if (!q) {
                    loupe__buf_free(&w);
                    return fail(err, errcap, "%s: \"command\": an unclosed ' in \"%s\"", cfg->path, s);
                }
                loupe__buf_append(&w, p + 1, (size_t)(q - p - 1));
                p = q + 1;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && p[1] && strchr("\"\\$`", p[1])) p++;
                    loupe__buf_putc(&w, *p++);
                }
                if (!*p) {
                    loupe__buf_free(&w);
                    return fail(err, errcap, "%s: \"command\": an unclosed \" in \"%s\"", cfg->path, s);
                }
                p++;
            } else if (*p == '\\' && p[1]) {
                loupe__buf_putc(&w, p[1]);
                p += 2;
            } else {
                loupe__buf_putc(&w, *p++);
            }
        }
        if (cfg->n_command + 1 >= cap) {
            cap *= 2;
            /* the old array is owned; grow into a new owned array */
            const char **bigger = own(cfg, cli_xmalloc(cap * sizeof *bigger));
            memcpy(bigger, cfg->command, cfg->n_command * sizeof *bigger);
            cfg->command = bigger;
        }
        cfg->command[cfg->n_command++] = own(cfg, loupe__buf_steal(&w));
    }
    cfg->command[cfg->n_command] = NULL;
    return 0;
}

/* ---------------------------------------------------------------- params */

static const char *reserved_name(const char *name) {
    if (in_list(builtin_names, name) || in_list(note_names, name)) return name;
    return NULL;
}

/* Reads one categorical choice into its Python-form JSON text. */
static int parse_choice(gen_config *cfg, const char *pname, yyjson_val *c, const char **out, char *err,
                        size_t errcap) {
    if (!(yyjson_is_str(c) || yyjson_is_num(c) || yyjson_is_bool(c) || yyjson_is_null(c)))
        return fail(err, errcap, "%s: param \"%s\": a choice must be a string, number, boolean or null, not %s",
                    cfg->path, pname, json_type_name(c));
    if (yyjson_is_str(c) && strlen(yyjson_get_str(c)) != yyjson_get_len(c))
        return fail(err, errcap, "%s: param \"%s\": a choice contains a NUL character, which cannot be passed "
                                 "to a command", cfg->path, pname);
    loupe__buf b = {0};
    loupe__pyjson_value(&b, c);
    *out = own(cfg, loupe__buf_steal(&b));
    return 0;
}

static int parse_param(gen_config *cfg, const char *name, yyjson_val *spec, gen_param *p, char *err,
                       size_t errcap) {
    p->name = name;
    if (!*name) return fail(err, errcap, "%s: a param has an empty name", cfg->path);
    if (reserved_name(name))
        return fail(err, errcap, "%s: the param name \"%s\" is reserved for a placeholder; rename the param",
                    cfg->path, name);
    if (!yyjson_is_obj(spec))
        return fail(err, errcap, "%s: param \"%s\" must be an object such as {\"type\": \"int\", \"low\": 0, "
                                 "\"high\": 255}, not %s", cfg->path, name, json_type_name(spec));
    /* Optuna's own distribution JSON is accepted too: {"name": ..., "attributes": {...}} */
    yyjson_val *attrs = spec;
    const char *type = NULL;
    yyjson_val *tv = yyjson_obj_get(spec, "type");
    yyjson_val *nv = yyjson_obj_get(spec, "name");
    if (yyjson_is_str(tv)) {
        type = yyjson_get_str(tv);
    } else if (yyjson_is_str(nv) && yyjson_is_obj(yyjson_obj_get(spec, "attributes"))) {
        type = yyjson_get_str(nv);
        attrs = yyjson_obj_get(spec, "attributes");
    } else {
        return fail(err, errcap, "%s: param \"%s\" needs a \"type\": \"int\", \"float\" or \"categorical\"",
                    cfg->path, name);
    }
    loupe_distribution *d = &p->dist;
    memset(d, 0, sizeof *d);
    if (!strcmp(type, "int") || !strcmp(type, "IntDistribution")) {
        d->kind = LOUPE_DIST_INT;
    } else if (!strcmp(type, "float") || !strcmp(type, "FloatDistribution")) {
        d->kind = LOUPE_DIST_FLOAT;
    } else if (!strcmp(type, "categorical") || !strcmp(type, "CategoricalDistribution")) {
        d->kind = LOUPE_DIST_CATEGORICAL;
    } else {
        return fail(err, errcap, "%s: param \"%s\": unknown type \"%s\" (use \"int\", \"float\" or \"categorical\")",
                    cfg->path, name, type);
    }
    yyjson_val *key;
    size_t idx, max;
    yyjson_val *val;
    yyjson_obj_foreach(attrs, idx, max, key, val) {
        const char *k = yyjson_get_str(key);
        int ok = !strcmp(k, "type") || !strcmp(k, "name") || (attrs != spec) ||
                 (d->kind == LOUPE_DIST_CATEGORICAL ? !strcmp(k, "choices")
                                                    : (!strcmp(k, "low") || !strcmp(k, "high") ||
                                                       !strcmp(k, "step") || !strcmp(k, "log")));
        if (!ok)
            return fail(err, errcap, "%s: param \"%s\": unknown setting \"%s\" for type %s", cfg->path, name, k,
                        type);
    }
    if (d->kind == LOUPE_DIST_CATEGORICAL) {
        yyjson_val *choices = yyjson_obj_get(attrs, "choices");
        if (!yyjson_is_arr(choices) || yyjson_arr_size(choices) == 0)
            return fail(err, errcap, "%s: param \"%s\": \"choices\" must be a non-empty list", cfg->path, name);
        size_t n = yyjson_arr_size(choices);
        const char **texts = own(cfg, cli_xmalloc(n * sizeof *texts));
        yyjson_val *c;
        yyjson_arr_foreach(choices, idx, max, c) {
            if (parse_choice(cfg, name, c, &texts[idx], err, errcap)) return -1;
        }
        d->n_choices = n;
        d->choices = texts;
        return 0;
    }
    yyjson_val *lo = yyjson_obj_get(attrs, "low"), *hi = yyjson_obj_get(attrs, "high");
    yyjson_val *st = yyjson_obj_get(attrs, "step"), *lg = yyjson_obj_get(attrs, "log");
    if (get_number(lo, &d->low) || get_number(hi, &d->high) || !isfinite(d->low) || !isfinite(d->high))
        return fail(err, errcap, "%s: param \"%s\": \"low\" and \"high\" must be finite numbers", cfg->path, name);
    if (d->low > d->high)
        return fail(err, errcap, "%s: param \"%s\": \"low\" (%g) must not be above \"high\" (%g)", cfg->path, name,
                    d->low, d->high);
    if (lg && !yyjson_is_null(lg) && !yyjson_is_bool(lg))
        return fail(err, errcap, "%s: param \"%s\": \"log\" must be true or false", cfg->path, name);
    d->log = yyjson_is_true(lg);
    int has_step = st && !yyjson_is_null(st);
    if (has_step && (get_number(st, &d->step) || !(d->step > 0) || !isfinite(d->step)))
        return fail(err, errcap, "%s: param \"%s\": \"step\" must be a positive number", cfg->path, name);
    if (d->kind == LOUPE_DIST_INT) {
        if (!has_step) d->step = 1;
        if (d->low != floor(d->low) || d->high != floor(d->high) || d->step != floor(d->step) ||
            fabs(d->low) > 9007199254740992.0 || fabs(d->high) > 9007199254740992.0)
            return fail(err, errcap, "%s: param \"%s\": an int param needs integer \"low\", \"high\" and \"step\"",
                        cfg->path, name);
        if (d->log && (d->step != 1 || d->low < 1))
            return fail(err, errcap, "%s: param \"%s\": \"log\": true needs \"low\" >= 1 and \"step\" 1", cfg->path,
                        name);
    } else {
        if (!has_step) d->step = 0;
        if (d->log && has_step)
            return fail(err, errcap, "%s: param \"%s\": \"log\" and \"step\" cannot be used together", cfg->path,
                        name);
        if (d->log && d->low <= 0)
            return fail(err, errcap, "%s: param \"%s\": \"log\": true needs \"low\" > 0", cfg->path, name);
    }
    return 0;
}

static int parse_params(gen_config *cfg, yyjson_val *v, char *err, size_t errcap) {
    size_t n = yyjson_is_obj(v) ? yyjson_obj_size(v) : yyjson_is_arr(v) ? yyjson_arr_size(v) : 0;
    if (!n)
        return fail(err, errcap, "%s: \"params\" must be a non-empty object such as {\"r\": {\"type\": \"int\", "
                                 "\"low\": 0, \"high\": 255}} (or a list of params with \"name\")", cfg->path);
    cfg->params = own(cfg, cli_xmalloc(n * sizeof *cfg->params));
    memset(cfg->params, 0, n * sizeof *cfg->params);
    size_t idx, max;
    if (yyjson_is_obj(v)) {
        yyjson_val *key, *val;
        yyjson_obj_foreach(v, idx, max, key, val) {
            if (parse_param(cfg, yyjson_get_str(key), val, &cfg->params[idx], err, errcap)) return -1;
            cfg->n_params++;
        }
    } else {
        yyjson_val *val;
        yyjson_arr_foreach(v, idx, max, val) {
            yyjson_val *nm = yyjson_obj_get(val, "name");
            if (!yyjson_is_str(nm) || yyjson_is_obj(yyjson_obj_get(val, "attributes")))
                return fail(err, errcap, "%s: param %zu of the \"params\" list needs a \"name\" (a string)",
                            cfg->path, idx);
            if (parse_param(cfg, yyjson_get_str(nm), val, &cfg->params[idx], err, errcap)) return -1;
            cfg->n_params++;
        }
    }
    for (size_t i = 0; i < cfg->n_params; i++) {
        gen_param *p = &cfg->params[i];
        loupe__buf e = {0};
        loupe__buf_puts(&e, "LOUPE_PARAM_");
        for (const char *c = p->name; *c; c++)
            loupe__buf_putc(&e, isalnum((unsigned char)*c) ? (char)toupper((unsigned char)*c) : '_');
        p->env_name = own(cfg, loupe__buf_steal(&e));
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(cfg->params[j].name, p->name))
                return fail(err, errcap, "%s: the param \"%s\" is defined twice", cfg->path, p->name);
            if (!strcmp(cfg->params[j].env_name, p->env_name))
                return fail(err, errcap, "%s: the params \"%s\" and \"%s\" would both be passed as $%s; rename one",
                            cfg->path, cfg->params[j].name, p->name, p->env_name);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- form widgets */

static int widget_string(const gen_config *cfg, size_t i, yyjson_val *w, const char *key, const char **out,
                         char *err, size_t errcap) {
    yyjson_val *v = yyjson_obj_get(w, key);
    *out = NULL;
    if (!v || yyjson_is_null(v)) return 0;
    if (!yyjson_is_str(v))
        return fail(err, errcap, "%s: widget %zu: \"%s\" must be a string or null, not %s", cfg->path, i, key,
                    json_type_name(v));
    *out = yyjson_get_str(v);
    return 0;
}

static int parse_widget(gen_config *cfg, size_t i, yyjson_val *w, loupe_form_widget *out, char *err,
                        size_t errcap) {
    memset(out, 0, sizeof *out);
    const char *type = yyjson_get_str(yyjson_obj_get(w, "type"));
    if (!yyjson_is_obj(w) || !type)
        return fail(err, errcap, "%s: widget %zu must be an object with a \"type\" (\"choice\", \"slider\", "
                                 "\"text\" or \"user_attr\")", cfg->path, i);
    if (widget_string(cfg, i, w, "description", &out->description, err, errcap) ||
        widget_string(cfg, i, w, "user_attr_key", &out->user_attr_key, err, errcap))
        return -1;
    size_t idx, max;
    yyjson_val *v;
    if (!strcmp(type, "choice")) {
        out->type = LOUPE_WIDGET_CHOICE;
        yyjson_val *choices = yyjson_obj_get(w, "choices"), *values = yyjson_obj_get(w, "values");
        if (!yyjson_is_arr(choices) || !yyjson_is_arr(values) || yyjson_arr_size(choices) == 0 ||
            yyjson_arr_size(choices) != yyjson_arr_size(values))
            return fail(err, errcap, "%s: widget %zu (choice) needs \"choices\" (labels) and \"values\" (numbers), "
                                     "two non-empty lists of the same length", cfg->path, i);
        size_t n = yyjson_arr_size(choices);
        const char **labels = own(cfg, cli_xmalloc(n * sizeof *labels));
        double *nums = own(cfg, cli_xmalloc(n * sizeof *nums));
        yyjson_arr_foreach(choices, idx, max, v) {
            if (!yyjson_is_str(v))
                return fail(err, errcap, "%s: widget %zu: every choice label must be a string", cfg->path, i);
            labels[idx] = yyjson_get_str(v);
        }
        yyjson_arr_foreach(values, idx, max, v) {
            if (get_number(v, &nums[idx]) || !isfinite(nums[idx]))
                return fail(err, errcap, "%s: widget %zu: every value must be a finite number", cfg->path, i);
        }
        out->n_choices = n;
        out->choices = labels;
        out->values = nums;
    } else if (!strcmp(type, "slider")) {
        out->type = LOUPE_WIDGET_SLIDER;
        if (get_number(yyjson_obj_get(w, "min"), &out->min) || get_number(yyjson_obj_get(w, "max"), &out->max))
            return fail(err, errcap, "%s: widget %zu (slider) needs numbers \"min\" and \"max\"", cfg->path, i);
        yyjson_val *step = yyjson_obj_get(w, "step");
        if (step && !yyjson_is_null(step)) {
            if (get_number(step, &out->step))
                return fail(err, errcap, "%s: widget %zu: \"step\" must be a number or null", cfg->path, i);
            out->has_step = 1;
        }
        yyjson_val *labels = yyjson_obj_get(w, "labels");
        if (labels && !yyjson_is_null(labels)) {
            if (!yyjson_is_arr(labels))
                return fail(err, errcap, "%s: widget %zu: \"labels\" must be a list or null", cfg->path, i);
            size_t n = yyjson_arr_size(labels);
            loupe_slider_label *ls = own(cfg, cli_xmalloc((n ? n : 1) * sizeof *ls));
            yyjson_arr_foreach(labels, idx, max, v) {
                yyjson_val *lv = yyjson_is_arr(v) ? yyjson_arr_get(v, 0) : yyjson_obj_get(v, "value");
                yyjson_val *ll = yyjson_is_arr(v) ? yyjson_arr_get(v, 1) : yyjson_obj_get(v, "label");
                if (get_number(lv, &ls[idx].value) || !yyjson_is_str(ll))
                    return fail(err, errcap, "%s: widget %zu: each label is {\"value\": number, \"label\": string} "
                                             "or [number, string]", cfg->path, i);
                ls[idx].label = yyjson_get_str(ll);
            }
            out->n_labels = n;
            out->labels = ls;
        }
    } else if (!strcmp(type, "text")) {
        out->type = LOUPE_WIDGET_TEXT;
        yyjson_val *opt = yyjson_obj_get(w, "optional");
        if (opt && !yyjson_is_bool(opt))
            return fail(err, errcap, "%s: widget %zu: \"optional\" must be true or false", cfg->path, i);
        out->optional = yyjson_is_true(opt);
    } else if (!strcmp(type, "user_attr")) {
        out->type = LOUPE_WIDGET_USER_ATTR_REF;
        out->key = yyjson_get_str(yyjson_obj_get(w, "key"));
        if (!out->key)
            return fail(err, errcap, "%s: widget %zu (user_attr) needs \"key\": the user attr that holds the value",
                        cfg->path, i);
    } else {
        return fail(err, errcap, "%s: widget %zu: unknown type \"%s\" (use \"choice\", \"slider\", \"text\" or "
                                 "\"user_attr\")", cfg->path, i, type);
    }
    return 0;
}

static int parse_form(gen_config *cfg, yyjson_val *form, char *err, size_t errcap) {
    if (!form || yyjson_is_null(form)) return 0;
    yyjson_val *widgets = form;
    cfg->form_output = LOUPE_FORM_OBJECTIVE;
    if (yyjson_is_obj(form)) {
        const char *ot = yyjson_get_str(yyjson_obj_get(form, "output_type"));
        if (ot && !strcmp(ot, "user_attr"))
            cfg->form_output = LOUPE_FORM_USER_ATTR;
        else if (ot && strcmp(ot, "objective") != 0)
            return fail(err, errcap, "%s: \"form\": \"output_type\" must be \"objective\" or \"user_attr\"",
                        cfg->path);
        widgets = yyjson_obj_get(form, "widgets");
    }
    if (!yyjson_is_arr(widgets) || yyjson_arr_size(widgets) == 0)
        return fail(err, errcap, "%s: \"form\" must be a list of widgets or {\"output_type\": ..., \"widgets\": "
                                 "[...]} with at least one widget", cfg->path);
    size_t n = yyjson_arr_size(widgets), idx, max;
    cfg->widgets = own(cfg, cli_xmalloc(n * sizeof *cfg->widgets));
    yyjson_val *w;
    yyjson_arr_foreach(widgets, idx, max, w) {
        if (parse_widget(cfg, idx, w, &cfg->widgets[idx], err, errcap)) return -1;
    }
    cfg->n_widgets = n;
    cfg->has_form = 1;
    return 0;
}

/* ---------------------------------------------------------------- sampler, directions */

static int parse_sampler(gen_config *cfg, yyjson_val *s, char *err, size_t errcap) {
    loupe_tpe_options_init(&cfg->tpe);
    cfg->tpe.constant_liar = 1; /* several trials wait for ratings at once */
    cfg->sampler = GEN_SAMPLER_TPE;
    if (!s || yyjson_is_null(s)) return 0;
    if (!yyjson_is_obj(s))
        return fail(err, errcap, "%s: \"sampler\" must be an object such as {\"name\": \"TPESampler\", "
                                 "\"n_startup_trials\": 5}", cfg->path);
    const char *name = yyjson_get_str(yyjson_obj_get(s, "name"));
    if (!name || !strcmp(name, "TPESampler") || !strcmp(name, "tpe"))
        cfg->sampler = GEN_SAMPLER_TPE;
    else if (!strcmp(name, "RandomSampler") || !strcmp(name, "random"))
        cfg->sampler = GEN_SAMPLER_RANDOM;
    else
        return fail(err, errcap, "%s: \"sampler\": unknown name \"%s\" (use \"TPESampler\" or \"RandomSampler\")",
                    cfg->path, name);
    static const char *const tpe_keys[] = {"name", "seed", "n_startup_trials", "n_ei_candidates", "constant_liar",
                                           "multivariate", "group", "consider_prior", "prior_weight",
                                           "consider_magic_clip", "consider_endpoints", NULL};
    yyjson_val *key, *val;
    size_t idx, max;
    yyjson_obj_foreach(s, idx, max, key, val) {
        const char *k = yyjson_get_str(key);
        if (!in_list(tpe_keys, k) || (cfg->sampler == GEN_SAMPLER_RANDOM && strcmp(k, "name") && strcmp(k, "seed")))
            return fail(err, errcap, "%s: \"sampler\": unknown setting \"%s\" for %s", cfg->path, k,
                        cfg->sampler == GEN_SAMPLER_TPE ? "TPESampler" : "RandomSampler");
    }
    yyjson_val *seed = yyjson_obj_get(s, "seed");
    if (seed && !yyjson_is_null(seed)) {
        if (!yyjson_is_uint(seed))
            return fail(err, errcap, "%s: \"sampler\": \"seed\" must be a non-negative integer", cfg->path);
        cfg->tpe.has_seed = 1;
        cfg->tpe.seed = yyjson_get_uint(seed);
    }
    long n;
    if (opt_long(cfg, s, "n_startup_trials", 0, INT_MAX, cfg->tpe.n_startup_trials, &n, err, errcap)) return -1;
    cfg->tpe.n_startup_trials = (int)n;
    if (opt_long(cfg, s, "n_ei_candidates", 1, INT_MAX, cfg->tpe.n_ei_candidates, &n, err, errcap)) return -1;
    cfg->tpe.n_ei_candidates = (int)n;
    if (opt_bool(cfg, s, "constant_liar", cfg->tpe.constant_liar, &cfg->tpe.constant_liar, err, errcap) ||
        opt_bool(cfg, s, "group", cfg->tpe.group, &cfg->tpe.group, err, errcap) ||
        opt_bool(cfg, s, "consider_prior", cfg->tpe.consider_prior, &cfg->tpe.consider_prior, err, errcap) ||
        opt_bool(cfg, s, "consider_magic_clip", cfg->tpe.consider_magic_clip, &cfg->tpe.consider_magic_clip, err,
                 errcap) ||
        opt_bool(cfg, s, "consider_endpoints", cfg->tpe.consider_endpoints, &cfg->tpe.consider_endpoints, err,
                 errcap))
        return -1;
    yyjson_val *mv = yyjson_obj_get(s, "multivariate");
    if (mv && !yyjson_is_null(mv)) {
        if (!yyjson_is_bool(mv))
            return fail(err, errcap, "%s: \"sampler\": \"multivariate\" must be true, false or null (auto)",
                        cfg->path);
        cfg->tpe.multivariate = yyjson_get_bool(mv);
    }
    yyjson_val *pw = yyjson_obj_get(s, "prior_weight");
    if (pw && (get_number(pw, &cfg->tpe.prior_weight) || cfg->tpe.prior_weight < 0))
        return fail(err, errcap, "%s: \"sampler\": \"prior_weight\" must be a number >= 0", cfg->path);
    char msg[256];
    if (cfg->sampler == GEN_SAMPLER_TPE && loupe_tpe_options_check(&cfg->tpe, msg, sizeof msg) != LOUPE_OK)
        return fail(err, errcap, "%s: \"sampler\": %s", cfg->path, msg);
    return 0;
}

static int parse_direction_name(const gen_config *cfg, yyjson_val *v, loupe_direction *out, char *err,
                                size_t errcap) {
    const char *s = yyjson_get_str(v);
    if (s && !strcmp(s, "minimize"))
        *out = LOUPE_MINIMIZE;
    else if (s && !strcmp(s, "maximize"))
        *out = LOUPE_MAXIMIZE;
    else
        return fail(err, errcap, "%s: a direction must be \"minimize\" or \"maximize\"", cfg->path);
    return 0;
}

static int parse_directions(gen_config *cfg, yyjson_val *root, char *err, size_t errcap) {
    yyjson_val *one = yyjson_obj_get(root, "direction"), *many = yyjson_obj_get(root, "directions");
    if (one && many)
        return fail(err, errcap, "%s: give either \"direction\" or \"directions\", not both", cfg->path);
    if (many) {
        if (!yyjson_is_arr(many) || yyjson_arr_size(many) == 0)
            return fail(err, errcap, "%s: \"directions\" must be a non-empty list such as [\"minimize\"]",
                        cfg->path);
        cfg->n_directions = yyjson_arr_size(many);
        cfg->directions = own(cfg, cli_xmalloc(cfg->n_directions * sizeof *cfg->directions));
        size_t idx, max;
        yyjson_val *v;
        yyjson_arr_foreach(many, idx, max, v) {
            if (parse_direction_name(cfg, v, &cfg->directions[idx], err, errcap)) return -1;
        }
    } else {
        cfg->n_directions = 1;
        cfg->directions = own(cfg, cli_xmalloc(sizeof *cfg->directions));
        cfg->directions[0] = LOUPE_MINIMIZE;
        if (one && parse_direction_name(cfg, one, &cfg->directions[0], err, errcap)) return -1;
    }
    yyjson_val *names = yyjson_obj_get(root, "metric_names");
    if (names && !yyjson_is_null(names)) {
        if (!yyjson_is_arr(names) || yyjson_arr_size(names) != cfg->n_directions)
            return fail(err, errcap, "%s: \"metric_names\" must be a list of %zu string(s), one per direction",
                        cfg->path, cfg->n_directions);
        cfg->n_metric_names = yyjson_arr_size(names);
        cfg->metric_names = own(cfg, cli_xmalloc(cfg->n_metric_names * sizeof *cfg->metric_names));
        size_t idx, max;
        yyjson_val *v;
        yyjson_arr_foreach(names, idx, max, v) {
            if (!yyjson_is_str(v)) return fail(err, errcap, "%s: every metric name must be a string", cfg->path);
            cfg->metric_names[idx] = yyjson_get_str(v);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the file */

static char *read_file(const char *path, size_t *len, char *err, size_t errcap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(err, errcap, "cannot open the configuration file '%s': %s", path, strerror(errno));
        return NULL;
    }
    loupe__buf b = {0};
    loupe__buf_init(&b, 16u << 20);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) loupe__buf_append(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad || b.failed) {
        fail(err, errcap, "cannot read the configuration file '%s'%s", path, b.failed ? " (larger than 16 MiB?)" : "");
        loupe__buf_free(&b);
        return NULL;
    }
    *len = b.len;
    char *s = loupe__buf_steal(&b);
    return s ? s : cli_xstrdup("");
}

static char *absolute_dir_of(const char *path) {
    char *copy = cli_xstrdup(path);
    char *slash = strrchr(copy, '/');
    const char *dir = ".";
    if (slash == copy)
        dir = "/";
    else if (slash) {
        *slash = '\0';
        dir = copy;
    }
    char resolved[PATH_MAX];
    char *out = realpath(dir, resolved) ? cli_xstrdup(resolved) : cli_xstrdup(dir);
    free(copy);
    return out;
}

int gen_config_load(const char *path, gen_config *cfg, char *err, size_t errcap) {
    memset(cfg, 0, sizeof *cfg);
    cfg->path = cli_xstrdup(path);
    cfg->dir = absolute_dir_of(path);
    size_t len = 0;
    char *text = read_file(path, &len, err, errcap);
    if (!text) return -1;
    char msg[256];
    yyjson_doc *doc = loupe__pyjson_parse(text, len, msg, sizeof msg);
    free(text);
    if (!doc) return fail(err, errcap, "%s is not valid JSON: %s", path, msg);
    cfg->doc = doc;
    yyjson_val *root = yyjson_doc_get_root(doc);
    if (!yyjson_is_obj(root))
        return fail(err, errcap, "%s: the configuration must be a JSON object ({\"study_name\": ..., \"params\": "
                                 "..., \"command\": ...})", path);
    yyjson_val *key, *val;
    size_t idx, max;
    yyjson_obj_foreach(root, idx, max, key, val) {
        const char *k = yyjson_get_str(key);
        if (!in_list(known_keys, k) && k[0] != '_' && strcmp(k, "comment") != 0) {
            loupe__buf b = {0};
            for (const char *const *kk = known_keys; *kk; kk++) loupe__buf_printf(&b, "%s%s", kk == known_keys ? "" : ", ", *kk);
            fail(err, errcap, "%s: unknown setting \"%s\" (known: %s; keys starting with _ are ignored)", path, k,
                 b.data);
            loupe__buf_free(&b);
            return -1;
        }
    }
    const char *workdir = NULL;
    if (opt_string(cfg, root, "study_name", &cfg->study_name, err, errcap) ||
        opt_string(cfg, root, "storage", &cfg->storage, err, errcap) ||
        opt_string(cfg, root, "artifact_dir", &cfg->artifact_dir, err, errcap) ||
        opt_string(cfg, root, "workdir", &workdir, err, errcap) ||
        opt_string(cfg, root, "output", &cfg->output_name, err, errcap) ||
        opt_string(cfg, root, "note", &cfg->note, err, errcap))
        return -1;
    if (!cfg->study_name)
        return fail(err, errcap, "%s: \"study_name\" is missing: name the study, e.g. \"study_name\": \"sunset\"", path);
    if (!workdir || workdir[0] == '/') {
        cfg->workdir = cli_xstrdup(workdir ? workdir : cfg->dir);
    } else {
        loupe__buf b = {0};
        loupe__buf_printf(&b, "%s/%s", cfg->dir, workdir);
        cfg->workdir = loupe__buf_steal(&b);
    }
    if (access(cfg->workdir, X_OK) != 0)
        return fail(err, errcap, "%s: the working directory '%s' of the command is not accessible: %s", path,
                    cfg->workdir, strerror(errno));
    if (!cfg->output_name) cfg->output_name = "output";
    if (!cfg->note) cfg->note = "## Trial {number}\n\n{artifacts}"; /* {artifacts} ends with a newline */
    if (parse_directions(cfg, root, err, errcap) || parse_sampler(cfg, yyjson_obj_get(root, "sampler"), err, errcap) ||
        parse_params(cfg, yyjson_obj_get(root, "params"), err, errcap) ||
        parse_form(cfg, yyjson_obj_get(root, "form"), err, errcap))
        return -1;
    if (opt_long(cfg, root, "batch_size", 1, 1000, 4, &cfg->batch, err, errcap) ||
        opt_long(cfg, root, "parallel", 1, 1000, 0, &cfg->parallel, err, errcap) ||
        opt_long(cfg, root, "max_consecutive_failures", 1, 1000000, 5, &cfg->max_failures, err, errcap))
        return -1;
    if (cfg->parallel == 0 || cfg->parallel > cfg->batch) cfg->parallel = cfg->batch;
    yyjson_val *t = yyjson_obj_get(root, "timeout");
    if (t && !yyjson_is_null(t) && (get_number(t, &cfg->timeout_s) || !(cfg->timeout_s >= 0) || !isfinite(cfg->timeout_s)))
        return fail(err, errcap, "%s: \"timeout\" must be a number of seconds >= 0 (0 or null: no timeout)", path);

    yyjson_val *cmd = yyjson_obj_get(root, "command");
    if (yyjson_is_str(cmd)) {
        if (split_command(cfg, yyjson_get_str(cmd), err, errcap)) return -1;
    } else if (yyjson_is_arr(cmd)) {
        size_t n = yyjson_arr_size(cmd);
        cfg->command = own(cfg, cli_xmalloc((n + 1) * sizeof *cfg->command));
        yyjson_val *w;
        yyjson_arr_foreach(cmd, idx, max, w) {
            if (!yyjson_is_str(w) || strlen(yyjson_get_str(w)) != yyjson_get_len(w))
                return fail(err, errcap, "%s: every word of \"command\" must be a string (without NUL)", path);
            cfg->command[idx] = yyjson_get_str(w);
        }
        cfg->n_command = n;
        cfg->command[n] = NULL;
    } else {
        return fail(err, errcap, "%s: \"command\" is missing: give the program and its arguments, e.g. "
                                 "[\"python3\", \"render.py\", \"{r}\", \"{output}\"] or \"python3 render.py {r} "
                                 "{output}\"", path);
    }
    if (cfg->n_command == 0 || !cfg->command[0][0])
        return fail(err, errcap, "%s: \"command\" is empty: name the program to run", path);
    for (size_t i = 0; i < cfg->n_command; i++) {
        char what[64];
        snprintf(what, sizeof what, "\"command\" word %zu", i);
        if (check_template(cfg, what, cfg->command[i], 0, err, errcap)) return -1;
    }
    if (check_template(cfg, "\"output\"", cfg->output_name, 0, err, errcap) ||
        check_template(cfg, "\"note\"", cfg->note, 1, err, errcap))
        return -1;
    if (strchr(cfg->output_name, '/'))
        return fail(err, errcap, "%s: \"output\" is a file name (such as \"image.png\"), without '/': it is "
                                 "created in the trial's private output directory", path);
    return 0;
}

void gen_config_free(gen_config *cfg) {
    for (size_t i = 0; i < cfg->n_owned; i++) free(cfg->owned[i]);
    free(cfg->owned);
    yyjson_doc_free(cfg->doc);
    free(cfg->workdir);
    free(cfg->path);
    free(cfg->dir);
    memset(cfg, 0, sizeof *cfg);
}
