/* SHA-256 against FIPS 180-4 examples; PCG32 against the reference implementation's
 * pcg32-demo output (seed 42, stream 54); shuffle and normal sanity. */
#include <string.h>

#include "check.h"
#include "lathe/rng.h"
#include "lathe/sha256.h"

int main(void) {
    char hex[65];
    lathe_rng rng;
    static const uint32_t pcg_demo[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                         0x83d2f293, 0xbfa4784b, 0xcbed606e};
    uint32_t idx[100], seen[100] = {0};
    double sum = 0.0, sq = 0.0;
    size_t i;

    lathe_sha256_hex("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
          "sha256(abc) = %s", hex);
    lathe_sha256_hex("", 0, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
          "sha256('') = %s", hex);
    {
        const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        lathe_sha256_hex(two_blocks, strlen(two_blocks), hex);
        CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0,
              "sha256(448-bit message) = %s", hex);
    }

    lathe_rng_seed(&rng, 42u, 54u);
    for (i = 0; i < 6; i++) {
        uint32_t got = lathe_rng_u32(&rng);
        CHECK(got == pcg_demo[i], "pcg32 output %zu: %08x, want %08x", i, got, pcg_demo[i]);
    }

    lathe_rng_seed(&rng, 7u, 1u);
    for (i = 0; i < 100; i++) idx[i] = (uint32_t)i;
    lathe_rng_shuffle_u32(&rng, idx, 100);
    for (i = 0; i < 100; i++) seen[idx[i]]++;
    for (i = 0; i < 100; i++) CHECK(seen[i] == 1, "shuffle lost or doubled %zu", i);
    CHECK(idx[0] != 0 || idx[1] != 1 || idx[2] != 2, "shuffle left the order unchanged");

    for (i = 0; i < 20000; i++) {
        double z = (double)lathe_rng_normal(&rng);
        sum += z, sq += z * z;
    }
    CHECK(sum / 20000.0 > -0.03 && sum / 20000.0 < 0.03, "normal mean %g", sum / 20000.0);
    CHECK(sq / 20000.0 > 0.96 && sq / 20000.0 < 1.04, "normal variance %g", sq / 20000.0);
    for (i = 0; i < 10000; i++) {
        float u = lathe_rng_uniform(&rng);
        CHECK(u >= 0.0f && u < 1.0f, "uniform out of [0,1): %g", (double)u);
        CHECK(lathe_rng_below(&rng, 3) < 3, "below(3) out of range");
    }
    return check_finish("test_rng_sha256");
}
