/* mlreef_build from C: an image written to an OCI layout with progress, the same digest again,
 * a cancel that writes nothing, and the 6xx result codes (a corrupted base, a requirement
 * without a wheel, an output that is a registry). Built and run by mlreef-ffi/tests/c_api.rs,
 * which passes an empty folder to write in as argv[3]. Prints "ok N checks" and exits 0, or
 * names the failed check. */
#include "mlreef.h"
#include "check.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char scratch[1024];
static char repo[2048];

static int contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

static int exists(const char *path) {
    struct stat info;
    return stat(path, &info) == 0;
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fputs(text, file);
    fclose(file);
}

/* Appends a byte to every blob of the layout `dir`, so that none matches its digest. */
static int corrupt_blobs(const char *dir) {
    char blobs[4096];
    snprintf(blobs, sizeof blobs, "%s/blobs/sha256", dir);
    DIR *listing = opendir(blobs);
    if (listing == NULL) {
        return 0;
    }
    int corrupted = 0;
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL) {
        if (entry->d_name[0] == '.') {
            continue;
        }
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", blobs, entry->d_name);
        FILE *file = fopen(path, "ab");
        if (file != NULL) {
            fputc('x', file);
            fclose(file);
            corrupted++;
        }
    }
    closedir(listing);
    return corrupted;
}

static const char *cancel_at = NULL;
static int layer_events = 0;
static int stages_seen = 0;
static int on_progress(void *user_data, const char *stage, uint64_t done, int64_t total, const char *detail) {
    (void)done;
    (void)detail;
    int *calls = user_data;
    (*calls)++;
    stages_seen++;
    if (strcmp(stage, "layer") == 0 && total >= 0) {
        layer_events++;
    }
    return cancel_at != NULL && strcmp(stage, cancel_at) == 0;
}

static const char *TRAIN =
    "import argparse\n"
    "p = argparse.ArgumentParser()\n"
    "p.add_argument('--epochs', type=int, default=3)\n"
    "p.parse_args()\n";

/* `{"base": BASE, "output": "oci:SCRATCH/NAME", "cache": ..., "source_date_epoch": 0}` plus
 * `extra` (which starts with a comma, or is empty). */
static void build_options(char *options, size_t size, const char *base, const char *output, const char *extra) {
    snprintf(options, size,
             "{\"base\": \"%s\", \"output\": \"%s\", \"cache\": \"%s/cache\", \"source_date_epoch\": 0%s}",
             base, output, scratch, extra);
}

