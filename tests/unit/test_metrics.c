/* Metrics against the worked examples in scikit-learn's documentation (sklearn.metrics:
 * confusion_matrix, classification_report, precision_recall_fscore_support, roc_auc_score,
 * average_precision_score, log_loss, r2_score, mean_squared_error, mean_absolute_error). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "lathe/alloc.h"
#include "lathe/metrics.h"

/* One-hot "probabilities" for hard predictions. */
static void one_hot(size_t n, size_t C, const uint32_t *pred, float *probs) {
    size_t i;
    memset(probs, 0, n * C * sizeof *probs);
    for (i = 0; i < n; i++) probs[i * C + pred[i]] = 1.0f;
}

int main(void) {
    long live = lathe_alloc_live();
    lathe_class_report *r = NULL;
    lathe_error err;
    float probs[64];

    { /* confusion_matrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]) = [[2,0,0],[0,0,1],[1,0,2]] */
        static const uint32_t truth[6] = {2, 0, 2, 2, 0, 1}, pred[6] = {0, 0, 2, 2, 0, 2};
        static const size_t want[9] = {2, 0, 0, 0, 0, 1, 1, 0, 2};
        size_t k;
        one_hot(6, 3, pred, probs);
        CHECK(lathe_class_report_create(6, 3, truth, probs, &r, &err) == LATHE_OK, "%s", err.message);
        for (k = 0; r && k < 9; k++)
            CHECK(r->confusion[k] == want[k], "confusion[%zu] = %zu, want %zu", k, r->confusion[k], want[k]);
        lathe_class_report_destroy(r);
    }
    { /* classification_report([0, 1, 2, 2, 2], [0, 0, 2, 2, 1]): P 0.50/0.00/1.00,
       * R 1.00/0.00/0.67, F1 0.67/0.00/0.80, accuracy 0.60, macro 0.50/0.56/0.49,
       * weighted 0.70/0.60/0.61 */
        static const uint32_t truth[5] = {0, 1, 2, 2, 2}, pred[5] = {0, 0, 2, 2, 1};
        one_hot(5, 3, pred, probs);
        CHECK(lathe_class_report_create(5, 3, truth, probs, &r, &err) == LATHE_OK, "%s", err.message);
        if (r) {
            CHECK(fabs(r->precision[0] - 0.5) < 1e-12 && r->precision[1] == 0.0 && r->precision[2] == 1.0, "precision");
            CHECK(r->recall[0] == 1.0 && r->recall[1] == 0.0 && fabs(r->recall[2] - 2.0 / 3.0) < 1e-12, "recall");
            CHECK(fabs(r->f1[0] - 2.0 / 3.0) < 1e-12 && r->f1[1] == 0.0 && fabs(r->f1[2] - 0.8) < 1e-12, "f1");
            CHECK(fabs(r->accuracy - 0.6) < 1e-12, "accuracy %g", r->accuracy);
            CHECK(fabs(r->macro_precision - 0.5) < 0.005 && fabs(r->macro_recall - 0.56) < 0.005 &&
                      fabs(r->macro_f1 - 0.49) < 0.005,
                  "macro %g %g %g", r->macro_precision, r->macro_recall, r->macro_f1);
            CHECK(fabs(r->weighted_precision - 0.70) < 0.005 && fabs(r->weighted_recall - 0.60) < 0.005 &&
                      fabs(r->weighted_f1 - 0.61) < 0.005,
                  "weighted %g %g %g", r->weighted_precision, r->weighted_recall, r->weighted_f1);
            CHECK(r->support[2] == 3, "support");
        }
        lathe_class_report_destroy(r);
    }
    { /* precision_recall_fscore_support(cat,dog,pig,cat,dog,pig vs cat,pig,dog,cat,cat,dog,
       * average='macro') = (0.22..., 0.33..., 0.26...): exactly 2/9, 1/3, 4/15 */
        static const uint32_t truth[6] = {0, 1, 2, 0, 1, 2}, pred[6] = {0, 2, 1, 0, 0, 1};
        one_hot(6, 3, pred, probs);
        CHECK(lathe_class_report_create(6, 3, truth, probs, &r, &err) == LATHE_OK, "%s", err.message);
        if (r)
            CHECK(fabs(r->macro_precision - 2.0 / 9.0) < 1e-12 && fabs(r->macro_recall - 1.0 / 3.0) < 1e-12 &&
                      fabs(r->macro_f1 - 4.0 / 15.0) < 1e-12,
                  "macro %g %g %g", r->macro_precision, r->macro_recall, r->macro_f1);
        lathe_class_report_destroy(r);
    }
    { /* roc_auc_score([0,0,1,1], [0.1,0.4,0.35,0.8]) = 0.75;
       * average_precision_score(same) = 0.8333… */
        static const float scores[4] = {0.1f, 0.4f, 0.35f, 0.8f};
        static const uint8_t pos[4] = {0, 0, 1, 1};
        double auc = lathe_metrics_roc_auc(4, scores, pos), ap = lathe_metrics_average_precision(4, scores, pos);
        CHECK(fabs(auc - 0.75) < 1e-12, "roc auc %g", auc);
        CHECK(fabs(ap - 0.8333333333333333) < 1e-12, "average precision %g", ap);
    }
    { /* ties: all scores equal gives AUC 0.5 */
        static const float scores[4] = {0.5f, 0.5f, 0.5f, 0.5f};
        static const uint8_t pos[4] = {0, 1, 0, 1};
        CHECK(fabs(lathe_metrics_roc_auc(4, scores, pos) - 0.5) < 1e-12, "tied AUC");
        CHECK(isnan(lathe_metrics_roc_auc(2, scores, (const uint8_t[]){1, 1})), "AUC with one class is NaN");
    }
    { /* log_loss(["spam","ham","ham","spam"], [[.1,.9],[.9,.1],[.8,.2],[.35,.65]]) = 0.21616… */
        static const uint32_t truth[4] = {1, 0, 0, 1};
        static const float p[8] = {0.1f, 0.9f, 0.9f, 0.1f, 0.8f, 0.2f, 0.35f, 0.65f};
        CHECK(lathe_class_report_create(4, 2, truth, p, &r, &err) == LATHE_OK, "%s", err.message);
        if (r) {
            CHECK(fabs(r->log_loss - 0.21616187468057912) < 1e-6, "log loss %.12g", r->log_loss);
            CHECK(fabs(r->macro_roc_auc - 1.0) < 1e-12, "binary AUC %g", r->macro_roc_auc);
        }
        lathe_class_report_destroy(r);
    }
    { /* r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) = 0.9486…; MSE 0.375; MAE 0.5 */
        static const float truth[4] = {3.0f, -0.5f, 2.0f, 7.0f}, pred[4] = {2.5f, 0.0f, 2.0f, 8.0f};
        lathe_regression_report rr = lathe_regression_report_compute(4, truth, pred);
        CHECK(fabs(rr.r2 - 0.9486081370449679) < 1e-12, "r2 %.15g", rr.r2);
        CHECK(fabs(rr.mse - 0.375) < 1e-12 && fabs(rr.mae - 0.5) < 1e-12, "mse %g mae %g", rr.mse, rr.mae);
        CHECK(fabs(rr.rmse - sqrt(0.375)) < 1e-12, "rmse");
    }
    { /* out of memory at each allocation: a clean error, nothing leaked */
        static const uint32_t truth[4] = {1, 0, 0, 1};
        static const float p[8] = {0.1f, 0.9f, 0.9f, 0.1f, 0.8f, 0.2f, 0.35f, 0.65f};
        unsigned long n;
        for (n = 1; n < 40; n++) {
            lathe_status st;
            lathe_alloc_fail_at(n);
            st = lathe_class_report_create(4, 2, truth, p, &r, &err);
            lathe_alloc_fail_at(0);
            lathe_class_report_destroy(r);
            if (st == LATHE_OK) break;
            CHECK(st == LATHE_ERR_NOMEM, "allocation %lu: status %d", n, (int)st);
        }
        CHECK(n > 5 && n < 40, "sweep ended at %lu", n);
    }
    CHECK(lathe_alloc_live() == live, "leaked %ld blocks", lathe_alloc_live() - live);
    return check_finish("test_metrics");
}
