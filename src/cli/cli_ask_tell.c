/*
 * cli_ask_tell.c -- the ask and tell verbs of the `loupe` command, as Optuna's
 * CLI has them: ask creates a trial, suggests the --search-space parameters with
 * the sampler of --sampler/--sampler-kwargs and prints {"number": N, "params":
 * {...}}; tell finishes a trial with Study.tell's rules (state inferred from the
 * values when --state is omitted, --skip-if-finished).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "util/pyjson.h"
#include "util/rng.h"

/* ---------------------------------------------------------------- samplers */

/* Optuna samplers loupe does not implement, to tell them apart from typos. */
static const char *const other_optuna_samplers[] = {
    "CmaEsSampler", "NSGAIISampler", "NSGAIIISampler", "GridSampler", "QMCSampler", "GPSampler",
    "BruteForceSampler", "PartialFixedSampler", "BoTorchSampler", "MOTPESampler", NULL};

/* Reads an optional bool/int/float keyword argument; returns 0 when absent
 * (leaving *out alone), 1 when read, -1 (after logging) on a wrong type. */
static int kw_bool(cli_ctx *ctx, const cli_value *kw, const char *sampler, const char *key, int *out) {
    const cli_value *v = cli_v_get(kw, key);
    if (!v) return 0;
    if (v->kind != CLI_V_BOOL) {
        cli_usage_error(ctx, "--sampler-kwargs: %s's %s must be true or false.", sampler, key);
        return -1;
    }
    *out = v->b;
    return 1;
}

static int kw_int(cli_ctx *ctx, const cli_value *kw, const char *sampler, const char *key, int64_t min, int64_t *out) {
    const cli_value *v = cli_v_get(kw, key);
    if (!v) return 0;
    if (v->kind != CLI_V_INT || v->i < min) {
        cli_usage_error(ctx, "--sampler-kwargs: %s's %s must be an integer >= %lld.", sampler, key, (long long)min);
        return -1;
    }
    *out = v->i;
    return 1;
}

/* "seed": an int in [0, 2**64) or null. */
static int kw_seed(cli_ctx *ctx, const cli_value *kw, const char *sampler, int *has_seed, uint64_t *seed) {
    const cli_value *v = cli_v_get(kw, "seed");
    if (!v || v->kind == CLI_V_NONE) return 0;
    if (v->kind == CLI_V_INT && v->i >= 0) {
        *has_seed = 1;
        *seed = (uint64_t)v->i;
        return 1;
    }
    if (v->kind == CLI_V_BIGINT && v->s[0] != '-') {
        errno = 0;
        unsigned long long u = strtoull(v->s, NULL, 10);
        if (errno == 0) {
            *has_seed = 1;
            *seed = (uint64_t)u;
            return 1;
        }
    }
    cli_usage_error(ctx, "--sampler-kwargs: %s's seed must be a non-negative integer below 2**64, or null.", sampler);
    return -1;
}

/* Fails for any key of kw that is not in allowed (NULL-terminated). */
static int kw_check_keys(cli_ctx *ctx, const cli_value *kw, const char *sampler, const char *const *allowed) {
    for (size_t i = 0; i < kw->n; i++) {
        const char *const *a = allowed;
        while (*a && strcmp(*a, kw->keys[i]) != 0) a++;
        if (*a) continue;
        loupe__buf names = {0};
        for (a = allowed; *a; a++) loupe__buf_printf(&names, "%s%s", a == allowed ? "" : ", ", *a);
        int rc = cli_usage_error(ctx, "--sampler-kwargs: %s got an unexpected keyword argument '%s'. It takes: %s.",
                                 sampler, kw->keys[i], names.data ? names.data : "");
        loupe__buf_free(&names);
        return rc;
    }
    return 0;
}

static int make_random(cli_ctx *ctx, const cli_value *kw, loupe_sampler **out) {
    static const char *const allowed[] = {"seed", NULL};
    if (kw_check_keys(ctx, kw, "RandomSampler", allowed)) return CLI_EXIT_USAGE;
    int has_seed = 0;
    uint64_t seed = 0;
    if (kw_seed(ctx, kw, "RandomSampler", &has_seed, &seed) < 0) return CLI_EXIT_USAGE;
    int status = loupe_sampler_random_new(has_seed ? seed : loupe__rng_entropy_seed(), out);
    if (status != LOUPE_OK) return cli_fail_status(ctx, status, NULL, "Cannot create a RandomSampler");
    return 0;
}

