/* JSON guards: see json.h. */
#include "core/json.h"

#include <string.h>

int cg_json_check_depth(const char *data, size_t len, int max_depth, const char *what, cg_err *err)
{
    int depth = 0, in_string = 0, escaped = 0;
    size_t line = 1, column = 0;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        column++;
        if (c == '\n') {
            line++;
            column = 0;
        }
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return cg_err_set(err, CG_ELIMIT, NULL,
                                  "%s nests arrays and objects more than %d levels deep (line "
                                  "%zu column %zu)",
                                  what, max_depth, line, column);
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

json_t *cg_json_parse_object(const char *data, size_t len, const char *const *known, cg_err *err)
{
    if (cg_json_check_depth(data, len, CG_JSON_BODY_MAX_DEPTH, "the request body", err) != 0) {
        snprintf(err->field, sizeof err->field, "body");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        cg_err_set(err, CG_EINVAL, "body", "not JSON: %s (line %d column %d)", jerr.text, jerr.line,
                   jerr.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        cg_err_set(err, CG_EINVAL, "body", "expected a JSON object");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        int ok = 0;
        for (int i = 0; known[i] && !ok; i++)
            ok = strcmp(key, known[i]) == 0;
        if (!ok) {
            cg_err_set(err, CG_EINVAL, key[0] ? key : "(empty key)", "unknown field");
            json_decref(root);
            return NULL;
        }
    }
    return root;
}
