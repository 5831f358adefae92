/* The extra losses against their closed forms and finite differences; schedules against
 * PyTorch's documented examples and its CosineAnnealingLR past T_max; clipping against clip_grad_norm_'s definition. */
#include <math.h>

#include "check.h"
#include "lathe/losses.h"
#include "lathe/mathf.h"
#include "lathe/optim.h"
#include "lathe/schedule.h"

/* Finite-difference check of a loss's gradient at a few points. */
typedef float (*loss_fn)(size_t, size_t, const float *, const float *, float *);

static void gradcheck(const char *name, loss_fn f, const float *p0, const float *t, size_t n) {
    float p[8] = {0}, grad[8] = {0}, scratch[8] = {0};
    size_t i;
    for (i = 0; i < n; i++) p[i] = p0[i];
    (void)f(n, 1, p, t, grad);
    for (i = 0; i < n; i++) {
        float h = 1e-2f, saved = p[i];
        double up, down;
        p[i] = saved + h;
        up = (double)f(n, 1, p, t, scratch);
        p[i] = saved - h;
        down = (double)f(n, 1, p, t, scratch);
        p[i] = saved;
        CHECK(check_close((double)grad[i], (up - down) / (2.0 * (double)h), 2e-3, 2e-2),
              "%s grad[%zu] %g vs finite difference %g", name, i, (double)grad[i],
              (up - down) / (2.0 * (double)h));
    }
}

static float huber1(size_t n, size_t d, const float *p, const float *t, float *g) {
    return lathe_loss_huber(n, d, 1.0f, p, t, g);
}