static int make_tpe(cli_ctx *ctx, const cli_value *kw, loupe_sampler **out) {
    static const char *const allowed[] = {
        "seed", "n_startup_trials", "n_ei_candidates", "multivariate", "group", "constant_liar", "consider_prior",
        "prior_weight", "consider_magic_clip", "consider_endpoints", "warn_independent_sampling", NULL};
    static const char *const callables[] = {"gamma", "weights", "constraints_func", "categorical_distance_func", NULL};
    for (const char *const *c = callables; *c; c++)
        if (cli_v_get(kw, *c))
            return cli_usage_error(ctx,
                                   "--sampler-kwargs: TPESampler's %s is a Python function and cannot be given as "
                                   "JSON; leave it out to use Optuna's default.",
                                   *c);
    if (kw_check_keys(ctx, kw, "TPESampler", allowed)) return CLI_EXIT_USAGE;
    loupe_tpe_options opts;
    loupe_tpe_options_init(&opts);
    int64_t i64;
    int r = kw_int(ctx, kw, "TPESampler", "n_startup_trials", 0, &i64);
    if (r < 0) return CLI_EXIT_USAGE;
    if (r > 0) opts.n_startup_trials = i64 > INT32_MAX ? INT32_MAX : (int)i64;
    r = kw_int(ctx, kw, "TPESampler", "n_ei_candidates", 1, &i64);
    if (r < 0) return CLI_EXIT_USAGE;
    if (r > 0) opts.n_ei_candidates = i64 > INT32_MAX ? INT32_MAX : (int)i64;
    if (kw_seed(ctx, kw, "TPESampler", &opts.has_seed, &opts.seed) < 0) return CLI_EXIT_USAGE;
    if (kw_bool(ctx, kw, "TPESampler", "multivariate", &opts.multivariate) < 0 ||
        kw_bool(ctx, kw, "TPESampler", "group", &opts.group) < 0 ||
        kw_bool(ctx, kw, "TPESampler", "constant_liar", &opts.constant_liar) < 0 ||
        kw_bool(ctx, kw, "TPESampler", "consider_prior", &opts.consider_prior) < 0 ||
        kw_bool(ctx, kw, "TPESampler", "consider_magic_clip", &opts.consider_magic_clip) < 0 ||
        kw_bool(ctx, kw, "TPESampler", "consider_endpoints", &opts.consider_endpoints) < 0 ||
        kw_bool(ctx, kw, "TPESampler", "warn_independent_sampling", &opts.warn_independent_sampling) < 0)
        return CLI_EXIT_USAGE;
    const cli_value *pw = cli_v_get(kw, "prior_weight");
    if (pw) {
        if (pw->kind != CLI_V_INT && pw->kind != CLI_V_FLOAT)
            return cli_usage_error(ctx, "--sampler-kwargs: TPESampler's prior_weight must be a number.");
        opts.prior_weight = pw->kind == CLI_V_INT ? (double)pw->i : pw->f;
    }
    char err[256];
    if (loupe_tpe_options_check(&opts, err, sizeof err) != LOUPE_OK)
        return cli_usage_error(ctx, "--sampler-kwargs: %s", err);
    int status = loupe_sampler_tpe_new(&opts, out);
    if (status != LOUPE_OK) return cli_fail_status(ctx, status, NULL, "Cannot create a TPESampler");
    return 0;
}

/*
 * The sampler factory: turns --sampler NAME and --sampler-kwargs JSON into a
 * sampler (*out). Without --sampler the study gets a TPESampler with Optuna's
 * defaults, which is what Optuna's study uses when none is given. New samplers
 * are added here.
 */
