/* mlreef_pipeline_init from C: created, unchanged, checked, out of date, updated, cancelled,
 * refused (a broken file stays as it is), and its argument errors. Built and run by
 * mlreef-ffi/tests/c_api.rs, which passes an empty folder to write in as argv[3]. Prints
 * "ok N checks" and exits 0, or names the failed check. */
#include "mlreef.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char repo[2048];

static int contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

static void write_file(const char *name, const char *text) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", repo, name);
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fputs(text, file);
    fclose(file);
}

/* The file's text (malloc'ed), or NULL when it cannot be read. */
static char *read_file(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", repo, name);
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return NULL;
    }
    char *text = NULL;
    long size = -1;
    if (fseek(file, 0, SEEK_END) == 0) {
        size = ftell(file);
    }
    if (size >= 0 && fseek(file, 0, SEEK_SET) == 0) {
        text = malloc((size_t)size + 1);
    }
    if (text != NULL) {
        size_t got = fread(text, 1, (size_t)size, file);
        text[got] = '\0';
    }
    fclose(file);
    return text;
}

static const char *cancel_at = NULL;
static int stages_seen = 0;
static int on_progress(void *user_data, const char *stage, uint64_t done, int64_t total, const char *detail) {
    (void)user_data;
    (void)done;
    (void)total;
    (void)detail;
    stages_seen++;
    return cancel_at != NULL && strcmp(stage, cancel_at) == 0;
}

static const char *TRAIN =
    "import argparse\n"
    "p = argparse.ArgumentParser()\n"
    "p.add_argument('--input-path', required=True)\n"
    "p.add_argument('--output-path', default='out')\n"
    "p.add_argument('--epochs', type=int, default=3)\n"
    "p.parse_args()\n";

static const char *TRAIN_WITH_SEED =
    "import argparse\n"
    "p = argparse.ArgumentParser()\n"
    "p.add_argument('--input-path', required=True)\n"
    "p.add_argument('--output-path', default='out')\n"
    "p.add_argument('--epochs', type=int, default=3)\n"
    "p.add_argument('--seed', type=int, default=1)\n"
    "p.parse_args()\n";

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_init FIXTURES_DIR MODULE_REPO SCRATCH_DIR\n");
        return 2;
    }
    snprintf(repo, sizeof repo, "%s", argv[3]);
    char *out = NULL;
    mlreef_error *error = NULL;
    write_file("train.py", TRAIN);
    write_file("requirements.txt", "numpy==1.26.4\n");

    /* created, with progress; then unchanged, twice (write and check) */
    stages_seen = 0;
    CHECK(mlreef_pipeline_init(repo, LEN(repo), NULL, 0, on_progress, NULL, &out, &error) == MLREEF_OK);
    CHECK(error == NULL && contains(out, "\"status\":\"created\""));
    CHECK(contains(out, "\"text\":\"") && contains(out, "\"changes\":[]"));
    CHECK(stages_seen >= 2);
    mlreef_string_free(out);
    char *written = read_file("mlreef.yml");
    CHECK(contains(written, "mlreef-run") && contains(written, "--epochs"));
    CHECK(mlreef_pipeline_init(repo, LEN(repo), NULL, 0, NULL, NULL, &out, &error) == MLREEF_OK);
    CHECK(contains(out, "\"status\":\"unchanged\""));
    mlreef_string_free(out);
    const char *check = "{\"check\": true}";
    CHECK(mlreef_pipeline_init(repo, LEN(repo), check, LEN(check), NULL, NULL, &out, &error) == MLREEF_OK);
    CHECK(contains(out, "\"status\":\"unchanged\""));
    mlreef_string_free(out);

    /* the code changes: check reports it and writes nothing; a cancel at "write" writes nothing */
    write_file("train.py", TRAIN_WITH_SEED);
    CHECK(mlreef_pipeline_init(repo, LEN(repo), check, LEN(check), NULL, NULL, &out, &error) == MLREEF_OK);
    CHECK(contains(out, "\"status\":\"out_of_date\"") && contains(out, "parameter `seed` added"));
    mlreef_string_free(out);
    cancel_at = "write";
    CHECK(mlreef_pipeline_init(repo, LEN(repo), NULL, 0, on_progress, NULL, &out, &error) == MLREEF_ERROR_CANCELLED);
    CHECK(out == NULL && mlreef_error_code(error) == MLREEF_ERROR_CANCELLED);
    mlreef_error_free(error);
    error = NULL;
    cancel_at = NULL;
    char *after = read_file("mlreef.yml");
    CHECK(written != NULL && after != NULL && strcmp(written, after) == 0);
    free(after);

    /* updated, with the chosen publish image */
    const char *image = "{\"mlreef_image\": \"registry.example.org/mlreef:9\"}";
    CHECK(mlreef_pipeline_init(repo, LEN(repo), image, LEN(image), NULL, NULL, &out, &error) == MLREEF_OK);
    CHECK(contains(out, "\"status\":\"updated\"") && contains(out, "parameter `seed` added"));
    mlreef_string_free(out);
    after = read_file("mlreef.yml");
    CHECK(contains(after, "registry.example.org/mlreef:9") && contains(after, "seed"));
    free(after);

    /* a broken file is refused with its line, and left as it is */
    write_file("mlreef.yml", "stages: [publish\n");
    CHECK(mlreef_pipeline_init(repo, LEN(repo), NULL, 0, NULL, NULL, &out, &error) == MLREEF_ERROR_PIPELINE);
    CHECK(out == NULL && mlreef_error_line(error) == 2 && contains(mlreef_error_message(error), "mlreef.yml:2:"));
    mlreef_error_free(error);
    error = NULL;
    after = read_file("mlreef.yml");
    CHECK(after != NULL && strcmp(after, "stages: [publish\n") == 0);
    free(after);

    /* argument errors: unknown option keys, bad JSON, NULL, a missing repository */
    const char *unknown = "{\"chek\": true}";
    CHECK(mlreef_pipeline_init(repo, LEN(repo), unknown, LEN(unknown), NULL, NULL, &out, &error) == MLREEF_ERROR_INVALID_JSON);
    CHECK(contains(mlreef_error_message(error), "chek"));
    mlreef_error_free(error);
    error = NULL;
    const char *not_json = "{\"check\": tru";
    CHECK(mlreef_pipeline_init(repo, LEN(repo), not_json, LEN(not_json), NULL, NULL, &out, &error) == MLREEF_ERROR_INVALID_JSON);
    CHECK(mlreef_error_line(error) == 1 && mlreef_error_column(error) > 0);
    mlreef_error_free(error);
    error = NULL;
    CHECK(mlreef_pipeline_init(NULL, 0, NULL, 0, NULL, NULL, &out, &error) == MLREEF_ERROR_NULL_POINTER);
    mlreef_error_free(error);
    error = NULL;
    CHECK(mlreef_pipeline_init(repo, LEN(repo), NULL, 0, NULL, NULL, NULL, &error) == MLREEF_ERROR_NULL_POINTER);
    mlreef_error_free(error);
    error = NULL;
    const char *missing = "/nonexistent/mlreef-repo";
    CHECK(mlreef_pipeline_init(missing, LEN(missing), NULL, 0, NULL, NULL, &out, &error) == MLREEF_ERROR_NOT_FOUND);
    mlreef_error_free(error);
    error = NULL;

    free(written);
    return checks_done();
}
