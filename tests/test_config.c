/*
 * test_config.c - the strict INI config (src/config.c): defaults, includes (override order,
 * relative paths, cycles), every error class with its file:line message, --set, the
 * write -> load round trip, the hash and the Markdown key table.
 * Fixtures: the .ini files in tests/fixtures/config/; error cases are written to temp files.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/config.h"
#include "src/config_keys.h"
#include "tests/test.h"
#include "base/err.h"

#define FIX "tests/fixtures/config/"

typedef struct { char path[64]; } Tmp;

// Writes text to a fresh temp file named /tmp/nemu_cfg_XXXXXX.ini.
static void tmp_write(Tmp *t, const char *text) {
    snprintf(t->path, sizeof t->path, "/tmp/nemu_cfg_XXXXXX.ini");
    int fd = mkstemps(t->path, 4);
    CHECK(fd >= 0, "mkstemps failed");
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
}

// Loads text (plus sets) and expects failure whose message contains every want[i]
// ("@" in a want is replaced by the temp file's path).
static void expect_error(int line, const char *text, int n_sets, char **sets, const char *w1,
                         const char *w2) {
    Tmp t;
    tmp_write(&t, text);
    Config c;
    Err err = {{0}};
    int rc = config_load(&c, t.path, n_sets, sets, &err);
    const char *wants[2] = {w1, w2};
    int ok = rc == -1;
    for (int i = 0; i < 2 && ok; i++) {
        if (!wants[i]) continue;
        char want[512];
        size_t n = 0;
        for (const char *p = wants[i]; *p && n + sizeof t.path < sizeof want; p++) {
            if (*p == '@') n += (size_t)snprintf(want + n, sizeof want - n, "%s", t.path);
            else want[n++] = *p;
        }
        want[n] = '\0';
        ok = strstr(err.msg, want) != NULL;
        if (!ok) printf("  want '%s'\n", want);
    }
    EXPECT(ok, "line %d: rc=%d msg='%s'", line, rc, err.msg);
    unlink(t.path);
}
#define ERR(text, w1, w2) expect_error(__LINE__, text, 0, NULL, w1, w2)

static void test_defaults(void) {
    Config c;
    Err err;
    int rc;
    config_defaults(&c);
    EXPECT(c.run.seed == 42 && c.run.threads == 0, "run defaults");
    EXPECT(strcmp(c.data.path, "data/tetris.h5") == 0 && c.data.generate == GEN_TETRIS, "data.path");
    EXPECT(c.data.height == 80 && c.data.width == 80 && c.data.channels == 1, "frame size");
    EXPECT(c.data.test_episodes == 20 && c.data.val_split == 0.2, "splits");
    EXPECT(c.model.latent_dim == 32 && c.model.stages == 3 && c.model.base_channels == 32, "model");
    EXPECT(c.model.latent_noise == 0 && c.model.autoencoder[0] == '\0', "model noise/ae");
    EXPECT(c.train.stage == STAGE_AUTOENCODER && c.train.epochs == 50 && c.train.batch_size == 128,
           "train");
    EXPECT(c.train.lr == 0.001 && c.train.weight_decay == 0 && c.train.optimizer == OPT_ADAM &&
           c.train.max_grad_norm == 0, "train optim");
    EXPECT(c.dynamics.type == DYN_DETERMINISTIC && c.dynamics.hidden == 128 &&
           c.dynamics.rollout_steps == 1 && c.dynamics.beta == 0, "dynamics");
    int want_steps[] = {1, 5, 10, 30, 60};
    EXPECT(c.eval.n_steps == 5 && memcmp(c.eval.steps, want_steps, sizeof want_steps) == 0, "steps");
    EXPECT(c.eval.starts == 5 && c.eval.temperature == 0 && c.eval.samples == 1 && c.eval.episodes == 0,
           "eval");

    // empty file: defaults, name = stem, dynamics.* inherit train.*
    Tmp t;
    tmp_write(&t, "# nothing\n\n; still nothing\n");
    EXPECT(config_load(&c, t.path, 0, NULL, &err) == 0, "%s", err.msg);
    char stem[64];
    snprintf(stem, sizeof stem, "%.*s", (int)strlen(t.path + 5) - 4, t.path + 5);
    EXPECT(strcmp(c.run.name, stem) == 0, "name '%s' want stem '%s'", c.run.name, stem);
    EXPECT(c.dynamics.epochs == 50 && c.dynamics.lr == 0.001, "dynamics inherits train");
    EXPECT(config_source(&c, "train.lr") == NULL, "default has no source");
    unlink(t.path);
    EXPECT(config_load(&c, NULL, 0, NULL, &err) == 0 && strcmp(c.run.name, "nemu") == 0, "no file");
    rc = config_load(&c, FIX, 0, NULL, &err);
    EXPECT(rc == -1 && strstr(err.msg, "is a directory; expected a config file"), "a directory: %s", rc ? err.msg : "accepted");
    char dotted[] = "/tmp/nemu_cfg_XXXXXX.v1.2.ini";
    int fd = mkstemps(dotted, 9);
    CHECK(fd >= 0, "mkstemps");
    close(fd);
    rc = config_load(&c, dotted, 0, NULL, &err);
    EXPECT(rc == 0 && strcmp(c.run.name + 15, ".v1.2") == 0, "stem keeps inner dots: %s", c.run.name);
    unlink(dotted);
}

static void test_includes(void) {
    Config c;
    Err err;
    EXPECT(config_load(&c, FIX "child.ini", 0, NULL, &err) == 0, "%s", err.msg);
    EXPECT(c.train.epochs == 10, "key before include is overridden by it: epochs %d", c.train.epochs);
    EXPECT(c.train.lr == 0.002, "key after include overrides it: lr %g", c.train.lr);
    EXPECT(c.train.batch_size == 32 && c.run.seed == 7 && c.data.height == 64 && c.data.width == 64,
           "included values");
    EXPECT(strcmp(c.run.name, "child") == 0, "name = top file's stem: %s", c.run.name);
    EXPECT(c.dynamics.epochs == 10 && c.dynamics.lr == 0.002, "dynamics inherits resolved train.*");
    const char *src = config_source(&c, "train.epochs");
    EXPECT(src && strcmp(src, FIX "base.ini:13") == 0, "source of train.epochs: %s", src ? src : "-");
    src = config_source(&c, "data.width");
    EXPECT(src && strcmp(src, FIX "base.ini:7") == 0, "source of data.width: %s", src ? src : "-");

    // nested, from another directory: paths resolve against each including file
    EXPECT(config_load(&c, FIX "sub/nested.ini", 0, NULL, &err) == 0, "%s", err.msg);
    EXPECT(c.model.latent_dim == 64 && c.train.lr == 0.002 && c.run.seed == 7, "nested values");
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd), "getcwd");
    CHECK(chdir(FIX "sub") == 0, "chdir");
    int rc = config_load(&c, "nested.ini", 0, NULL, &err);
    CHECK(chdir(cwd) == 0, "chdir back");
    EXPECT(rc == 0 && c.model.latent_dim == 64 && c.data.height == 64, "load from the fixture dir: %s",
           rc ? err.msg : "");

    // cycle
    rc = config_load(&c, FIX "cycle_a.ini", 0, NULL, &err);
    EXPECT(rc == -1 && strcmp(err.msg, FIX "cycle_b.ini:2: include cycle: " FIX "cycle_a.ini -> "
                              FIX "cycle_b.ini -> " FIX "cycle_a.ini") == 0, "cycle: %s", err.msg);

    // missing files
    rc = config_load(&c, FIX "nope.ini", 0, NULL, &err);
    EXPECT(rc == -1 && strstr(err.msg, "cannot open config '" FIX "nope.ini'"), "missing: %s", err.msg);
    ERR("[run]\nseed = 1\ninclude = does_not_exist.ini\n", "@:3: include: cannot open '/tmp/does_not_exist.ini'",
        NULL);
}

static void test_syntax_errors(void) {
    ERR("[run]\nseed = 3\n[trian]\nepochs = 1\n", "@:3: unknown section [trian]", NULL);
    ERR("[train]\nepochs = 1\nlrr = 0.1\n", "@:3: [train] unknown key 'lrr'", "keys: stage, epochs");
    ERR("[train]\nepochs 5\n", "@:2: expected 'key = value' or '[section]', found 'epochs 5'", NULL);
    ERR("[train\n", "@:1: expected '[section]'", NULL);
    ERR("# top\nseed = 1\n", "@:2: key 'seed' before any [section]", NULL);
    ERR("[train]\nlr = 0.1\nepochs = 2\n\nlr = 0.2\n", "@:5: [train] lr: set twice in this file (first at line 2)",
        NULL);
    ERR("[train]\nlr = 0.1\n[model]\n[train]\nlr = 0.2\n", "@:5: [train] lr: set twice", NULL);
    ERR("include =\n", "@:1: include: expected a file name", NULL);
}

static void test_value_errors(void) {
    ERR("[train]\nlr = fast\n", "@:2: [train] lr: expected a number > 0, found 'fast'", NULL);
    ERR("[train]\nlr = 0\n", "@:2: [train] lr: expected a number > 0, found '0'", NULL);
    ERR("[train]\nlr = nan\n", "[train] lr: expected a number > 0, found 'nan'", NULL);
    ERR("[train]\nlr = inf\n", "found 'inf'", NULL);
    ERR("[train]\nlr = 1e400\n", "found '1e400'", NULL);
    ERR("[train]\nlr =\n", "@:2: [train] lr: expected a number > 0, found ''", NULL);
    ERR("[train]\nepochs = 10x\n", "@:2: [train] epochs: expected an integer in 0..1000000, found '10x'", NULL);
    ERR("[train]\nepochs = 2.5\n", "found '2.5'", NULL);
    ERR("[train]\nepochs = -1\n", "[train] epochs: expected an integer in 0..1000000, found '-1'", NULL);
    ERR("[train]\nepochs = 99999999999999999999\n", "found '99999999999999999999'", NULL);
    ERR("[train]\nbatch_size = 0\n", "@:2: [train] batch_size: expected an integer in 1..65536", NULL);
    ERR("[model]\nlatent_dim = 5000\n", "[model] latent_dim: expected an integer in 1..4096, found '5000'", NULL);
    ERR("[model]\nstages = 5\n", "[model] stages: expected an integer in 2..4", NULL);
    ERR("[data]\nchannels = 2\n", "@:2: [data] channels: expected 1 or 3, found '2'", NULL);
    ERR("[data]\nheight = 8\n", "[data] height: expected an integer in 16..4096", NULL);
    ERR("[data]\nval_split = 1\n", "[data] val_split: expected a number in [0, 1), found '1'", NULL);
    ERR("[data]\nval_split = -0.1\n", "found '-0.1'", NULL);
    ERR("[data]\npath =\n", "[data] path: expected a non-empty path", NULL);
    ERR("[run]\nname = a/b\n", "@:2: [run] name: expected a name", NULL);
    ERR("[run]\nseed = -1\n", "[run] seed: expected an integer in 0..18446744073709551615, found '-1'", NULL);
    ERR("[run]\nseed = 18446744073709551616\n", "[run] seed", NULL);
    ERR("[train]\nstage = auto\n", "@:2: [train] stage: expected one of autoencoder, dynamics, both, found 'auto'",
        NULL);
    ERR("[train]\noptimizer = sgd\n", "expected one of adam, adamw", NULL);
    ERR("[data]\ngenerate = mario\n", "expected one of tetris, scroller, maze, none", NULL);
    ERR("[eval]\nsteps = 1,5,5\n", "@:2: [eval] steps: expected a comma-separated, strictly increasing", NULL);
    ERR("[eval]\nsteps = 0,1\n", "found '0,1'", NULL);
    ERR("[eval]\nsteps = 1,,2\n", "found '1,,2'", NULL);
    ERR("[eval]\nsteps = 1,2,\n", "found '1,2,'", NULL);
    ERR("[eval]\nsteps = 1,2000\n", "found '1,2000'", NULL);
    ERR("[eval]\nsteps = 5,1\n", "found '5,1'", NULL);
    ERR("[eval]\nsteps =\n", "found ''", NULL);
    ERR("[dynamics]\nsampling_end = 1.5\n[train]\nstage = both\n", "[dynamics] sampling_end: expected a number in [0, 1]",
        NULL);
    ERR("[train]\nstage = both\n[dynamics]\ndeadband = -0.1\n", "@:4: [dynamics] deadband: expected a number in [0, 5], "
        "found '-0.1'", NULL);
    ERR("[train]\nstage = both\n[dynamics]\ndeadband = wide\n", "[dynamics] deadband: expected a number in [0, 5]",
        NULL);

    // accepted forms
    Tmp t;
    tmp_write(&t, "[run]   # trailing\nseed=18446744073709551615\n[data]\npath = data/a#b;c.h5 ; comment\n"
                  "[eval]\nsteps = 2 , 4,8\n[ train ]\nlr = 1e-3\r\n");
    Config c;
    Err err;
    EXPECT(config_load(&c, t.path, 0, NULL, &err) == 0, "%s", err.msg);
    EXPECT(c.run.seed == UINT64_MAX, "seed max");
    EXPECT(strcmp(c.data.path, "data/a#b;c.h5") == 0, "path '%s'", c.data.path);
    EXPECT(c.eval.n_steps == 3 && c.eval.steps[0] == 2 && c.eval.steps[2] == 8, "steps with spaces");
    EXPECT(c.train.lr == 0.001, "lr 1e-3 with CRLF");
    unlink(t.path);
    tmp_write(&t, "[train]\nstage = both\n[dynamics]\ndeadband = 0.25\n");
    EXPECT(config_load(&c, t.path, 0, NULL, &err) == 0 && c.dynamics.deadband == 0.25, "dynamics.deadband = 0.25: %s",
           err.msg);
    // dynamics.history: a count (the N steps before) or the steps back; 1,2,3 is the count 3
    const char *hv[] = {"12", "1,2,4,8,16,48", "1,2,3", "0"};
    const int hn[] = {12, 6, 3, 0}, h5[] = {0, 48, 0, 0};
    for (int i = 0; i < 4; i++) {
        char kv[64], txt[64];
        snprintf(kv, sizeof kv, "dynamics.history=%s", hv[i]);
        char *hs[] = {"model.latent=spatial", kv};
        int rc = config_load(&c, t.path, 2, hs, &err);
        EXPECT(rc == 0 && c.dynamics.history == hn[i] && c.dynamics.history_off[5] == h5[i], "%s: history %d: %s", kv,
               c.dynamics.history, rc ? err.msg : "");
        cfg_value_text(&c, K_DYN_HISTORY, txt, sizeof txt);
        EXPECT(strcmp(txt, i == 2 ? "3" : hv[i]) == 0, "%s written as '%s'", kv, txt);
    }
    const char *hbad[] = {"33", "0,1", "2,1", "1,257", "1,,2", "-1"};
    for (int i = 0; i < 6; i++) {
        char kv[64];
        snprintf(kv, sizeof kv, "dynamics.history=%s", hbad[i]);
        char *hs[] = {"model.latent=spatial", kv};
        EXPECT(config_load(&c, t.path, 2, hs, &err) < 0 && strstr(err.msg, "[dynamics] history: expected"),
               "%s refused: %s", kv, err.msg);
    }
    char *set[] = {"dynamics.deadband=0"};
    EXPECT(config_load(&c, t.path, 1, set, &err) == 0 && c.dynamics.deadband == 0, "--set dynamics.deadband=0 "
           "overrides the file: %s", err.msg);
    unlink(t.path);
}

static void test_cross_key_errors(void) {
    ERR("[data]\nheight = 84\n", "@:2: [data] height: data.height = 84 is not divisible by 2^model.stages = 8",
        NULL);
    ERR("[model]\nstages = 4\n[data]\nwidth = 72\n", "@:4: [data] width", "model.stages = 4 at @:2");
    ERR("[dynamics]\nbeta = 0.1\n[train]\nstage = both\n",
        "@:2: [dynamics] beta: has no effect while dynamics.type = deterministic", NULL);
    ERR("[dynamics]\nhidden = 64\n", "@:2: [dynamics] hidden: has no effect while train.stage = autoencoder", NULL);
    ERR("[dynamics]\ndeadband = 0.1\n", "@:2: [dynamics] deadband: has no effect while train.stage = autoencoder", NULL);
    ERR("[train]\nstage = both\n[eval]\ntemperature = 1\n",
        "@:4: [eval] temperature: has no effect while dynamics.type = deterministic", NULL);
    ERR("[eval]\nsamples = 3\n", "@:2: [eval] samples: has no effect while dynamics.type = deterministic", NULL);
    ERR("[train]\nstage = both\n[dynamics]\ntype = vae\n[eval]\nsamples = 3\n",
        "@:6: [eval] samples: 3 samples have no effect while eval.temperature = 0", NULL);
    ERR("[model]\nautoencoder = runs/ae/best.h5\n[train]\nstage = both\n",
        "@:2: [model] autoencoder: has no effect while train.stage = both", NULL);
    ERR("[model]\nautoencoder = runs/ae/best.h5\n", "@:2: [model] autoencoder: has no effect while train.stage = autoencoder",
        NULL);
    ERR("[train]\nstage = dynamics\n", "@:2: [train] stage: dynamics needs [model] autoencoder", NULL);
    ERR("[model]\nlatent_noise = 0.1\nautoencoder = a.h5\n[train]\nstage = dynamics\n",
        "@:2: [model] latent_noise: has no effect while train.stage = dynamics", NULL);
    ERR("[train]\nstage = both\n[dynamics]\nblocks = 3\n",
        "@:4: [dynamics] blocks: has no effect while model.latent = flat", NULL);
    ERR("[train]\nstage = both\n[dynamics]\nchanged_weight = 3\n",
        "@:4: [dynamics] changed_weight: has no effect while dynamics.loss = latent", NULL);
    ERR("[model]\nlatent_channels = 8\n", "@:2: [model] latent_channels: has no effect while model.latent = flat", NULL);
    ERR("[train]\nperceptual_weight = 0.1\n", "@:2: [train] perceptual_weight: needs train.perceptual_model", NULL);
    ERR("[train]\nperceptual_model = runs/a/ae_best.h5\n",
        "@:2: [train] perceptual_model: has no effect while train.perceptual_weight = 0", NULL);
    ERR("[model]\nautoencoder = a.h5\n[train]\nstage = dynamics\nperceptual_weight = 0.1\n",
        "@:5: [train] perceptual_weight: has no effect while train.stage = dynamics", NULL);
    ERR("[train]\nperceptual_weight = -1\n", "@:2: [train] perceptual_weight: expected a number", NULL);
    ERR("[train]\nweight_map_gain = 10\n", "@:2: [train] weight_map_gain: needs train.weight_map", NULL);
    ERR("[train]\nweight_map = m.png\n", "@:2: [train] weight_map: has no effect while train.weight_map_gain = 0", NULL);
    ERR("[train]\nweight_map = m.png\nweight_map_gain = -1\n", "@:3: [train] weight_map_gain: expected a number",
        NULL);
    ERR("[model]\nautoencoder = a.h5\n[train]\nstage = dynamics\nweight_map = m.png\nweight_map_gain = 3\n",
        "@:5: [train] weight_map: has no effect while train.stage = dynamics", NULL);
    ERR("[data]\npath = a.h5, b.h5\n[train]\nweight_map = m.png\nweight_map_gain = 3\n",
        "@:4: [train] weight_map: one map for several games' frames", NULL);
    ERR("[train]\nstage = both\n[dynamics]\nhypotheses = 4\n",
        "@:4: [dynamics] hypotheses: needs model.latent = spatial", NULL);
    ERR("[model]\nlatent = spatial\n[train]\nstage = both\n[dynamics]\ntype = vae\nhypotheses = 4\n",
        "@:7: [dynamics] hypotheses: cannot be combined with dynamics.type = vae", NULL);
    ERR("[model]\nlatent = spatial\n[train]\nstage = both\n[dynamics]\nrollout_steps = 4\nhyp_feed = most_probable\n",
        "@:7: [dynamics] hyp_feed: has no effect while dynamics.hypotheses = 1", NULL);
    ERR("[model]\nlatent = spatial\n[train]\nstage = both\n[dynamics]\nhypotheses = 4\nhyp_feed = most_probable\n",
        "@:7: [dynamics] hyp_feed: has no effect while dynamics.rollout_steps = 1", NULL);
    ERR("[model]\nlatent = spatial\n[train]\nstage = both\n[dynamics]\nhypotheses = 4\nrollout_steps = 2\n"
        "loss = pixel\nhyp_feed = most_probable\n",
        "@:9: [dynamics] hyp_feed: most_probable cannot be combined with dynamics.loss = pixel", NULL);
    ERR("[model]\nlatent = spatial\n[train]\nstage = both\n[dynamics]\nhyp_choice = cell\n",
        "@:6: [dynamics] hyp_choice: has no effect while dynamics.hypotheses = 1", NULL);
    ERR("[model]\nlatent = spatial\nlatent_dim = 64\n",
        "@:3: [model] latent_dim: has no effect while model.latent = spatial", NULL);
    ERR("[data]\ngenerate = none\ngen_episodes = 5\n", "@:3: [data] gen_episodes: has no effect while data.generate = none",
        NULL);
    ERR("[train]\nstage = both\n[dynamics]\nsampling_start = 0.2\n",
        "@:4: [dynamics] sampling_start: has no effect while dynamics.rollout_steps = 1", NULL);
    ERR("[model]\nautoencoder = a.h5\n[train]\nstage = dynamics\nepochs = 5\n[dynamics]\nepochs = 6\n",
        "@:5: [train] epochs: has no effect while train.stage = dynamics and dynamics.epochs is set (at @:7)", NULL);
    ERR("[dynamics]\nlr = 0.1\n", "@:2: [dynamics] lr: has no effect while train.stage = autoencoder", NULL);

    // the rule cites the line of the including file or the included one, whichever set it
    Tmp inc;
    tmp_write(&inc, "[dynamics]\nbeta = 0.5\n");
    char text[256];
    snprintf(text, sizeof text, "[train]\nstage = both\ninclude = %s\n", inc.path);
    char want[128];
    snprintf(want, sizeof want, "%s:2: [dynamics] beta: has no effect", inc.path);
    ERR(text, want, NULL);
    unlink(inc.path);

    // valid combinations of the same keys
    Config c;
    Err err;
    Tmp t;
    tmp_write(&t, "[model]\nautoencoder = runs/ae/best.h5\n[train]\nstage = dynamics\nepochs = 5\nlr = 0.01\n"
                  "[dynamics]\ntype = vae\nbeta = 0.001\nrollout_steps = 3\nsampling_end = 0.5\n"
                  "[eval]\ntemperature = 1\nsamples = 4\n");
    EXPECT(config_load(&c, t.path, 0, NULL, &err) == 0, "%s", err.msg);
    EXPECT(c.dynamics.epochs == 5 && c.dynamics.lr == 0.01, "dynamics inherits train.epochs/lr");
    unlink(t.path);
    tmp_write(&t, "[model]\nstages = 4\n[data]\nheight = 16\nwidth = 4096\n");
    EXPECT(config_load(&c, t.path, 0, NULL, &err) == 0, "%s", err.msg);
    unlink(t.path);
}

static void test_sets(void) {
    Config c;
    Err err;
    char *sets[] = {"train.epochs=1", "model.latent_dim = 8", "run.name=x_1", "train.lr=0.5"};
    EXPECT(config_load(&c, FIX "child.ini", 4, sets, &err) == 0, "%s", err.msg);
    EXPECT(c.train.epochs == 1 && c.model.latent_dim == 8 && c.train.lr == 0.5, "overrides applied");
    EXPECT(strcmp(c.run.name, "x_1") == 0, "name set");
    const char *src = config_source(&c, "train.epochs");
    EXPECT(src && strcmp(src, "--set train.epochs=1") == 0, "source: %s", src ? src : "-");
    EXPECT(c.dynamics.epochs == 1, "dynamics.epochs follows the --set train.epochs");

    // config_set after load, and its cross-key check
    EXPECT(config_set(&c, "train.stage=both", &err) == 0, "%s", err.msg);
    EXPECT(config_set(&c, "dynamics.beta=0.1", &err) == -1 &&
           strstr(err.msg, "--set dynamics.beta=0.1: [dynamics] beta: has no effect while dynamics.type"),
           "set rule: %s", err.msg);

    char *s1[] = {"train.lr=fast"};
    EXPECT(config_load(&c, FIX "child.ini", 1, s1, &err) == -1 &&
           strcmp(err.msg, "--set train.lr=fast: [train] lr: expected a number > 0, found 'fast'") == 0,
           "bad value: %s", err.msg);
    char *s2[] = {"train.lr"};
    EXPECT(config_load(&c, FIX "child.ini", 1, s2, &err) == -1 &&
           strstr(err.msg, "--set train.lr: expected section.key=value"), "no '=': %s", err.msg);
    char *s3[] = {"lr=0.1"};
    EXPECT(config_load(&c, NULL, 1, s3, &err) == -1 && strstr(err.msg, "expected section.key=value"),
           "no '.': %s", err.msg);
    char *s4[] = {"trian.lr=0.1"};
    EXPECT(config_load(&c, NULL, 1, s4, &err) == -1 && strstr(err.msg, "unknown section [trian]"), "%s", err.msg);
    char *s5[] = {"train.lrr=0.1"};
    EXPECT(config_load(&c, NULL, 1, s5, &err) == -1 && strstr(err.msg, "[train] unknown key 'lrr'"), "%s", err.msg);
    // cross-key rule after --set cites the file line of the other key
    char *s6[] = {"model.stages=4"};
    Tmp t;
    tmp_write(&t, "[data]\nheight = 72\n");
    char want[256];
    snprintf(want, sizeof want, "%s:2: [data] height: data.height = 72 is not divisible by 2^model.stages = 16",
             t.path);
    EXPECT(config_load(&c, t.path, 1, s6, &err) == -1 && strstr(err.msg, want), "%s", err.msg);
    EXPECT(strstr(err.msg, "(model.stages = 4 at --set model.stages=4)"), "%s", err.msg);
    unlink(t.path);
    char *s7[] = {"dynamics.beta=0.1"};
    EXPECT(config_load(&c, NULL, 1, s7, &err) == -1 &&
           strstr(err.msg, "--set dynamics.beta=0.1: [dynamics] beta: has no effect while train.stage = autoencoder"),
           "%s", err.msg);
}

// write -> load gives the same settings and the same text
static void roundtrip(const char *what, const char *path, int n_sets, char **sets) {
    Config a, b;
    Err err;
    if (config_load(&a, path, n_sets, sets, &err)) {
        EXPECT(0, "%s: load: %s", what, err.msg);
        return;
    }
    char tmp[] = "/tmp/nemu_cfg_rt_XXXXXX";
    int fd = mkstemp(tmp);
    CHECK(fd >= 0, "mkstemp");
    FILE *f = fdopen(fd, "w");
    config_write(&a, f);
    fclose(f);
    int rc = config_load(&b, tmp, 0, NULL, &err);
    EXPECT(rc == 0, "%s: reload: %s", what, rc ? err.msg : "");
    if (rc == 0) {
        EXPECT(config_equal(&a, &b), "%s: reloaded config differs", what);
        char *ta = config_to_string(&a), *tb = config_to_string(&b);
        EXPECT(strcmp(ta, tb) == 0, "%s: text differs", what);
        EXPECT(config_hash(&a) == config_hash(&b), "%s: hash differs", what);
        free(ta);
        free(tb);
    }
    unlink(tmp);
}

static void test_roundtrip(void) {
    roundtrip("defaults", NULL, 0, NULL);
    roundtrip("child", FIX "child.ini", 0, NULL);
    roundtrip("vae_rollout", FIX "vae_rollout.ini", 0, NULL);
    char *s1[] = {"model.autoencoder=runs/ae/best.h5", "train.stage=dynamics", "dynamics.epochs=3",
                  "dynamics.lr=0.5", "train.batch_size=7"};
    roundtrip("stage dynamics, own epochs/lr", NULL, 5, s1);
    // base.ini sets train.epochs: with dynamics.epochs also set that is refused (tested above)
    char *s2[] = {"model.autoencoder=runs/ae/best.h5", "train.stage=dynamics", "dynamics.type=vae",
                  "eval.temperature=0.3", "eval.samples=2", "run.seed=0", "train.lr=0.1"};
    roundtrip("stage dynamics, inherited", FIX "base.ini", 7, s2);
    char *s3[] = {"model.latent=spatial", "train.stage=both", "dynamics.history=1,2,4,8,16,48"};
    roundtrip("dynamics.history as steps back", NULL, 3, s3);

    Config c;
    Err err;
    EXPECT(config_load(&c, FIX "vae_rollout.ini", 0, NULL, &err) == 0, "%s", err.msg);
    char *text = config_to_string(&c);
    EXPECT(strstr(text, "\n[dynamics]\n") && strstr(text, "\nbeta = 0.001\n") &&
           strstr(text, "\nsteps = 1,2,3,1000\n") && strstr(text, "\nweight_decay = 0.0001\n") &&
           strstr(text, "\n# autoencoder =     (has no effect while train.stage = both"), "written text:\n%s", text);
    EXPECT(strstr(text, "\n# gen_seed = 0    (has no effect while data.generate = none)\n"), "gen_* commented");
    EXPECT(strstr(text, "# learning rate of each stage"), "help comment");
    EXPECT(strstr(text, "\nepochs = 7\n") && strstr(text, "\n# lr = 0.01    (the same as train.lr)\n"),
           "dynamics.lr written as inherited");
    free(text);
}

static void test_hash(void) {
    Config a, b;
    Err err;
    EXPECT(config_load(&a, FIX "child.ini", 0, NULL, &err) == 0, "%s", err.msg);
    char *s[] = {"train.lr=0.0020000001"};
    EXPECT(config_load(&b, FIX "child.ini", 1, s, &err) == 0, "%s", err.msg);
    EXPECT(config_hash(&a) != config_hash(&b), "hash must change with lr");
    EXPECT(!config_equal(&a, &b), "configs differ");
    char *s2[] = {"train.lr=0.002"};   // same value from another source: same hash
    EXPECT(config_load(&b, FIX "child.ini", 1, s2, &err) == 0, "%s", err.msg);
    EXPECT(config_hash(&a) == config_hash(&b) && config_equal(&a, &b), "same settings, same hash");
    char *s3[] = {"eval.steps=1,5,10,30"};
    EXPECT(config_load(&b, FIX "child.ini", 1, s3, &err) == 0, "%s", err.msg);
    EXPECT(config_hash(&a) != config_hash(&b), "hash must change with steps");
    char *s4[] = {"run.threads=0"};   // a key at its default: the hash of a config that never names it
    EXPECT(config_load(&b, FIX "child.ini", 1, s4, &err) == 0, "%s", err.msg);
    EXPECT(config_hash(&a) == config_hash(&b), "a key set to its default leaves the hash (a new key does too)");
    char *s5[] = {"train.stage=both", "dynamics.deadband=0.1", "dynamics.reencode=10"};   // rollout choices
    char *s6[] = {"train.stage=both"};
    EXPECT(config_load(&a, FIX "child.ini", 1, s6, &err) == 0, "%s", err.msg);
    EXPECT(config_load(&b, FIX "child.ini", 3, s5, &err) == 0, "%s", err.msg);
    EXPECT(config_hash(&a) == config_hash(&b) && !config_equal(&a, &b),
           "dynamics.deadband and .reencode leave the hash (a run's checkpoints stay its own) but not the config");
}

static void test_markdown(void) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    config_print_keys_markdown(f);
    fclose(f);
    EXPECT(strncmp(buf, "| section | key | default | values | meaning |\n", 46) == 0, "header");
    EXPECT(strstr(buf, "| train | lr | 0.001 | a number > 0 |") != NULL, "lr row");
    EXPECT(strstr(buf, "| dynamics | epochs | train.epochs |") != NULL, "inherited default");
    EXPECT(strstr(buf, "| eval | steps | 1,5,10,30,60 |") != NULL, "steps row");
    int rows = 0;
    for (char *p = buf; *p; p++) rows += *p == '\n';
    EXPECT(rows == 2 + 62, "one row per key: %d", rows - 2);
    free(buf);
}

// The one steps parser (eval.steps and ./eval --steps).
static void test_steps_parse(void) {
    int st[CFG_MAX_STEPS];
    Err err = {{0}};
    EXPECT(steps_parse("1, 5,10", 1, 1000, st, &err) == 3 && st[0] == 1 && st[1] == 5 && st[2] == 10, "1, 5,10");
    static const char *const bad[] = {"", "1,,5", "5,", "5,3", "0", "1001", "1,x", "2,2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        EXPECT(steps_parse(bad[i], 1, 1000, st, &err) == -1 && strstr(err.msg, "got '"), "'%s' refused: %s", bad[i],
               err.msg);
    }
    char many[200] = "1";
    for (int i = 2; i <= CFG_MAX_STEPS + 1; i++) snprintf(many + strlen(many), sizeof many - strlen(many), ",%d", i);
    EXPECT(steps_parse(many, 1, 1000, st, &err) == -1 && strstr(err.msg, "at most"), "too many steps: %s", err.msg);
}

int main(void) {
    const char *root = getenv("NEMU_ROOT");
    if (root) CHECK(chdir(root) == 0, "chdir %s", root);
    test_defaults();
    test_steps_parse();
    test_includes();
    test_syntax_errors();
    test_value_errors();
    test_cross_key_errors();
    test_sets();
    test_roundtrip();
    test_hash();
    test_markdown();
    return test_summary();
}