static int make_sampler(cli_ctx *ctx, const char *name, const char *kwargs_json, loupe_sampler **out) {
    *out = NULL;
    if (!name && kwargs_json)
        return cli_usage_error(ctx, "--sampler-kwargs is set without --sampler. Please specify --sampler as well "
                                    "or omit --sampler-kwargs.");
    cli_value *kw = NULL;
    if (kwargs_json) {
        char err[160];
        kw = cli_value_from_json(kwargs_json, err, sizeof err);
        if (!kw) return cli_usage_error(ctx, "--sampler-kwargs is not valid JSON (%s). Example: '{\"seed\": 42}'.", err);
        if (kw->kind != CLI_V_DICT) {
            cli_value_free(kw);
            return cli_usage_error(ctx, "--sampler-kwargs must be a JSON object of keyword arguments, e.g. '{\"seed\": 42}'.");
        }
    } else {
        kw = cli_v_dict();
    }
    int rc;
    if (!name || strcmp(name, "TPESampler") == 0) {
        rc = make_tpe(ctx, kw, out);
    } else if (strcmp(name, "RandomSampler") == 0) {
        rc = make_random(ctx, kw, out);
    } else {
        const char *const *o = other_optuna_samplers;
        while (*o && strcmp(*o, name) != 0) o++;
        if (*o)
            rc = cli_usage_error(ctx, "--sampler %s is an Optuna sampler that loupe does not implement. Use "
                                      "--sampler TPESampler or --sampler RandomSampler.",
                                 name);
        else
            rc = cli_usage_error(ctx, "Unknown --sampler '%s'. loupe has TPESampler and RandomSampler (names are "
                                      "case-sensitive, as Optuna's class names).",
                                 name);
    }
    cli_value_free(kw);
    return rc;
}

/* ---------------------------------------------------------------- search space */

typedef struct space_param {
    const char *name; /* owned by the space's parsed JSON */
    loupe_distribution dist;
    char **choices; /* CATEGORICAL: JSON texts */
} space_param;

typedef struct search_space {
    cli_value *json;
    size_t n;
    space_param *params;
} search_space;

static void space_free(search_space *s) {
    for (size_t i = 0; i < s->n; i++) {
        for (size_t k = 0; k < s->params[i].dist.n_choices; k++) free(s->params[i].choices[k]);
        free(s->params[i].choices);
    }
    free(s->params);
    cli_value_free(s->json);
    memset(s, 0, sizeof *s);
}

static int number_of(const cli_value *v, double *out) {
    if (!v) return 0;
    if (v->kind == CLI_V_INT || v->kind == CLI_V_BOOL) {
        *out = v->kind == CLI_V_INT ? (double)v->i : v->b;
        return 1;
    }
    if (v->kind == CLI_V_FLOAT) {
        *out = v->f;
        return 1;
    }
    if (v->kind == CLI_V_BIGINT) {
        *out = strtod(v->s, NULL);
        return 1;
    }
    return 0;
}

/* Parses one distribution: {"name": "FloatDistribution", "attributes": {...}}
 * (also the legacy Uniform/LogUniform/DiscreteUniform/IntUniform/IntLogUniform
 * classes), or the abbreviated {"type": "float"|"int"|"categorical", ...} form,
 * as optuna.distributions.json_to_distribution reads them. Checks what the
 * distribution constructors check. */
