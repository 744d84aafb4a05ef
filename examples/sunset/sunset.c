/*
 * sunset.c -- the human-in-the-loop tutorial's generator in C: keeps a batch of
 * trials RUNNING, each with a 320x240 PNG of its r, g, b params uploaded as an
 * artifact and a Markdown note showing it, for a person to rate in the dashboard
 * ("Looks like sunset color?": Good -1 / So-so 0 / Bad 1, minimized by TPE with
 * constant liar). Uses only the public API of libloupe, plus libpng.
 */
#include <errno.h>
#include <getopt.h>
#include <png.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <loupe.h>

typedef struct options {
    const char *storage_url;
    const char *artifact_dir;
    const char *study_name;
    int batch;
    long max_trials; /* stop after creating this many trials in this run (0: never) */
    int has_seed;
    unsigned long long seed;
    int quiet;
} options;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: sunset [options]\n"
            "Keeps a batch of trials RUNNING, each with a PNG of its colour and a note, for a\n"
            "person to rate with `loupe dashboard STORAGE --artifact-dir DIR`.\n\n"
            "  --storage URL       storage (default sqlite:///db.sqlite3)\n"
            "  --artifact-dir DIR  where images are stored (default ./artifact; created if missing)\n"
            "  --study-name NAME   study (default \"Human-in-the-loop Optimization\")\n"
            "  --batch N           trials kept RUNNING (default 4)\n"
            "  --max-trials N      stop after creating N trials (default: run until Ctrl-C)\n"
            "  --seed N            seed the sampler (default: from the clock)\n"
            "  --quiet             print nothing but errors\n"
            "  --help\n");
}