static char *digest_of(const char *json) {
    const char *at = strstr(json, "\"digest\":\"sha256:");
    if (at == NULL) {
        return NULL;
    }
    at += strlen("\"digest\":\"");
    char *digest = malloc(72);
    if (digest != NULL) {
        snprintf(digest, 72, "%.71s", at);
    }
    return digest;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_build FIXTURES_DIR MODULE_REPO SCRATCH_DIR\n");
        return 2;
    }
    snprintf(scratch, sizeof scratch, "%s", argv[3]);
    snprintf(repo, sizeof repo, "%s/classifier", scratch);
    mkdir(repo, 0755);
    write_file(repo, "train.py", TRAIN);
    write_file(repo, ".env", "TOKEN=not-in-the-image\n");
    char *out = NULL;
    mlreef_error *error = NULL;
    char options[16384];
    char output[4096];
    int calls = 0;

    /* built, with progress: the layer bytes are reported, the secret left out */
    snprintf(output, sizeof output, "oci:%s/images:v1", scratch);
    build_options(options, sizeof options, "scratch", output, "");
    CHECK(mlreef_build(repo, LEN(repo), options, LEN(options), on_progress, &calls, &out, &error) == MLREEF_OK);
    CHECK(error == NULL && contains(out, "\"reference\":\"oci:") && contains(out, ":v1\""));
    CHECK(contains(out, "\"role\":\"code\"") && contains(out, "{\"path\":\".env\",\"reason\":\"secret\"}"));
    CHECK(calls == stages_seen && layer_events > 0);
    char *first = out ? digest_of(out) : NULL;
    CHECK(first != NULL);
    mlreef_string_free(out);
    out = NULL;

    /* the same inputs give the same digest, here as a docker-archive, without progress */
    snprintf(output, sizeof output, "docker-archive:%s/module.tar:team/classifier:1", scratch);
    build_options(options, sizeof options, "scratch", output, "");
    CHECK(mlreef_build(repo, LEN(repo), options, LEN(options), NULL, NULL, &out, &error) == MLREEF_OK);
    char *second = out ? digest_of(out) : NULL;
    CHECK(first != NULL && second != NULL && strcmp(first, second) == 0);
    free(second);
    mlreef_string_free(out);
    out = NULL;

    /* a cancel at "write" writes nothing */
    cancel_at = "write";
    snprintf(output, sizeof output, "oci:%s/cancelled", scratch);
    build_options(options, sizeof options, "scratch", output, "");
    CHECK(mlreef_build(repo, LEN(repo), options, LEN(options), on_progress, &calls, &out, &error) == MLREEF_ERROR_CANCELLED);
    CHECK(out == NULL && mlreef_error_code(error) == MLREEF_ERROR_CANCELLED);
    mlreef_error_free(error);
    error = NULL;
    cancel_at = NULL;
    char cancelled_index[2048];
    snprintf(cancelled_index, sizeof cancelled_index, "%s/cancelled/index.json", scratch);
    CHECK(!exists(cancelled_index));

    /* a base whose blobs do not match their digests */
    char layout[2048];
    snprintf(layout, sizeof layout, "%s/images", scratch);
    CHECK(corrupt_blobs(layout) >= 3);
    char base[4096];
    snprintf(base, sizeof base, "oci:%s:v1", layout);
    snprintf(output, sizeof output, "oci:%s/on-corrupt", scratch);
    build_options(options, sizeof options, base, output, "");
    CHECK(mlreef_build(repo, LEN(repo), options, LEN(options), NULL, NULL, &out, &error) == MLREEF_ERROR_DIGEST_MISMATCH);
    CHECK(out == NULL && contains(mlreef_error_message(error), "not the expected sha256:"));
    mlreef_error_free(error);
    error = NULL;

    /* a registry is not an output of a build; a missing layout is not found */
    build_options(options, sizeof options, "scratch", "docker://127.0.0.1:9/team/classifier:1", "");
    CHECK(mlreef_build(repo, LEN(repo), options, LEN(options), NULL, NULL, &out, &error) == MLREEF_ERROR_IMAGE);
    CHECK(contains(mlreef_error_message(error), "mlreef publish"));
    mlreef_error_free(error);
    error = NULL;
    snprintf(base, sizeof base, "oci:%s/missing:v1", scratch);
    build_options(options, sizeof options, base, output, "");
    CHECK(mlreef_build(repo, LEN(repo), options, LEN(options), NULL, NULL, &out, &error) == MLREEF_ERROR_NOT_FOUND);
    mlreef_error_free(error);
    error = NULL;

    /* a requirement that has only an sdist: named, with the platform */
    write_file(repo, "requirements.txt", "docopt==0.6.2\n");
    build_options(options, sizeof options, "scratch", output, ", \"python\": \"3.11\"");
    CHECK(mlreef_build(repo, LEN(repo), options, LEN(options), NULL, NULL, &out, &error) == MLREEF_ERROR_NO_WHEEL);
    CHECK(contains(mlreef_error_message(error), "`docopt==0.6.2` has no wheel for linux/amd64"));
    mlreef_error_free(error);
    error = NULL;

    /* option errors: unknown keys, a bad reference, a bad platform */
    const char *unknown = "{\"bsae\": \"scratch\"}";
    CHECK(mlreef_build(repo, LEN(repo), unknown, LEN(unknown), NULL, NULL, &out, &error) == MLREEF_ERROR_INVALID_JSON);
    CHECK(contains(mlreef_error_message(error), "bsae"));
    mlreef_error_free(error);
    error = NULL;
    const char *transport = "{\"base\": \"dir:/srv/base\"}";
    CHECK(mlreef_build(repo, LEN(repo), transport, LEN(transport), NULL, NULL, &out, &error) == MLREEF_ERROR_INVALID_JSON);
    CHECK(contains(mlreef_error_message(error), "options.base"));
    mlreef_error_free(error);
    error = NULL;
    const char *platform = "{\"platforms\": [\"linux/sparc\"]}";
    CHECK(mlreef_build(repo, LEN(repo), platform, LEN(platform), NULL, NULL, &out, &error) == MLREEF_ERROR_INVALID_JSON);
    CHECK(contains(mlreef_error_message(error), "options.platforms"));
    mlreef_error_free(error);
    error = NULL;
    CHECK(mlreef_build(NULL, 0, NULL, 0, NULL, NULL, &out, &error) == MLREEF_ERROR_NULL_POINTER);
    mlreef_error_free(error);
    error = NULL;

    free(first);
    return checks_done();
}