static int parse_distribution(cli_ctx *ctx, const char *pname, const cli_value *d, space_param *p) {
    if (!d || d->kind != CLI_V_DICT)
        return cli_usage_error(ctx, "--search-space: the distribution of '%s' must be a JSON object such as "
                                    "{\"name\": \"FloatDistribution\", \"attributes\": {\"low\": 0.0, \"high\": 1.0}}.",
                               pname);
    const cli_value *cls = cli_v_get(d, "name");
    const cli_value *attrs = d;
    const char *kind;
    static const char *const float_keys[] = {"low", "high", "step", "log", NULL};
    static const char *const int_keys[] = {"low", "high", "step", "log", NULL};
    static const char *const lu_keys[] = {"low", "high", NULL};
    static const char *const du_keys[] = {"low", "high", "q", NULL};
    static const char *const iu_keys[] = {"low", "high", "step", NULL};
    static const char *const cat_keys[] = {"choices", NULL};
    const char *const *allowed = NULL;
    int legacy_log = 0, legacy_q = 0;
    if (cls) {
        attrs = cli_v_get(d, "attributes");
        if (cls->kind != CLI_V_STR || !attrs || attrs->kind != CLI_V_DICT)
            return cli_usage_error(ctx, "--search-space: '%s' needs a \"name\" string and an \"attributes\" object.", pname);
        const char *c = cls->s;
        if (strcmp(c, "FloatDistribution") == 0) kind = "float", allowed = float_keys;
        else if (strcmp(c, "IntDistribution") == 0) kind = "int", allowed = int_keys;
        else if (strcmp(c, "CategoricalDistribution") == 0) kind = "categorical", allowed = cat_keys;
        else if (strcmp(c, "UniformDistribution") == 0) kind = "float", allowed = lu_keys;
        else if (strcmp(c, "LogUniformDistribution") == 0) kind = "float", allowed = lu_keys, legacy_log = 1;
        else if (strcmp(c, "DiscreteUniformDistribution") == 0) kind = "float", allowed = du_keys, legacy_q = 1;
        else if (strcmp(c, "IntUniformDistribution") == 0) kind = "int", allowed = iu_keys;
        else if (strcmp(c, "IntLogUniformDistribution") == 0) kind = "int", allowed = iu_keys, legacy_log = 1;
        else
            return cli_usage_error(ctx, "--search-space: unknown distribution class '%s' for '%s'. Use "
                                        "FloatDistribution, IntDistribution or CategoricalDistribution.",
                                   c, pname);
        for (size_t i = 0; i < attrs->n; i++) {
            const char *const *a = allowed;
            while (*a && strcmp(*a, attrs->keys[i]) != 0) a++;
            if (!*a)
                return cli_usage_error(ctx, "--search-space: %s of '%s' got an unexpected attribute '%s'.", c, pname,
                                       attrs->keys[i]);
        }
    } else {
        const cli_value *type = cli_v_get(d, "type");
        if (!type || type->kind != CLI_V_STR)
            return cli_usage_error(ctx, "--search-space: '%s' needs \"name\" and \"attributes\" (or the short form "
                                        "with \"type\": \"float\", \"int\" or \"categorical\").",
                                   pname);
        kind = type->s;
        if (strcmp(kind, "float") != 0 && strcmp(kind, "int") != 0 && strcmp(kind, "categorical") != 0)
            return cli_usage_error(ctx, "--search-space: unknown distribution type '%s' for '%s'; use float, int or "
                                        "categorical.",
                                   kind, pname);
    }

    memset(p, 0, sizeof *p);
    p->name = pname;
    if (strcmp(kind, "categorical") == 0) {
        const cli_value *choices = cli_v_get(attrs, "choices");
        if (!choices || choices->kind != CLI_V_LIST || choices->n == 0)
            return cli_usage_error(ctx, "--search-space: the choices of '%s' must be a non-empty JSON list.", pname);
        p->dist.kind = LOUPE_DIST_CATEGORICAL;
        p->choices = cli_xmalloc(choices->n * sizeof *p->choices);
        for (size_t i = 0; i < choices->n; i++) {
            loupe__buf b = {0};
            cli_v_json(&b, choices->items[i]);
            p->choices[i] = b.data ? b.data : cli_xstrdup("null");
            p->dist.n_choices = i + 1;
        }
        p->dist.choices = (const char *const *)p->choices;
        return 0;
    }
    double low, high, step = 0;
    if (!number_of(cli_v_get(attrs, "low"), &low) || !number_of(cli_v_get(attrs, "high"), &high))
        return cli_usage_error(ctx, "--search-space: '%s' needs numbers \"low\" and \"high\".", pname);
    const cli_value *stepv = cli_v_get(attrs, legacy_q ? "q" : "step");
    if (stepv && stepv->kind != CLI_V_NONE && !number_of(stepv, &step))
        return cli_usage_error(ctx, "--search-space: the step of '%s' must be a number or null.", pname);
    const cli_value *logv = cli_v_get(attrs, "log");
    int log = legacy_log;
    if (logv && logv->kind != CLI_V_NONE) {
        if (logv->kind != CLI_V_BOOL)
            return cli_usage_error(ctx, "--search-space: \"log\" of '%s' must be true or false.", pname);
        log = logv->b;
    }
    if (strcmp(kind, "int") == 0) {
        /* IntDistribution casts with int(), which truncates. */
        low = trunc(low), high = trunc(high);
        step = (stepv && stepv->kind != CLI_V_NONE) ? trunc(step) : 1;
        if (log && step != 1)
            return cli_usage_error(ctx, "--search-space: '%s': samplers cannot take step other than 1 together with "
                                        "log=true (step=%g).",
                                   pname, step);
        if (step <= 0) return cli_usage_error(ctx, "--search-space: '%s': step must be > 0 (step=%g).", pname, step);
        if (low > high)
            return cli_usage_error(ctx, "--search-space: '%s': low must be <= high (low=%g, high=%g).", pname, low, high);
        if (log && low < 1)
            return cli_usage_error(ctx, "--search-space: '%s': low must be >= 1 with log=true (low=%g).", pname, low);
        if (fabs(low) > 9.0e15 || fabs(high) > 9.0e15)
            return cli_usage_error(ctx, "--search-space: '%s': low and high must be within +-9e15.", pname);
        p->dist.kind = LOUPE_DIST_INT;
    } else {
        if (log && step != 0)
            return cli_usage_error(ctx, "--search-space: '%s': step and log=true cannot be used together.", pname);
        if (stepv && stepv->kind != CLI_V_NONE && step <= 0)
            return cli_usage_error(ctx, "--search-space: '%s': step must be > 0 (step=%g).", pname, step);
        if (!(low <= high))
            return cli_usage_error(ctx, "--search-space: '%s': low must be <= high (low=%g, high=%g).", pname, low, high);
        if (log && !(low > 0))
            return cli_usage_error(ctx, "--search-space: '%s': low must be > 0 with log=true (low=%g).", pname, low);
        p->dist.kind = LOUPE_DIST_FLOAT;
    }
    p->dist.low = low, p->dist.high = high, p->dist.step = step, p->dist.log = log;
    return 0;
}