static int parse_options(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"storage", required_argument, NULL, 's'},    {"artifact-dir", required_argument, NULL, 'a'},
        {"study-name", required_argument, NULL, 'n'}, {"batch", required_argument, NULL, 'b'},
        {"max-trials", required_argument, NULL, 'm'}, {"seed", required_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},            {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    o->storage_url = "sqlite:///db.sqlite3";
    o->artifact_dir = "artifact";
    o->study_name = "Human-in-the-loop Optimization";
    o->batch = 4;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->storage_url = optarg; break;
        case 'a': o->artifact_dir = optarg; break;
        case 'n': o->study_name = optarg; break;
        case 'b':
            o->batch = (int)strtol(optarg, &end, 10);
            if (*end || o->batch < 1 || o->batch > 1000) {
                fprintf(stderr, "sunset: --batch must be an integer from 1 to 1000, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'm':
            o->max_trials = strtol(optarg, &end, 10);
            if (*end || o->max_trials < 1) {
                fprintf(stderr, "sunset: --max-trials must be a positive integer, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'S':
            o->seed = strtoull(optarg, &end, 10);
            if (*end) {
                fprintf(stderr, "sunset: --seed must be a non-negative integer, not '%s'\n", optarg);
                return 2;
            }
            o->has_seed = 1;
            break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sunset: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return 0;
}

/* A 320x240 PNG filled with one colour, in memory (caller frees *png). */
static int render_png(int r, int g, int b, void **png, size_t *len) {
    enum { W = 320, H = 240 };
    unsigned char *pixels = malloc((size_t)W * H * 3);
    if (!pixels) return -1;
    for (size_t i = 0; i < (size_t)W * H; i++) {
        pixels[3 * i] = (unsigned char)r;
        pixels[3 * i + 1] = (unsigned char)g;
        pixels[3 * i + 2] = (unsigned char)b;
    }
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = W;
    image.height = H;
    image.format = PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    int rc = -1;
    if (png_image_write_to_memory(&image, NULL, &size, 0, pixels, 0, NULL) && size > 0) {
        *png = malloc(size);
        if (*png && png_image_write_to_memory(&image, *png, &size, 0, pixels, 0, NULL)) {
            *len = size;
            rc = 0;
        } else {
            free(*png);
            *png = NULL;
        }
    }
    png_image_free(&image);
    free(pixels);
    return rc;
}

/* Writes the trial's note showing its image: "## Trial N" and the image link,
 * as the tutorial's note. */
static int write_note(loupe_study *study, loupe_trial *trial, const char *artifact_id) {
    char path[160], note[256];
    if (loupe_artifact_path(loupe_study_id(study), loupe_trial_id(trial), artifact_id, path, sizeof path) < 0) {
        fprintf(stderr, "sunset: '%s' is not an artifact id\n", artifact_id);
        return -1;
    }
    snprintf(note, sizeof note, "## Trial %lld\n\n![generated-image](%s)\n",
             (long long)loupe_trial_number(trial), path);
    if (loupe_note_save(study, loupe_trial_id(trial), LOUPE_NOTE_ANY_VERSION, note, NULL, NULL)) {
        fprintf(stderr, "sunset: saving the note of trial %lld failed: %s\n",
                (long long)loupe_trial_number(trial), loupe_study_errmsg(study));
        return -1;
    }
    return 0;
}

/* Renders the trial's colour, uploads it and writes the note (the trial's
 * params must be suggested). Nothing is left half-written: the artifact's
 * metadata is recorded only after its bytes are in place, and the note last,
 * so a trial with a note is a complete candidate. */
static int publish(loupe_artifact_store *store, loupe_study *study, loupe_trial *trial, int r, int g,
                   int b) {
    void *png = NULL;
    size_t len = 0;
    if (render_png(r, g, b, &png, &len)) {
        fprintf(stderr, "sunset: could not encode the PNG (out of memory?)\n");
        return -1;
    }
    char filename[64], id[37];
    snprintf(filename, sizeof filename, "sample-%lld.png", (long long)loupe_trial_number(trial));
    int rc = loupe_artifact_upload_buffer(store, study, trial, filename, png, len, "image/png", NULL, id);
    free(png);
    if (rc) {
        fprintf(stderr, "sunset: uploading the image of trial %lld failed: %s\n",
                (long long)loupe_trial_number(trial), loupe_study_errmsg(study));
        return -1;
    }
    return write_note(study, trial, id);
}

static int suggest_rgb(loupe_trial *trial, int64_t rgb[3]) {
    const char *names[3] = {"r", "g", "b"};
    for (int i = 0; i < 3; i++)
        if (loupe_trial_suggest_int(trial, names[i], 0, 255, 1, 0, &rgb[i])) return -1;
    return 0;
}

/* Asks a new trial and publishes its image and note. */
static int suggest_and_generate_image(loupe_study *study, loupe_artifact_store *store, int quiet) {
    loupe_trial *trial;
    if (loupe_study_ask(study, &trial)) {
        fprintf(stderr, "sunset: ask failed: %s\n", loupe_study_errmsg(study));
        return -1;
    }
    int64_t rgb[3];
    /* Store the params at once: a crash while rendering or uploading then
     * leaves a trial that the next start finishes instead of failing it. */
    int rc = suggest_rgb(trial, rgb);
    if (rc == 0) rc = loupe_trial_flush(trial);
    if (rc) fprintf(stderr, "sunset: suggest failed: %s\n", loupe_trial_errmsg(trial));
    if (rc == 0) rc = publish(store, study, trial, (int)rgb[0], (int)rgb[1], (int)rgb[2]);
    if (rc == 0 && !quiet)
        printf("trial %lld: r=%lld g=%lld b=%lld\n", (long long)loupe_trial_number(trial),
               (long long)rgb[0], (long long)rgb[1], (long long)rgb[2]);
    if (rc) loupe_trial_tell(trial, LOUPE_FAIL, 0, NULL, LOUPE_TELL_SKIP_IF_FINISHED);
    loupe_trial_free(trial);
    fflush(stdout);
    return rc;
}

/* After a crash (kill -9) a RUNNING trial may lack its image or note. The
 * writes happen in this order: ask (trial row), params, upload (artifact
 * metadata, after the blob is in place), note. So: no params -> fail the
 * trial (nothing to show); params but no image -> render and publish it;
 * image but no note -> write the note. The person's queue then
 * holds only complete candidates. Run one generator per study: a second
 * generator's trial that is being published right now would look interrupted. */
static int repair_running_trials(loupe_study *study, loupe_artifact_store *store, int quiet) {
    loupe_trial_list *list;
    if (loupe_study_get_trials(study, LOUPE_STATE_BIT(LOUPE_RUNNING), &list)) {
        fprintf(stderr, "sunset: reading trials failed: %s\n", loupe_study_errmsg(study));
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < loupe_trial_list_count(list) && rc == 0; i++) {
        const loupe_frozen_trial *ft = loupe_trial_list_at(list, i);
        loupe_artifact_list *arts = NULL;
        if (loupe_artifact_list_get(study, ft, &arts)) {
            fprintf(stderr, "sunset: reading the artifacts of trial %lld failed: %s\n", (long long)ft->number,
                    loupe_study_errmsg(study));
            rc = -1;
            break;
        }
        int64_t version = 0;
        char *body = NULL;
        if (loupe_note_get(study, ft->trial_id, &version, &body)) {
            fprintf(stderr, "sunset: reading the note of trial %lld failed: %s\n", (long long)ft->number,
                    loupe_study_errmsg(study));
            loupe_artifact_list_free(arts);
            rc = -1;
            break;
        }
        loupe_free(body);
        size_t n_arts = loupe_artifact_list_count(arts);
        if (n_arts > 0 && version > 0) { /* complete: waiting for its rating */
            loupe_artifact_list_free(arts);
            continue;
        }
        loupe_trial *trial;
        if (loupe_study_trial(study, ft->number, &trial)) {
            fprintf(stderr, "sunset: opening trial %lld failed: %s\n", (long long)ft->number,
                    loupe_study_errmsg(study));
            loupe_artifact_list_free(arts);
            rc = -1;
            break;
        }
        const loupe_param *p[3] = {loupe_frozen_trial_param(ft, "r"), loupe_frozen_trial_param(ft, "g"),
                                   loupe_frozen_trial_param(ft, "b")};
        const char *how;
        if (!(p[0] && p[1] && p[2])) {
            how = "failed: interrupted before its params were stored";
            rc = loupe_trial_set_user_attr(trial, "sunset:failed", "\"interrupted before its image was stored\"");
            if (rc == 0) rc = loupe_trial_tell(trial, LOUPE_FAIL, 0, NULL, LOUPE_TELL_SKIP_IF_FINISHED);
            if (rc) fprintf(stderr, "sunset: failing trial %lld failed: %s\n", (long long)ft->number,
                            loupe_trial_errmsg(trial));
        } else if (n_arts == 0) {
            how = "image and note written after a restart";
            rc = publish(store, study, trial, (int)p[0]->internal, (int)p[1]->internal, (int)p[2]->internal);
        } else {
            how = "note written after a restart";
            rc = write_note(study, trial, loupe_artifact_list_at(arts, 0)->artifact_id);
        }
        if (rc == 0 && !quiet) printf("trial %lld: %s\n", (long long)ft->number, how);
        loupe_trial_free(trial);
        loupe_artifact_list_free(arts);
    }
    loupe_trial_list_free(list);
    fflush(stdout);
    return rc ? -1 : 0;
}

static int setup_study(loupe_storage *storage, const options *o, loupe_study **out) {
    loupe_direction dir = LOUPE_MINIMIZE;
    loupe_study *study = NULL;
    if (loupe_study_create(storage, o->study_name, 1, &dir, LOUPE_LOAD_IF_EXISTS, &study)) {
        fprintf(stderr, "sunset: %s\n", loupe_storage_errmsg(storage));
        return -1;
    }
    loupe_tpe_options tpe;
    loupe_tpe_options_init(&tpe);
    tpe.constant_liar = 1;
    tpe.n_startup_trials = 5;
    tpe.has_seed = o->has_seed;
    tpe.seed = o->seed;
    loupe_sampler *sampler;
    if (loupe_sampler_tpe_new(&tpe, &sampler)) {
        fprintf(stderr, "sunset: could not create the TPE sampler\n");
        goto fail;
    }
    loupe_study_set_sampler(study, sampler);
    const char *metric = "Looks like sunset color?";
    if (loupe_study_set_metric_names(study, 1, &metric)) goto fail_msg;
    const char *choices[] = {"Good \xf0\x9f\x91\x8d", "So-so\xf0\x9f\x91\x8c", "Bad \xf0\x9f\x91\x8e"};
    const double values[] = {-1, 0, 1};
    loupe_form_widget w;
    memset(&w, 0, sizeof w);
    w.type = LOUPE_WIDGET_CHOICE;
    w.description = "Please input your score!";
    w.n_choices = 3;
    w.choices = choices;
    w.values = values;
    if (loupe_register_objective_form_widgets(study, 1, &w)) goto fail_msg;
    *out = study;
    return 0;
fail_msg:
    fprintf(stderr, "sunset: %s\n", loupe_study_errmsg(study));
fail:
    loupe_study_close(study);
    return -1;
}

/* Sleeps until someone else writes to the storage (a rating, usually), polling
 * its cheap data-version counter every 10 ms, or until a stop is requested.
 * (The tutorial sleeps a whole second; this way a rated trial is replaced
 * within a few tens of milliseconds.) */
static void wait_for_change(loupe_storage *storage) {
    uint64_t start = 0, now = 0;
    loupe_storage_data_version(storage, &start);
    struct timespec ts = {0, 10 * 1000000L};
    for (int i = 0; i < 100 && !stop_requested; i++) { /* re-check at least every second */
        nanosleep(&ts, NULL);
        if (loupe_storage_data_version(storage, &now) || now != start) return;
    }
}

int main(int argc, char **argv) {
    options o;
    memset(&o, 0, sizeof o);
    int rc = parse_options(argc, argv, &o);
    if (rc) return rc;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* a stop waits for the current trial; no EINTR inside SQLite */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (mkdir(o.artifact_dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "sunset: cannot create the artifact directory '%s': %s\n", o.artifact_dir,
                strerror(errno));
        return 1;
    }
    loupe_storage *storage = NULL;
    loupe_artifact_store *store = NULL;
    loupe_study *study = NULL;
    rc = 1;
    if (loupe_storage_open(o.storage_url, 0, &storage)) {
        fprintf(stderr, "sunset: %s\n", loupe_storage_errmsg(storage));
        goto cleanup;
    }
    if (loupe_artifact_store_fs_open(o.artifact_dir, &store)) {
        fprintf(stderr, "sunset: %s\n", loupe_artifact_store_errmsg(store));
        goto cleanup;
    }
    /* Blobs whose upload a crash cut short are temporary files: remove old ones. */
    size_t n_swept = 0;
    if (loupe_artifact_store_fs_sweep(store, 60, &n_swept) == LOUPE_OK && n_swept && !o.quiet)
        printf("sunset: removed %zu unfinished upload(s) left by a crash\n", n_swept);
    if (setup_study(storage, &o, &study)) goto cleanup;
    if (repair_running_trials(study, store, o.quiet)) goto cleanup;
    if (!o.quiet) {
        printf("sunset: keeping %d trials of \"%s\" RUNNING in %s (Ctrl-C stops)\n", o.batch,
               o.study_name, o.storage_url);
        fflush(stdout);
    }
    long created = 0;
    while (!stop_requested && (o.max_trials == 0 || created < o.max_trials)) {
        int64_t counts[5];
        if (loupe_study_count_trials(study, counts)) {
            fprintf(stderr, "sunset: %s\n", loupe_study_errmsg(study));
            goto cleanup;
        }
        if (counts[LOUPE_RUNNING] >= o.batch) {
            wait_for_change(storage);
            continue;
        }
        if (suggest_and_generate_image(study, store, o.quiet)) goto cleanup;
        created++;
    }
    rc = 0;
cleanup:
    loupe_study_close(study);
    loupe_artifact_store_close(store);
    loupe_storage_close(storage);
    return rc;
}
