#include "lathe/json_hooks.h"

#include "cJSON.h"
#include "lathe/alloc.h"

void lathe_json_hooks_install(void) {
    static int installed;
    cJSON_Hooks hooks;
    if (installed) return;
    hooks.malloc_fn = lathe_malloc;
    hooks.free_fn = lathe_free;
    cJSON_InitHooks(&hooks);
    installed = 1;
}