static int parse_search_space(cli_ctx *ctx, const char *text, search_space *s) {
    memset(s, 0, sizeof *s);
    if (!text) return 0;
    char err[160];
    s->json = cli_value_from_json(text, err, sizeof err);
    if (!s->json) return cli_usage_error(ctx, "--search-space is not valid JSON (%s).", err);
    if (s->json->kind != CLI_V_DICT)
        return cli_usage_error(ctx, "--search-space must be a JSON object {\"name\": distribution, ...}.");
    s->params = cli_xmalloc((s->json->n + 1) * sizeof *s->params);
    for (size_t i = 0; i < s->json->n; i++) {
        int rc = parse_distribution(ctx, s->json->keys[i], s->json->items[i], &s->params[i]);
        if (rc) return rc;
        s->n = i + 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- ask */

static int suggest(loupe_trial *trial, const space_param *p) {
    switch (p->dist.kind) {
    case LOUPE_DIST_FLOAT: {
        double x;
        return loupe_trial_suggest_float(trial, p->name, p->dist.low, p->dist.high, p->dist.step, p->dist.log, &x);
    }
    case LOUPE_DIST_INT: {
        int64_t x;
        return loupe_trial_suggest_int(trial, p->name, (int64_t)p->dist.low, (int64_t)p->dist.high,
                                       (int64_t)p->dist.step, p->dist.log, &x);
    }
    default: {
        size_t idx;
        return loupe_trial_suggest_categorical(trial, p->name, p->dist.n_choices, p->dist.choices, &idx);
    }
    }
}

static int run_ask(cli_ctx *ctx, const cli_args *args) {
    search_space space;
    loupe_sampler *sampler = NULL;
    loupe_storage *st = NULL;
    loupe_study *study = NULL;
    loupe_trial *trial = NULL;
    cli_table t;
    cli_table_init(&t);
    int rc = parse_search_space(ctx, cli_arg(args, "--search-space"), &space);
    if (rc) goto cleanup;
    rc = make_sampler(ctx, cli_arg(args, "--sampler"), cli_arg(args, "--sampler-kwargs"), &sampler);
    if (rc) goto cleanup;
    rc = cli_open_storage(ctx, &st);
    if (rc) goto cleanup;
    rc = cli_load_study(ctx, st, cli_arg(args, "--study-name"), &study);
    if (rc) goto cleanup;
    loupe_study_set_sampler(study, sampler);
    sampler = NULL;
    int status = loupe_study_ask(study, &trial);
    if (status != LOUPE_OK) {
        rc = cli_fail_status(ctx, status, loupe_storage_errmsg(st), "Cannot ask a new trial of study '%s'",
                             loupe_study_name(study));
        goto cleanup;
    }
    for (size_t i = 0; i < space.n; i++) {
        status = suggest(trial, &space.params[i]);
        if (status != LOUPE_OK) {
            /* Do not leave a RUNNING trial behind that nobody will tell. */
            char *msg = cli_xstrdup(loupe_storage_errmsg(st));
            int64_t number = loupe_trial_number(trial);
            int failed = loupe_trial_tell(trial, LOUPE_FAIL, 0, NULL, LOUPE_TELL_DEFAULT) == LOUPE_OK;
            rc = cli_fail(ctx, "Cannot suggest '%s' in trial %lld: %s%s%s", space.params[i].name, (long long)number, msg,
                          status == LOUPE_EINCOMPAT
                              ? " A parameter must keep the distribution class, log flag and choices it had in "
                                "earlier trials of the study; rename it or use the earlier distribution."
                              : "",
                          failed ? " The trial was marked FAIL." : "");
            free(msg);
            goto cleanup;
        }
    }
    const loupe_frozen_trial *ft = NULL;
    status = loupe_trial_snapshot(trial, &ft);
    if (status == LOUPE_OK) status = loupe_trial_flush(trial);
    if (status != LOUPE_OK) {
        rc = cli_fail_status(ctx, status, loupe_storage_errmsg(st), "Cannot write the parameters of trial %lld",
                             (long long)loupe_trial_number(trial));
        goto cleanup;
    }
    /* Record {number, params...} in suggestion order, as Optuna's ask prints it. */
    cli_value *params = cli_v_dict();
    for (size_t i = 0; i < ft->n_params; i++) cli_v_set(params, ft->params[i].name, cli_v_param(&ft->params[i]));
    loupe__buf repr = {0};
    cli_v_repr(&repr, params);
    cli_log(ctx, CLI_LOG_INFO, "Asked trial %lld with parameters %s.", (long long)ft->number, repr.data ? repr.data : "{}");
    loupe__buf_free(&repr);
    size_t c_number = cli_table_add_column(&t, "number", CLI_SUB_NONE, NULL, 0);
    size_t c_params = 0;
    if (params->n == 0 && !ctx->flatten) {
        c_params = cli_table_add_column(&t, "params", CLI_SUB_NONE, NULL, 0);
    } else {
        for (size_t i = 0; i < params->n; i++) cli_table_add_column(&t, "params", CLI_SUB_STR, params->keys[i], 0);
    }
    size_t r = cli_table_add_record(&t);
    cli_table_set(&t, r, c_number, cli_v_int(ft->number));
    if (params->n == 0 && !ctx->flatten)
        cli_table_set(&t, r, c_params, cli_v_dict());
    for (size_t i = 0; i < params->n; i++) cli_table_set(&t, r, 1 + i, cli_value_copy(params->items[i]));
    cli_value_free(params);
    cli_print_records(ctx, &t, NULL, 0, 1);
cleanup:
    cli_table_free(&t);
    if (trial) loupe_trial_free(trial);
    if (study) loupe_study_close(study);
    loupe_storage_close(st);
    if (sampler) loupe_sampler_free(sampler);
    space_free(&space);
    return rc;
}

static const cli_option ask_options[] = {
    {"--study-name", 0, CLI_OPT_VALUE, "NAME", NULL, NULL, 0,
     "Name of the study (may be omitted when the storage has one study). The study must exist: create it "
     "with create-study."},
    {"--sampler", 0, CLI_OPT_VALUE, "CLASS", NULL, NULL, 0,
     "Class name of the sampler: TPESampler (the default) or RandomSampler."},
    {"--sampler-kwargs", 0, CLI_OPT_VALUE, "JSON", NULL, NULL, 0,
     "Sampler keyword arguments as a JSON object, e.g. '{\"seed\": 42}'."},
    {"--search-space", 0, CLI_OPT_VALUE, "JSON", NULL, NULL, 0,
     "Search space as a JSON object: names to distributions as Optuna writes them, e.g. "
     "'{\"x\": {\"name\": \"FloatDistribution\", \"attributes\": {\"low\": 0.0, \"high\": 1.0}}}'."},
    {"--format", 'f', CLI_OPT_VALUE, NULL, cli_format_choices, "json", 0, "Output format."},
    {"--flatten", 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, "Flatten nested columns such as params."},
    {NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL},
};

const cli_command cli_cmd_ask = {
    "ask",
    "Create a new trial and suggest parameters.",
    "Starts a trial (an enqueued WAITING trial first), suggests every parameter of --search-space in its order "
    "and prints {\"number\": N, \"params\": {...}}. Finish the trial with `loupe tell`.\n\n"
    "  example: loupe ask --storage sqlite:///example.db --study-name demo \\\n"
    "             --search-space '{\"x\": {\"name\": \"FloatDistribution\", \"attributes\": {\"low\": 0.0, \"high\": 1.0}}}'",
    ask_options,
    1,
    run_ask,
};

/* ---------------------------------------------------------------- tell */

/* Python's repr of a list of floats, or "None". */
static void values_repr(loupe__buf *b, const double *values, size_t n, int given) {
    if (!given) {
        loupe__buf_puts(b, "None");
        return;
    }
    loupe__buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) loupe__buf_puts(b, ", ");
        cli_float_repr(b, values[i]);
    }
    loupe__buf_putc(b, ']');
}

