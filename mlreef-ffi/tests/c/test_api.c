/* Every capability of mlreef.h and its error paths, from C. Built with -Wall -Wextra -Werror
 * (and sanitizers where the compiler has them) by mlreef-ffi/tests/c_api.rs, which passes the
 * fixtures folder as argv[1]. Prints "ok N checks" and exits 0, or names the failed check. */
#include "mlreef.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *S(const char *s) { return s; }
static int contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

static int progress_calls = 0;
static int count_progress(void *user_data, const char *stage, uint64_t done, int64_t total, const char *detail) {
    (void)done;
    (void)total;
    (void)detail;
    progress_calls++;
    return user_data != NULL && strcmp(stage, "extract") == 0; /* cancel at "extract" when asked */
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_api FIXTURES_DIR MODULE_REPO\n");
        return 2;
    }
    const char *fixtures = argv[1];
    const char *repo = argv[2];
    char *out = NULL;
    mlreef_error *error = NULL;
    char path[4096];

    /* version */
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", MLREEF_VERSION_MAJOR, MLREEF_VERSION_MINOR, MLREEF_VERSION_PATCH);
    CHECK(strcmp(mlreef_version(), expected) == 0);

    /* parameters from source */
    const char *source = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--epochs', type=int, default=3)\np.parse_args()\n";
    CHECK(mlreef_params_extract(source, LEN(source), NULL, 0, &out, &error) == MLREEF_OK);
    CHECK(error == NULL && contains(out, "\"name\": \"epochs\"") && contains(out, "\"default\": 3"));
    mlreef_string_free(out);

    /* a syntax error, with its line and column */
    const char *broken = "import argparse\nx = (\n";
    CHECK(mlreef_params_extract(broken, LEN(broken), S("train.py"), 8, &out, &error) == MLREEF_ERROR_SYNTAX);
    CHECK(out == NULL && error != NULL);
    CHECK(mlreef_error_code(error) == MLREEF_ERROR_SYNTAX);
    CHECK(mlreef_error_line(error) == 3 && mlreef_error_column(error) >= 1);
    CHECK(contains(mlreef_error_message(error), "train.py:3:"));
    mlreef_error_free(error);
    error = NULL;

    /* NULL pointers and invalid UTF-8 */
    CHECK(mlreef_params_extract(NULL, 5, NULL, 0, &out, &error) == MLREEF_ERROR_NULL_POINTER);
    CHECK(mlreef_error_code(error) == MLREEF_ERROR_NULL_POINTER);
    mlreef_error_free(error);
    error = NULL;
    CHECK(mlreef_params_extract(source, LEN(source), NULL, 0, NULL, &error) == MLREEF_ERROR_NULL_POINTER);
    mlreef_error_free(error);
    error = NULL;
    CHECK(mlreef_params_extract(source, LEN(source), NULL, 0, &out, NULL) == MLREEF_OK); /* no error out: fine */
    mlreef_string_free(out);
    const char bad_utf8[] = {'x', '=', (char)0xff, '\n'};
    CHECK(mlreef_params_extract(bad_utf8, sizeof bad_utf8, NULL, 0, &out, &error) == MLREEF_ERROR_INVALID_UTF8);
    mlreef_error_free(error);
    error = NULL;

    /* a file, and a missing file */
    snprintf(path, sizeof path, "%s/argparse/realistic_pytorch_train.py", fixtures);
    CHECK(mlreef_params_extract_file(path, LEN(path), NULL, 0, &out, &error) == MLREEF_OK);
    CHECK(contains(out, "batch-size"));
    mlreef_string_free(out);
    CHECK(mlreef_params_extract_file(S("/nonexistent.py"), 15, NULL, 0, &out, &error) == MLREEF_ERROR_NOT_FOUND);
    mlreef_error_free(error);
    error = NULL;

    /* options: what influences no parameter is reported only when verbose */
    const char *env_source = "import argparse, os\nLEVEL = os.getenv('LOG_LEVEL', 'INFO')\n"
                             "p = argparse.ArgumentParser()\np.add_argument('--cache', default=os.getenv('CACHE', 'c'))\n"
                             "p.parse_args()\n";
    CHECK(mlreef_params_extract_with_options(env_source, LEN(env_source), NULL, 0, &out, &error) == MLREEF_OK);
    CHECK(contains(out, "`CACHE`") && !contains(out, "`LOG_LEVEL`"));
    mlreef_string_free(out);
    const char *verbose = "{\"verbose\": true}";
    CHECK(mlreef_params_extract_with_options(env_source, LEN(env_source), verbose, LEN(verbose), &out, &error) == MLREEF_OK);
    CHECK(contains(out, "`CACHE`") && contains(out, "`LOG_LEVEL`"));
    mlreef_string_free(out);
    snprintf(path, sizeof path, "{\"path\": \"%s/argparse/realistic_pytorch_train.py\"}", fixtures);
    CHECK(mlreef_params_extract_with_options(NULL, 0, path, LEN(path), &out, &error) == MLREEF_OK);
    CHECK(contains(out, "batch-size"));
    mlreef_string_free(out);
    const char *unknown_key = "{\"verbos\": true}";
    CHECK(mlreef_params_extract_with_options(env_source, LEN(env_source), unknown_key, LEN(unknown_key), &out, &error) == MLREEF_ERROR_INVALID_JSON);
    CHECK(out == NULL && contains(mlreef_error_message(error), "verbos"));
    mlreef_error_free(error);
    error = NULL;
    CHECK(mlreef_params_extract_with_options(NULL, 0, NULL, 0, &out, &error) == MLREEF_ERROR_NULL_POINTER);
    mlreef_error_free(error);
    error = NULL;

    /* requirements: text with a target, a file, a bad options JSON, a bad environment.yml */
    const char *reqs = "numpy>=1.26 ; python_version >= '3.9'\nlegacy ; python_version < '3.8'\nscipy=1.11\n";
    const char *target = "{\"python\": \"3.11\", \"platform\": \"linux/arm64\"}";
    CHECK(mlreef_requirements_parse(reqs, LEN(reqs), target, LEN(target), &out, &error) == MLREEF_OK);
    CHECK(contains(out, "\"applies\":true") && contains(out, "\"applies\":false"));
    CHECK(contains(out, "\"code\":\"invalid-requirement\"")); /* pip would refuse line 3 */
    mlreef_string_free(out);
    snprintf(path, sizeof path, "{\"path\": \"%s/requirements/realistic_pip_compile.txt\"}", fixtures);
    CHECK(mlreef_requirements_parse(NULL, 0, path, LEN(path), &out, &error) == MLREEF_OK);
    CHECK(contains(out, "\"hashes\":[\"sha256:"));
    mlreef_string_free(out);
    const char *not_json = "{\"python\": ";
    CHECK(mlreef_requirements_parse(reqs, LEN(reqs), not_json, LEN(not_json), &out, &error) == MLREEF_ERROR_INVALID_JSON);
    CHECK(mlreef_error_line(error) == 1);
    mlreef_error_free(error);
    error = NULL;
    const char *unknown = "{\"pythn\": \"3.11\"}";
    CHECK(mlreef_requirements_parse(reqs, LEN(reqs), unknown, LEN(unknown), &out, &error) == MLREEF_ERROR_INVALID_JSON);
    mlreef_error_free(error);
    error = NULL;
    const char *yml = "dependencies: [numpy\n";
    const char *yml_options = "{\"path\": \"environment.yml\"}";
    CHECK(mlreef_requirements_parse(yml, LEN(yml), yml_options, LEN(yml_options), &out, &error) == MLREEF_ERROR_REQUIREMENTS);
    CHECK(mlreef_error_line(error) == 2);
    mlreef_error_free(error);
    error = NULL;

    /* module: discover (with progress, and cancelled), validate, render, read, merge */
    progress_calls = 0;
    CHECK(mlreef_module_discover(repo, LEN(repo), NULL, 0, count_progress, NULL, &out, &error) == MLREEF_OK);
    CHECK(progress_calls >= 2 && contains(out, "\"train\":\"train.py\""));
    char *discovered = out;
    int cancel = 1;
    CHECK(mlreef_module_discover(repo, LEN(repo), NULL, 0, count_progress, &cancel, &out, &error) == MLREEF_ERROR_CANCELLED);
    mlreef_error_free(error);
    error = NULL;
    CHECK(mlreef_module_discover(S("/nonexistent"), 12, NULL, 0, NULL, NULL, &out, &error) == MLREEF_ERROR_NOT_FOUND);
    mlreef_error_free(error);
    error = NULL;

    /* the module object inside {"module": ..., "diagnostics": ...} */
    const char *start = strstr(discovered, "\"module\":") + strlen("\"module\":");
    const char *end = strstr(discovered, ",\"diagnostics\":");
    CHECK(start != NULL && end != NULL && end > start);
    size_t module_len = (size_t)(end - start);
    CHECK(mlreef_module_validate(start, module_len, &out, &error) == MLREEF_OK);
    CHECK(contains(out, "model-without-output"));
    mlreef_string_free(out);
    CHECK(mlreef_pipeline_render(start, module_len, NULL, 0, &out, &error) == MLREEF_OK);
    CHECK(contains(out, "mlreef-publish:") && contains(out, ".mlreef"));
    char *yaml = out;
    CHECK(mlreef_pipeline_read(yaml, LEN(yaml), &out, &error) == MLREEF_OK);
    CHECK(contains(out, "\"entry_points\":"));
    char *merged = NULL;
    CHECK(mlreef_pipeline_merge(out, LEN(out), start, module_len, &merged, &error) == MLREEF_OK);
    CHECK(contains(merged, "\"changes\":[]"));
    mlreef_string_free(merged);
    mlreef_string_free(out);
    mlreef_string_free(yaml);
    const char *bad_yaml = "stages: [publish\n";
    CHECK(mlreef_pipeline_read(bad_yaml, LEN(bad_yaml), &out, &error) == MLREEF_ERROR_PIPELINE);
    CHECK(mlreef_error_line(error) == 2);
    mlreef_error_free(error);
    error = NULL;

    /* command lines and schemas */
    const char *values = "{\"epochs\": 7, \"dry-run\": true}";
    CHECK(mlreef_module_command_line(start, module_len, values, LEN(values), &out, &error) == MLREEF_OK);
    CHECK(contains(out, "\"--epochs\",\"7\"") && contains(out, "--dry-run"));
    mlreef_string_free(out);
    const char *wrong = "{\"epochs\": \"many\"}";
    CHECK(mlreef_module_command_line(start, module_len, wrong, LEN(wrong), &out, &error) == MLREEF_ERROR_COMMAND_LINE);
    CHECK(contains(mlreef_error_message(error), "epochs"));
    mlreef_error_free(error);
    error = NULL;
    CHECK(mlreef_schema(NULL, 0, &out, &error) == MLREEF_OK && contains(out, "\"title\":\"Module\""));
    mlreef_string_free(out);
    CHECK(mlreef_schema(start, module_len, &out, &error) == MLREEF_OK && contains(out, "\"epochs\""));
    mlreef_string_free(out);
    mlreef_string_free(discovered);

    /* free(NULL) and accessors on NULL are no-ops */
    mlreef_string_free(NULL);
    mlreef_error_free(NULL);
    CHECK(mlreef_error_code(NULL) == MLREEF_ERROR_NULL_POINTER && strcmp(mlreef_error_message(NULL), "") == 0);

    return checks_done();
}
