/* The registry read back from C: a module published to the test registry (MLREEF_TEST_REGISTRY,
 * host:port), then listed (mlreef_registry_list), inspected from its labels
 * (mlreef_image_inspect) and pulled into a layout byte for byte (mlreef_pull) with progress; a
 * missing tag gives the registry's HTTP status, a cancelled pull names nothing. Built and run
 * by mlreef-ffi/tests/c_api.rs, which passes an empty folder to write in as argv[3]. Prints
 * "ok N checks" and exits 0, or names the failed check. */
#include "mlreef.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

struct fetched {
    int events;
    uint64_t last_done;
    int64_t last_total;
    int cancel;
};

static int on_progress(void *user_data, const char *stage, uint64_t done, int64_t total, const char *detail) {
    (void)detail;
    struct fetched *fetched = user_data;
    if (strcmp(stage, "fetch") == 0) {
        fetched->events++;
        fetched->last_done = done;
        fetched->last_total = total;
        return fetched->cancel && done > 0;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_registry FIXTURES_DIR MODULE_REPO SCRATCH_DIR\n");
        return 2;
    }
    const char *registry = getenv("MLREEF_TEST_REGISTRY");
    if (registry == NULL || registry[0] == '\0') {
        fprintf(stderr, "MLREEF_TEST_REGISTRY is not set: the test harness starts a registry\n");
        return 2;
    }
    const char *scratch = argv[3];
    char repo[2048];
    snprintf(repo, sizeof repo, "%s/classifier", scratch);
    mkdir(repo, 0755);
    char path[4096];
    snprintf(path, sizeof path, "%s/train.py", repo);
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "cannot write %s\n", path);
        return 2;
    }
    fputs("import argparse\n"
          "p = argparse.ArgumentParser()\n"
          "p.add_argument('--epochs', type=int, default=3)\n"
          "p.parse_args()\n",
          file);
    fclose(file);

    char repository[1024];
    snprintf(repository, sizeof repository, "%s/c/catalogue-%ld", registry, (long)getpid());
    char options[8192];
    snprintf(options, sizeof options,
             "{\"base\": \"scratch\", \"python\": \"3.11\", \"push\": \"%s:1\", \"cache\": \"%s/cache\", "
             "\"source_date_epoch\": 0}",
             repository, scratch);
    char *out = NULL;
    mlreef_error *error = NULL;
    CHECK(mlreef_publish(repo, LEN(repo), options, LEN(options), NULL, NULL, &out, &error) == MLREEF_OK);
    /* "sha256:" and 64 hex digits, quoted */
    char digest[80] = "";
    const char *at = out ? strstr(out, "\"digest\":\"") : NULL;
    if (at != NULL) {
        snprintf(digest, sizeof digest, "\"%.71s\"", at + strlen("\"digest\":\""));
    }
    CHECK(strlen(digest) == 73);
    mlreef_string_free(out);
    out = NULL;

    char read_options[4096];
    snprintf(read_options, sizeof read_options, "{\"cache\": \"%s/reader\"}", scratch);

    /* listed: the tag, its digest and its module */
    CHECK(mlreef_registry_list(repository, LEN(repository), read_options, LEN(read_options), &out, &error) ==
          MLREEF_OK);
    CHECK(contains(out, "\"tag\":\"1\"") && contains(out, digest));
    CHECK(contains(out, "\"name\":\"classifier\"") && contains(out, "\"parameters\":1"));
    mlreef_string_free(out);
    out = NULL;

    /* inspected from its labels */
    char image[1200];
    snprintf(image, sizeof image, "docker://%s:1", repository);
    CHECK(mlreef_image_inspect(image, LEN(image), read_options, LEN(read_options), &out, &error) == MLREEF_OK);
    CHECK(contains(out, digest) && contains(out, "\"module\":{\"name\":\"classifier\""));
    mlreef_string_free(out);
    out = NULL;

    /* pulled into a layout, with progress: the layout has the registry's digest */
    char layout[4096];
    snprintf(layout, sizeof layout, "oci:%s/layout:pulled", scratch);
    struct fetched fetched = {0, 0, 0, 0};
    CHECK(mlreef_pull(image, LEN(image), layout, LEN(layout), read_options, LEN(read_options), on_progress, &fetched,
                      &out, &error) == MLREEF_OK);
    CHECK(contains(out, digest) && contains(out, "\"platforms\":[\"linux/amd64\"]"));
    CHECK(fetched.events >= 2 && fetched.last_total > 0 && fetched.last_done == (uint64_t)fetched.last_total);
    mlreef_string_free(out);
    out = NULL;
    CHECK(mlreef_image_inspect(layout, LEN(layout), NULL, 0, &out, &error) == MLREEF_OK);
    CHECK(contains(out, digest));
    mlreef_string_free(out);
    out = NULL;

    /* a tag that is not there: the registry's status */
    snprintf(image, sizeof image, "%s:2", repository);
    CHECK(mlreef_image_inspect(image, LEN(image), read_options, LEN(read_options), &out, &error) ==
          MLREEF_ERROR_REGISTRY);
    CHECK(out == NULL && mlreef_error_http_status(error) == 404);
    CHECK(contains(mlreef_error_message(error), "has no image `2`"));
    mlreef_error_free(error);
    error = NULL;

    /* a cancelled pull (from an empty cache) names nothing */
    snprintf(image, sizeof image, "%s:1", repository);
    snprintf(layout, sizeof layout, "oci:%s/cancelled:x", scratch);
    char fresh[4096];
    snprintf(fresh, sizeof fresh, "{\"cache\": \"%s/fresh\"}", scratch);
    struct fetched cancel = {0, 0, 0, 1};
    CHECK(mlreef_pull(image, LEN(image), layout, LEN(layout), fresh, LEN(fresh), on_progress, &cancel, &out, &error) ==
          MLREEF_ERROR_CANCELLED);
    mlreef_error_free(error);
    error = NULL;
    snprintf(path, sizeof path, "%s/cancelled/index.json", scratch);
    CHECK(!exists(path));

    /* option and argument errors */
    const char *bad_platform = "{\"platform\": \"not a platform\"}";
    CHECK(mlreef_pull(image, LEN(image), layout, LEN(layout), bad_platform, LEN(bad_platform), NULL, NULL, &out,
                      &error) == MLREEF_ERROR_INVALID_JSON);
    CHECK(contains(mlreef_error_message(error), "options.platform"));
    mlreef_error_free(error);
    error = NULL;
    const char *not_a_repository = "oci:/tmp/somewhere";
    CHECK(mlreef_registry_list(not_a_repository, LEN(not_a_repository), NULL, 0, &out, &error) ==
          MLREEF_ERROR_IMAGE);
    CHECK(mlreef_error_http_status(error) == 0);
    mlreef_error_free(error);
    error = NULL;

    return checks_done();
}