int main(void) {
    static const float logits[6] = {-2.0f, -0.3f, 0.0f, 0.7f, 1.5f, 3.0f};
    static const float bits[6] = {0.0f, 1.0f, 1.0f, 0.0f, 1.0f, 1.0f};
    static const float pred[6] = {-2.0f, -0.3f, 0.25f, 0.7f, 1.5f, 3.0f};
    static const float truth[6] = {0.5f, 0.0f, 0.0f, 1.0f, -1.0f, 2.9f};
    float g[2] = {0.0f, 0.0f};

    /* BCE with logits: z = 0 gives log 2 for either target; extreme logits stay finite. */
    CHECK(fabsf(lathe_loss_bce_with_logits(1, 1, (const float[]){0.0f}, (const float[]){1.0f}, g) -
                0.6931472f) < 1e-6f, "bce(0, 1) != log 2");
    CHECK(fabsf(g[0] + 0.5f) < 1e-7f, "bce grad at 0: %g", (double)g[0]);
    {
        float loss = lathe_loss_bce_with_logits(2, 1, (const float[]){1000.0f, -1000.0f},
                                           (const float[]){0.0f, 0.0f}, g);
        CHECK(isfinite(loss) && fabsf(loss - 500.0f) < 1e-3f, "bce at ±1000: %g", (double)loss);
        CHECK(isfinite(g[0]) && isfinite(g[1]), "bce grad not finite at ±1000");
    }
    gradcheck("bce", lathe_loss_bce_with_logits, logits, bits, 6);

    /* MAE and Huber: closed forms on known values (PyTorch: L1Loss, HuberLoss(delta=1)). */
    CHECK(fabsf(lathe_loss_mae(2, 1, (const float[]){1.0f, -2.0f}, (const float[]){3.0f, -2.5f}, g) - 1.25f) < 1e-7f, "mae");
    CHECK(g[0] == -0.5f && g[1] == 0.5f, "mae grad %g %g", (double)g[0], (double)g[1]);
    CHECK(fabsf(huber1(2, 1, (const float[]){0.5f, 3.0f}, (const float[]){0.0f, 0.0f}, g) -
                (0.125f + 2.5f) / 2.0f) < 1e-7f, "huber");
    CHECK(g[0] == 0.25f && g[1] == 0.5f, "huber grad %g %g", (double)g[0], (double)g[1]);
    gradcheck("mae", lathe_loss_mae, pred, truth, 6);
    gradcheck("huber", huber1, pred, truth, 6);

    /* StepLR(step_size=30, gamma=0.1) from PyTorch's docs: 0.05 before epoch 30, 0.005 until
     * 60, 0.0005 until 90. */
    {
        lathe_schedule s = {LATHE_SCHEDULE_STEP, 30, 0.1f, 0, 0.0f, 0};
        CHECK(lathe_schedule_lr(&s, 0.05f, 29, 0) == 0.05f, "step lr at 29");
        CHECK(fabsf(lathe_schedule_lr(&s, 0.05f, 30, 0) - 0.005f) < 1e-9f, "step lr at 30");
        CHECK(fabsf(lathe_schedule_lr(&s, 0.05f, 89, 0) - 0.0005f) < 1e-10f, "step lr at 89");
    }
    {
        lathe_schedule s = {LATHE_SCHEDULE_EXPONENTIAL, 0, 0.9f, 0, 0.0f, 0};
        CHECK(fabsf(lathe_schedule_lr(&s, 1.0f, 2, 0) - 0.81f) < 1e-7f, "exponential lr");
    }
    {
        lathe_schedule s = {LATHE_SCHEDULE_COSINE, 0, 0.0f, 10, 0.001f, 0};
        CHECK(lathe_schedule_lr(&s, 0.1f, 0, 0) == 0.1f, "cosine at 0");
        CHECK(fabsf(lathe_schedule_lr(&s, 0.1f, 5, 0) - 0.0505f) < 1e-7f, "cosine at T/2");
        CHECK(fabsf(lathe_schedule_lr(&s, 0.1f, 10, 0) - 0.001f) < 1e-9f, "cosine at T");
        /* PyTorch's CosineAnnealingLR does not stop at T_max: it rises again and is back at
         * the base rate at 2·T_max (../shared/reference/vectors/schedules.json: lr[15] =
         * 0.0505, lr[20] = 0.1, lr[25] = 0.0505, lr[30] = 0.001). */
        CHECK(fabsf(lathe_schedule_lr(&s, 0.1f, 15, 0) - 0.0505f) < 1e-7f, "cosine at 1.5 T");
        CHECK(fabsf(lathe_schedule_lr(&s, 0.1f, 20, 0) - 0.1f) < 1e-8f, "cosine at 2 T");
        CHECK(fabsf(lathe_schedule_lr(&s, 0.1f, 25, 0) - 0.0505f) < 1e-7f, "cosine at 2.5 T");
        CHECK(fabsf(lathe_schedule_lr(&s, 0.1f, 30, 0) - 0.001f) < 1e-9f, "cosine at 3 T");
    }
    {
        lathe_schedule s = {LATHE_SCHEDULE_CONSTANT, 0, 0.0f, 0, 0.0f, 4};
        CHECK(lathe_schedule_lr(&s, 0.1f, 0, 0) == 0.025f, "warm-up step 0");
        CHECK(lathe_schedule_lr(&s, 0.1f, 0, 3) == 0.1f, "warm-up step 3");
        CHECK(lathe_schedule_lr(&s, 0.1f, 3, 100) == 0.1f, "after warm-up");
    }
    {
        double x;
        for (x = -40.0; x <= 40.0; x += 0.37)
            CHECK(fabs(lathe_cos(x) - cos(x)) < 1e-13, "cos(%g) %.17g vs %.17g", x, lathe_cos(x), cos(x));
    }
    /* clip_grad_norm_: [3, 4] has norm 5; max 1 scales by 1/(5 + 1e-6); max 10 leaves it. */
    {
        float v[2] = {3.0f, 4.0f};
        double norm = lathe_optim_clip_grad_norm(2, v, 1.0f);
        CHECK(norm == 5.0, "norm %g", norm);
        CHECK(fabsf(v[0] - 0.6f) < 1e-6f && fabsf(v[1] - 0.8f) < 1e-6f, "clipped %g %g", (double)v[0], (double)v[1]);
        v[0] = 3.0f, v[1] = 4.0f;
        (void)lathe_optim_clip_grad_norm(2, v, 10.0f);
        CHECK(v[0] == 3.0f && v[1] == 4.0f, "clipping changed a small gradient");
    }
    return check_finish("test_losses_schedule");
}