static const char *state_repr(int state) {
    switch (state) {
    case LOUPE_COMPLETE: return "TrialState.COMPLETE";
    case LOUPE_PRUNED: return "TrialState.PRUNED";
    case LOUPE_FAIL: return "TrialState.FAIL";
    case LOUPE_RUNNING: return "TrialState.RUNNING";
    case LOUPE_WAITING: return "TrialState.WAITING";
    default: return "None";
    }
}

/* Python's float() of a command-line word: decimal numbers, inf, nan; no hex. */
static int parse_float_arg(const char *s, double *out) {
    if (!*s || strpbrk(s, "xXpP(")) return -1;
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    while (*end == ' ') end++;
    return end == s || *end ? -1 : 0;
}

/* _check_values_are_feasible: NULL when the values suit the study, else why not. */
static char *infeasible(const double *values, size_t n, size_t n_obj) {
    loupe__buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (isnan(values[i])) {
            if (b.len) loupe__buf_puts(&b, "; ");
            loupe__buf_puts(&b, "The value nan is not acceptable");
        }
    }
    if (!b.len && n != n_obj)
        loupe__buf_printf(&b, "The number of the values %zu did not match the number of the objectives %zu", n, n_obj);
    return b.len ? loupe__buf_steal(&b) : (loupe__buf_free(&b), NULL);
}

