/* Rules warnings are never accepted silently: a rule id defined twice loads (the later
 * definition wins) with a warning kept on the engine, and strict loading rejects it. */
#include "common.h"

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: test_rules TMPDIR\n"); return 2; }
    char path[4096];
    snprintf(path, sizeof path, "%s/dup-rules.toml", argv[1]);
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return 2; }
    /* Rule `dup` on lines 1 and 5. */
    fputs("[[rules]]\nid = \"dup\"\nregex = \"first-[0-9]{8}\"\n\n"
          "[[rules]]\nid = \"dup\"\nregex = \"second-[0-9]{8}\"\n\n"
          "[[rules]]\nid = \"other\"\nregex = \"other-[0-9]{8}\"\n", f);
    fclose(f);

    /* Lenient (flags 0): loads, the later `dup` wins, one warning naming the rule and lines. */
    scangit_engine *engine = NULL;
    CHECK_STATUS(scangit_engine_open(path, 0, &engine), SCANGIT_OK);
    CHECK(engine != NULL, "no engine");
    size_t n = 99, rules = 0;
    CHECK_STATUS(scangit_engine_rule_count(engine, &rules), SCANGIT_OK);
    CHECK(rules == 2, "%zu rules, want 2", rules);
    CHECK_STATUS(scangit_engine_warning_count(engine, &n), SCANGIT_OK);
    CHECK(n == 1, "%zu warnings, want 1", n);
    const char *w = NULL;
    CHECK_STATUS(scangit_engine_warning(engine, 0, &w), SCANGIT_OK);
    CHECK(w && strstr(w, "dup-rules.toml") && strstr(w, "rule dup:") && strstr(w, "duplicate") &&
              strstr(w, "lines 1 and 5"),
          "warning: %s", w ? w : "(null)");
    printf("warning: %s\n", w ? w : "(null)");

    /* scangit_engine_new is open with flags 0: the same warning. */
    scangit_engine *e2 = NULL;
    CHECK_STATUS(scangit_engine_new(path, &e2), SCANGIT_OK);
    n = 99;
    CHECK_STATUS(scangit_engine_warning_count(e2, &n), SCANGIT_OK);
    CHECK(n == 1, "scangit_engine_new: %zu warnings, want 1", n);
    scangit_engine_free(e2);

    /* Warning arguments. */
    const char *untouched = "untouched";
    w = untouched;
    CHECK_STATUS(scangit_engine_warning(engine, 1, &w), SCANGIT_INVALID_ARGUMENT);
    CHECK(strstr(scangit_last_error_message(), "out of range") != NULL, "message: %s",
          scangit_last_error_message());
    CHECK(w == untouched, "out written on failure");
    CHECK_STATUS(scangit_engine_warning(engine, (size_t)-1, &w), SCANGIT_INVALID_ARGUMENT);
    CHECK_STATUS(scangit_engine_warning(NULL, 0, &w), SCANGIT_INVALID_ARGUMENT);
    CHECK(strstr(scangit_last_error_message(), "engine") != NULL, "message: %s",
          scangit_last_error_message());
    CHECK_STATUS(scangit_engine_warning(engine, 0, NULL), SCANGIT_INVALID_ARGUMENT);
    CHECK_STATUS(scangit_engine_warning_count(NULL, &n), SCANGIT_INVALID_ARGUMENT);
    CHECK(strstr(scangit_last_error_message(), "engine") != NULL, "message: %s",
          scangit_last_error_message());
    CHECK_STATUS(scangit_engine_warning_count(engine, NULL), SCANGIT_INVALID_ARGUMENT);
    scangit_engine_free(engine);

    /* Strict: the duplicate is an error naming the rule and the file; *out untouched. */
    engine = NULL;
    CHECK_STATUS(scangit_engine_open(path, SCANGIT_RULES_STRICT, &engine), SCANGIT_RULES_INVALID);
    const char *msg = scangit_last_error_message();
    CHECK(strstr(msg, "rule dup") && strstr(msg, "dup-rules.toml") && strstr(msg, "lines 1 and 5"),
          "strict message: %s", msg);
    CHECK(engine == NULL, "engine set on failure");

    /* Unknown flag bits. */
    CHECK_STATUS(scangit_engine_open(path, 2, &engine), SCANGIT_INVALID_ARGUMENT);
    CHECK(strstr(scangit_last_error_message(), "flags") != NULL, "message: %s",
          scangit_last_error_message());
    CHECK_STATUS(scangit_engine_open(NULL, SCANGIT_RULES_STRICT | 0x80000000u, &engine),
                 SCANGIT_INVALID_ARGUMENT);
    CHECK(engine == NULL, "engine set on failure");
    CHECK_STATUS(scangit_engine_open(NULL, SCANGIT_RULES_STRICT, NULL), SCANGIT_INVALID_ARGUMENT);

    /* The built-in rules load strictly, without warnings. */
    CHECK_STATUS(scangit_engine_open(NULL, SCANGIT_RULES_STRICT, &engine), SCANGIT_OK);
    CHECK(scangit_last_error_message()[0] == 0, "message after success: %s", scangit_last_error_message());
    n = 99;
    CHECK_STATUS(scangit_engine_warning_count(engine, &n), SCANGIT_OK);
    CHECK(n == 0, "built-in rules: %zu warnings", n);
    rules = 0;
    CHECK_STATUS(scangit_engine_rule_count(engine, &rules), SCANGIT_OK);
    CHECK(rules > 0, "no built-in rules");
    CHECK_STATUS(scangit_engine_warning(engine, 0, &w), SCANGIT_INVALID_ARGUMENT);
    scangit_engine_free(engine);

    remove(path);
    return finish("test_rules");
}
