/* cJSON's allocator: the one place that installs it. */
#ifndef LATHE_JSON_HOOKS_H
#define LATHE_JSON_HOOKS_H

/* Makes cJSON allocate through the core's hook (lathe_malloc, lathe_free), so the
 * out-of-memory tests reach the JSON parser and the live-allocation count sees its blocks.
 * Every core function that parses or prints JSON calls it first; idempotent. Text cJSON
 * prints is then freed with cJSON_free (which is lathe_free). */
void lathe_json_hooks_install(void);

#endif