static int run_tell(cli_ctx *ctx, const cli_args *args) {
    loupe_storage *st = NULL;
    loupe_study *study = NULL;
    loupe_trial_list *list = NULL;
    double *values = NULL;
    char *why = NULL;
    loupe__buf vrepr = {0};
    int rc = CLI_EXIT_OK;

    const char *num_text = cli_arg(args, "--trial-number");
    char *end;
    errno = 0;
    long long number = strtoll(num_text, &end, 10);
    if (end == num_text || *end || errno)
        return cli_usage_error(ctx, "argument --trial-number: invalid int value: '%s'", num_text);
    size_t n_values = 0;
    const char *const *vtext = cli_arg_list(args, "--values", &n_values);
    if (vtext) {
        values = cli_xmalloc(n_values * sizeof *values);
        for (size_t i = 0; i < n_values; i++)
            if (parse_float_arg(vtext[i], &values[i]) != 0) {
                free(values);
                return cli_usage_error(ctx, "argument --values: invalid float value: '%s'", vtext[i]);
            }
    }
    const char *state_text = cli_arg(args, "--state");
    int state = state_text ? loupe_trial_state_parse(state_text) : -1;
    int given_state = state;
    values_repr(&vrepr, values, n_values, vtext != NULL);

    rc = cli_open_storage(ctx, &st);
    if (rc) goto cleanup;
    rc = cli_load_study(ctx, st, cli_arg(args, "--study-name"), &study);
    if (rc) goto cleanup;
    const char *sname = loupe_study_name(study);

    int status = loupe_study_get_trial(study, number, &list);
    if (status == LOUPE_ENOTFOUND) {
        rc = cli_fail(ctx, "Cannot tell for trial with number %lld since it has not been created. "
                           "`loupe trials --study-name '%s'` lists the trials.",
                      number, sname);
        goto cleanup;
    } else if (status != LOUPE_OK) {
        rc = cli_fail_status(ctx, status, loupe_storage_errmsg(st), "Cannot read trial %lld of study '%s'", number, sname);
        goto cleanup;
    }
    const loupe_frozen_trial *ft = loupe_trial_list_at(list, 0);
    if (loupe_trial_state_is_finished(ft->state) && cli_arg_count(args, "--skip-if-finished")) {
        loupe__buf had = {0};
        values_repr(&had, ft->values, ft->n_values, ft->values != NULL);
        cli_log(ctx, CLI_LOG_INFO,
                "Skipped telling trial %lld with values %s and state %s since trial was already finished. "
                "Finished trial has values %s and state %s.",
                number, vrepr.data, state_repr(given_state), had.data, state_repr((int)ft->state));
        loupe__buf_free(&had);
        goto cleanup;
    }
    if (ft->state != LOUPE_RUNNING) {
        rc = cli_fail(ctx, "Cannot tell a %s trial.%s", loupe_trial_state_name(ft->state),
                      loupe_trial_state_is_finished(ft->state)
                          ? " It has already finished; pass --skip-if-finished to ignore finished trials."
                          : " Only RUNNING trials can be told; `loupe ask` starts the WAITING ones.");
        goto cleanup;
    }
    /* Study.tell's rules. */
    if (state == LOUPE_COMPLETE && !vtext) {
        rc = cli_usage_error(ctx, "No values were told. Values are required when state is TrialState.COMPLETE: add "
                                  "--values V [V ...].");
        goto cleanup;
    }
    if ((state == LOUPE_PRUNED || state == LOUPE_FAIL) && vtext) {
        rc = cli_usage_error(ctx, "Values were told. Values cannot be specified when state is TrialState.PRUNED or "
                                  "TrialState.FAIL: drop --values.");
        goto cleanup;
    }
    size_t n_obj = loupe_study_n_objectives(study);
    if (state == LOUPE_COMPLETE) {
        why = infeasible(values, n_values, n_obj);
        if (why) {
            rc = cli_fail(ctx, "%s. Give one non-NaN value per objective of study '%s' (%zu).", why, sname, n_obj);
            goto cleanup;
        }
    } else if (state < 0) {
        why = vtext ? infeasible(values, n_values, n_obj) : cli_xstrdup("The value None could not be cast to float.");
        if (why) {
            /* Optuna fails the trial and warns. */
            cli_log(ctx, CLI_LOG_WARNING, "%s", why);
            state = LOUPE_FAIL;
            n_values = 0;
        } else {
            state = LOUPE_COMPLETE;
        }
    }
    if (state != LOUPE_COMPLETE) n_values = 0;
    status = loupe_study_tell(study, number, (loupe_trial_state)state, n_values, n_values ? values : NULL,
                              LOUPE_TELL_DEFAULT);
    if (status == LOUPE_EFINISHED && cli_arg_count(args, "--skip-if-finished")) {
        cli_log(ctx, CLI_LOG_INFO, "Skipped telling trial %lld since another process finished it first.", number);
    } else if (status != LOUPE_OK) {
        rc = cli_fail_status(ctx, status, loupe_storage_errmsg(st), "Cannot tell trial %lld of study '%s'", number, sname);
    } else {
        cli_log(ctx, CLI_LOG_INFO, "Told trial %lld with values %s and state %s.", number, vrepr.data,
                state_repr(given_state));
    }
cleanup:
    free(why);
    loupe__buf_free(&vrepr);
    free(values);
    if (list) loupe_trial_list_free(list);
    if (study) loupe_study_close(study);
    loupe_storage_close(st);
    return rc;
}

