/*
 * test_health.c - the training health measures and collapse detector (nn/health.c) on cases
 * whose answer is known: dead ReLU channels, saturation (overall and against the data),
 * gradient norms, and the detector's causes (zero gradient, vanished gradient, unchanged
 * loss, dead layer, saturated output), its one-line message naming the layer, and when it
 * says stop (train.collapse_stop).
 */
#include <math.h>
#include <string.h>

#include "nn/health.h"
#include "tests/test.h"

static void test_measures(void) {
    // [B=2, ch=3, hw=2]: channel 0 alive in sample 1 only, channel 1 dead, channel 2 alive
    float act[12] = {0, 0, 0, 0, 1, 0,   0, 2, 0, 0, 0, 3};
    EXPECT(fabs(health_relu_dead(act, 2, 3, 2) - 1.0 / 3) < 1e-12, "one of three channels dead");
    float zero[12] = {0};
    EXPECT(health_relu_dead(zero, 2, 3, 2) == 1, "all dead");
    float out[4] = {0.00001f, 0.5f, 0.99999f, 0.2f};
    EXPECT(health_saturated(out, 4) == 0.5, "two of four saturated");
    // a black frame drawn for a frame with content: every content pixel saturated low
    float black[4] = {1e-6f, 1e-6f, 1e-6f, 1e-6f}, target[4] = {0, 0, 0.8f, 0.5f};
    EXPECT(health_saturated_wrong(black, target, 4) == 1, "black output against content: 100%%");
    float good[4] = {1e-6f, 1e-6f, 0.79f, 0.51f};
    EXPECT(health_saturated_wrong(good, target, 4) == 0, "saturated only where the frame is black: 0%%");
    float white[4] = {1, 1, 1, 1}, t2[4] = {0.95f, 0.95f, 0.95f, 0.2f};
    EXPECT(health_saturated_wrong(white, t2, 4) == 1, "white output against a dark pixel: 100%%");
}

static ParamArena arena_of(float *params, float *grads) {
    ParamArena a;
    memset(&a, 0, sizeof a);
    a.n_tensors = 2;
    snprintf(a.t[0].name, sizeof a.t[0].name, "decoder_conv.2.weight");
    a.t[0].offset = 0, a.t[0].n = 3;
    snprintf(a.t[1].name, sizeof a.t[1].name, "decoder_conv.4.bias");
    a.t[1].offset = 3, a.t[1].n = 1;
    a.n = 4, a.params = params, a.grads = grads;
    return a;
}

static void test_detector(void) {
    float p[4] = {0}, g[4] = {3, 4, 0, 12};
    ParamArena a = arena_of(p, g);
    Health h;
    health_init(&h, &a, 2);
    // epoch 1: healthy, norm 13 (sqrt(9+16+144))
    health_begin_epoch(&h);
    health_add_grads(&h);
    EXPECT(!health_end_epoch(&h, 0.5) && h.msg[0] == 0 && fabs(h.grad_norm - 13) < 1e-12, "healthy epoch, norm 13");
    // epoch 2: the loss did not move at all
    health_begin_epoch(&h);
    health_add_grads(&h);
    EXPECT(health_end_epoch(&h, 0.5) && strstr(h.msg, "train loss unchanged"), "flat loss: %s", h.msg);
    EXPECT(!health_should_stop(&h) && h.collapsed_run == 1, "one collapsed epoch: no stop yet");
    // epoch 3: zero gradient in every batch
    g[0] = g[1] = g[2] = g[3] = 0;
    health_begin_epoch(&h);
    health_add_grads(&h);
    health_add_grads(&h);
    EXPECT(health_end_epoch(&h, 0.4) && strstr(h.msg, "gradient norm 0"), "zero gradient: %s", h.msg);
    EXPECT(health_should_stop(&h), "two collapsed epochs in a row: stop");
    // epoch 4: the gradient vanished in decoder_conv.2 (norm 1e-6 vs 5 there)
    g[0] = 1e-6f, g[3] = 12e-6f;
    health_begin_epoch(&h);
    health_add_grads(&h);
    EXPECT(health_end_epoch(&h, 0.3) && strstr(h.msg, "gradient vanished") && strstr(h.msg, "decoder_conv.2"),
           "vanished: %s", h.msg);
    // epoch 5: healthy again resets the run
    g[0] = 3, g[1] = 4, g[3] = 12;
    health_begin_epoch(&h);
    health_add_grads(&h);
    EXPECT(!health_end_epoch(&h, 0.2) && h.collapsed_run == 0 && !health_should_stop(&h), "recovered");
    // epoch 6: a dead layer and a saturated output, named
    health_begin_epoch(&h);
    health_add_grads(&h);
    h.layers[0] = (HealthLayer){"encoder_conv.0", 0.25};
    h.layers[1] = (HealthLayer){"decoder_conv.2", 1.0};
    h.n_layers = 2;
    h.out_layer = "decoder_conv.4";
    h.saturated = 0.99, h.saturated_wrong = 0.95;
    EXPECT(health_end_epoch(&h, 0.1) && strstr(h.msg, "ReLU of decoder_conv.2 dead") &&
               !strstr(h.msg, "encoder_conv.0") && strstr(h.msg, "decoder_conv.4 saturated against the data"),
           "dead layer and saturation: %s", h.msg);
    EXPECT(strchr(h.msg, '\n') == NULL, "one line");
    char buf[128];
    health_dead_str(&h, buf, sizeof buf);
    EXPECT(!strcmp(buf, "encoder_conv.0=0.2500;decoder_conv.2=1.0000"), "log.csv field: %s", buf);
    // partial saturation against the data is healthy
    health_begin_epoch(&h);
    health_add_grads(&h);
    h.out_layer = "decoder_conv.4", h.saturated = 0.99, h.saturated_wrong = 0.2;
    EXPECT(!health_end_epoch(&h, 0.05), "a black background saturated, content drawn: healthy (%s)", h.msg);
    health_free(&h);

    // stop = 0: warn only
    health_init(&h, &a, 0);
    for (int e = 0; e < 5; e++) {
        health_begin_epoch(&h);
        health_add_grads(&h);
        health_end_epoch(&h, 1.0);
    }
    EXPECT(h.collapsed_run == 4 && !health_should_stop(&h), "collapse_stop = 0 never stops");
    health_free(&h);
}

int main(void) {
    test_measures();
    test_detector();
    return test_summary();
}
