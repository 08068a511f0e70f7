/* mlreef_publish from C: a module pushed to the test registry (MLREEF_TEST_REGISTRY, host:port)
 * with progress, the same image again sending nothing, a version that is not replaced unless
 * forced, a cancel before the tag, and option errors. Built and run by mlreef-ffi/tests/c_api.rs,
 * which passes an empty folder to write in as argv[3]. Prints "ok N checks" and exits 0, or
 * names the failed check. */
#include "mlreef.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[1024];
static char repo[2048];

static int contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

static void write_train(const char *extra) {
    char path[4096];
    snprintf(path, sizeof path, "%s/train.py", repo);
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fputs("import argparse\n"
          "p = argparse.ArgumentParser()\n"
          "p.add_argument('--epochs', type=int, default=3)\n"
          "p.parse_args()\n",
          file);
    fputs(extra, file);
    fclose(file);
}

struct seen {
    int uploads;
    int manifests;
    const char *cancel_at;
};

static int on_progress(void *user_data, const char *stage, uint64_t done, int64_t total, const char *detail) {
    (void)done;
    struct seen *seen = user_data;
    if (strcmp(stage, "upload") == 0 && total >= 0 && detail != NULL && strncmp(detail, "sha256:", 7) == 0) {
        seen->uploads++;
    }
    if (strcmp(stage, "manifest") == 0) {
        seen->manifests++;
    }
    return seen->cancel_at != NULL && strcmp(stage, seen->cancel_at) == 0;
}

/* Publishes to REGISTRY/c/test-PID:TAG with `extra` options (starting with a comma, or empty). */
static mlreef_result publish(const char *registry, const char *tag, const char *extra, struct seen *seen, char **out,
                             mlreef_error **error) {
    char options[8192];
    snprintf(options, sizeof options,
             "{\"base\": \"scratch\", \"python\": \"3.11\", \"push\": \"%s/c/test-%ld:%s\", \"cache\": \"%s/cache\", "
             "\"source_date_epoch\": 0%s}",
             registry, (long)getpid(), tag, scratch, extra);
    return mlreef_publish(repo, LEN(repo), options, LEN(options), seen ? on_progress : NULL, seen, out, error);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_publish FIXTURES_DIR MODULE_REPO SCRATCH_DIR\n");
        return 2;
    }
    const char *registry = getenv("MLREEF_TEST_REGISTRY");
    if (registry == NULL || registry[0] == '\0') {
        fprintf(stderr, "MLREEF_TEST_REGISTRY is not set: the test harness starts a registry\n");
        return 2;
    }
    snprintf(scratch, sizeof scratch, "%s", argv[3]);
    snprintf(repo, sizeof repo, "%s/classifier", scratch);
    mkdir(repo, 0755);
    write_train("");
    char *out = NULL;
    mlreef_error *error = NULL;

    /* pushed, with progress: each blob's bytes, then the manifest */
    struct seen seen = {0, 0, NULL};
    CHECK(publish(registry, "1", "", &seen, &out, &error) == MLREEF_OK);
    CHECK(error == NULL && contains(out, "\"pushed\":{\"uploaded\":2,\"skipped\":0,\"mounted\":0"));
    CHECK(contains(out, "\"reference\":\"docker://"));
    CHECK(seen.uploads >= 2 && seen.manifests >= 1);
    mlreef_string_free(out);
    out = NULL;

    /* the same image again: nothing is sent */
    CHECK(publish(registry, "1", "", NULL, &out, &error) == MLREEF_OK);
    CHECK(contains(out, "\"pushed\":{\"uploaded\":0,\"skipped\":2,\"mounted\":0,\"bytes\":0}"));
    mlreef_string_free(out);
    out = NULL;

    /* another image under the same version: refused, unless forced */
    write_train("# tuned\n");
    CHECK(publish(registry, "1", "", NULL, &out, &error) == MLREEF_ERROR_TAG_EXISTS);
    CHECK(out == NULL && contains(mlreef_error_message(error), "a published version does not change"));
    mlreef_error_free(error);
    error = NULL;
    CHECK(publish(registry, "1", ", \"force\": true", NULL, &out, &error) == MLREEF_OK);
    CHECK(contains(out, "\"uploaded\":2"));
    mlreef_string_free(out);
    out = NULL;

    /* a cancel before the tag */
    struct seen stop = {0, 0, "manifest"};
    CHECK(publish(registry, "2", "", &stop, &out, &error) == MLREEF_ERROR_CANCELLED);
    CHECK(out == NULL && mlreef_error_code(error) == MLREEF_ERROR_CANCELLED);
    mlreef_error_free(error);
    error = NULL;

    /* an image a layout holds, pushed as it is: the registry gives it the layout's digest */
    char build_options[4096];
    snprintf(build_options, sizeof build_options,
             "{\"base\": \"scratch\", \"output\": \"oci:%s/layout:v1\", \"cache\": \"%s/cache\"}", scratch,
             scratch);
    CHECK(mlreef_build(repo, LEN(repo), build_options, LEN(build_options), NULL, NULL, &out, &error) == MLREEF_OK);
    const char *at = out ? strstr(out, "\"digest\":\"") : NULL;
    char built[80] = "";
    if (at != NULL) {
        snprintf(built, sizeof built, "%.71s", at + strlen("\"digest\":\""));
    }
    mlreef_string_free(out);
    out = NULL;
    char source[2048];
    char target[2048];
    snprintf(source, sizeof source, "oci:%s/layout:v1", scratch);
    snprintf(target, sizeof target, "%s/c/pushed-%ld:1", registry, (long)getpid());
    struct seen pushed = {0, 0, NULL};
    CHECK(mlreef_push(source, LEN(source), target, LEN(target), NULL, 0, on_progress, &pushed, &out, &error) ==
          MLREEF_OK);
    CHECK(built[0] != '\0' && contains(out, built) && pushed.uploads >= 2);
    mlreef_string_free(out);
    out = NULL;
    const char *force = "{\"force\": true}";
    CHECK(mlreef_push(source, LEN(source), target, LEN(target), force, LEN(force), NULL, NULL, &out, &error) ==
          MLREEF_OK);
    CHECK(contains(out, "\"uploaded\":0,\"skipped\":2"));
    mlreef_string_free(out);
    out = NULL;
    const char *not_a_registry = "oci:/tmp/elsewhere";
    CHECK(mlreef_push(source, LEN(source), not_a_registry, LEN(not_a_registry), NULL, 0, NULL, NULL, &out, &error) ==
          MLREEF_ERROR_IMAGE);
    mlreef_error_free(error);
    error = NULL;

    /* option errors */
    CHECK(publish(registry, "3", ", \"username\": \"someone\"", NULL, &out, &error) == MLREEF_ERROR_INVALID_JSON);
    CHECK(contains(mlreef_error_message(error), "go together"));
    mlreef_error_free(error);
    error = NULL;
    const char *push_in_build = "{\"push\": \"localhost:5000/a/b:1\"}";
    CHECK(mlreef_build(repo, LEN(repo), push_in_build, LEN(push_in_build), NULL, NULL, &out, &error) ==
          MLREEF_ERROR_INVALID_JSON);
    CHECK(contains(mlreef_error_message(error), "mlreef_publish"));
    mlreef_error_free(error);
    error = NULL;

    return checks_done();
}