static const char *const state_choices[] = {"complete", "pruned", "fail", NULL};

static const cli_option tell_options[] = {
    {"--study-name", 0, CLI_OPT_VALUE, "NAME", NULL, NULL, 0, "Name of the study (may be omitted when the storage has one study)."},
    {"--trial-number", 0, CLI_OPT_VALUE, "N", NULL, NULL, 1, "Trial number."},
    {"--values", 0, CLI_OPT_LIST, "V", NULL, NULL, 0, "Objective values, one per objective."},
    {"--state", 0, CLI_OPT_VALUE, NULL, state_choices, NULL, 0,
     "Trial state. Without it the trial is COMPLETE when --values fit the study, else FAIL (with a warning)."},
    {"--skip-if-finished", 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0,
     "If the trial has already finished, succeed without changing it."},
    {NULL, 0, CLI_OPT_FLAG, NULL, NULL, NULL, 0, NULL},
};

const cli_command cli_cmd_tell = {
    "tell",
    "Finish a trial, which was created by the ask command.",
    "Tells the trial's values and state, as Study.tell does. Prints nothing on stdout.\n\n"
    "  example: loupe tell --storage sqlite:///example.db --study-name demo --trial-number 0 --values 0.25",
    tell_options,
    1,
    run_tell,
};
