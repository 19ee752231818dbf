/* The drive loop: camera frame -> preprocess (uint8 pixel -> int8 model input) -> model ->
 * steering/throttle with limits and slew -> actuators, plus the failsafe and the RC override.
 *
 * Modes: `drive step%` (lockstep: the host announces each frame with `frame SEQ%` after writing
 * it to the camera side channel), `drive run%` (free-running at EK_CONTROL_HZ from the camera),
 * `drive off%`. Failsafe: no fresh frame, heartbeat (`hb%`) or RC input for EK_FAILSAFE_US ->
 * throttle 0 and steering centre at once (no slew), logged as t-failsafe. RC override
 * (`rc STEER THROTTLE%` in milli-units, `rc off%`) always wins over the model; each takeover is
 * logged (t-takeover) and counted in storage. Telemetry lines start with `t-`.
 * Shadow-mode capture (ek_capture.c): `capture shadow|autopilot|off|flush%`, `capture%` for its
 * counters; every control step hands the frame and both commands to it after actuation. */
#include <string.h>
#include "ek_app.h"
#include "ek_app_config.h"
#include "ek_capture.h"
#include "ek_hal.h"
#include "ek_rules.h" /* the rules (rate, failsafe, limits, slew, override), shared with edgekit.car */

enum { OFF, STEP, RUN };
static const char *const mode_names[] = {"auto", "manual", "failsafe"};

/* Persisted settings (storage offset 0): limits and slew per control step, milli-units. */
typedef struct {
    uint32_t magic;
    int32_t steer_max, throttle_max, steer_slew, throttle_slew;
    uint32_t boots, takeovers;
} settings_t;
#define SETTINGS_MAGIC 0x454b5331u /* "EKS1" */

static settings_t cfg;
static uint8_t frame[EK_MODEL_INPUT_BYTES];
static int loop_mode = OFF, rc_active, failsafe, took_over; /* took_over: since the last step */
static int32_t rc_steer, rc_throttle, out_steer, out_throttle;
static uint64_t last_fresh, next_tick;
static uint32_t last_seq = 0xffffffffu;

static void save_settings(void) { hal_storage_write(0, &cfg, sizeof cfg); }

void drive_init(void)
{
    if (hal_storage_read(0, &cfg, sizeof cfg) != (int)sizeof cfg || cfg.magic != SETTINGS_MAGIC) {
        memset(&cfg, 0, sizeof cfg);
        cfg.magic = SETTINGS_MAGIC;
        cfg.steer_max = 1000;
        cfg.throttle_max = 1000;
        cfg.steer_slew = 2000; /* per step: no slew limit unless configured */
        cfg.throttle_slew = 2000;
    }
    cfg.boots++;
    save_settings();
    hal_actuate(0, 0);
    ek_capture_init();
}


static int32_t dequant_milli(int index, float scale, int zp)
{
    float v = (float)(ek_output[index] - zp) * scale * 1000.0f;
    return (int32_t)(v < 0 ? v - 0.5f : v + 0.5f);
}

static void telemetry(const char *tag, const int64_t *vals, int n, const char *mode)
{
    ek_line l;
    line_start(&l, tag);
    line_str(&l, "[");
    for (int i = 0; i < n; i++) {
        if (i) line_str(&l, ",");
        line_int(&l, vals[i]);
    }
    if (mode) {
        line_str(&l, ",");
        line_str(&l, mode);
    }
    line_str(&l, "]");
    line_send(&l);
}

/* One control step on the frame in `frame`: infer, limit, slew, actuate, report. */
static void control_step(uint32_t seq, uint64_t t_capture)
{
    for (size_t i = 0; i < sizeof frame; i++) ek_input[i] = ek_pixel_lut[frame[i]];
    int rc = ek_model_invoke(ek_input, ek_output);
    uint64_t t_infer = hal_clock_us();
    int32_t angle = dequant_milli(EK_OUT_ANGLE_INDEX, EK_OUT_ANGLE_SCALE, EK_OUT_ANGLE_ZP);
    int32_t throttle = dequant_milli(EK_OUT_THROTTLE_INDEX, EK_OUT_THROTTLE_SCALE, EK_OUT_THROTTLE_ZP);
    ek_limits lim = {cfg.steer_max, cfg.throttle_max, cfg.steer_slew, cfg.throttle_slew};
    int mode = ek_rules_step(&lim, rc_active, rc_steer, rc_throttle, angle, throttle, &out_steer, &out_throttle);
    hal_actuate(out_steer, out_throttle);
    uint64_t t_act = hal_clock_us();
    last_fresh = t_act; /* the command is as fresh as its actuation */
    if (failsafe) {
        failsafe = 0;
        int64_t v[1] = {(int64_t)t_act};
        telemetry("t-resume-", v, 1, 0);
    }
    int64_t v[9] = {seq, out_steer, out_throttle, (int64_t)t_capture, (int64_t)t_infer,
                    (int64_t)t_act, angle, throttle, rc};
    telemetry("t-cmd-", v, 9, mode_names[mode]);
    ek_capture_step(frame, seq, t_capture, angle, throttle, rc_active, rc_steer, rc_throttle, took_over);
    took_over = 0;
}

static void frame_from_camera(uint32_t want_seq, int must_match)
{
    uint32_t seq = 0;
    if (hal_camera_read(frame, sizeof frame, &seq) != 0 || (must_match && seq != want_seq)) {
        int64_t v[2] = {want_seq, seq};
        telemetry("t-nocam-", v, 2, 0);
        return;
    }
    uint64_t t_capture = hal_clock_us();
    last_seq = seq;
    control_step(seq, t_capture);
}

static int32_t parse_i32(const char **p)
{
    int neg = 0;
    int32_t v = 0;
    while (**p == ' ') (*p)++;
    if (**p == '-') { neg = 1; (*p)++; }
    while (**p >= '0' && **p <= '9') { /* saturate: an int32 overflow here was UB (found by fuzzing) */
        int32_t d = *(*p)++ - '0';
        v = v > (INT32_MAX - d) / 10 ? INT32_MAX : v * 10 + d;
    }
    return neg ? -v : v;
}

int drive_command(char *cmd)
{
    uint64_t now = hal_clock_us();
    const char *p;
    if (strcmp(cmd, "hb") == 0) {
        last_fresh = now;
        return 1; /* heartbeats get no reply: they must stay cheap */
    }
    if (strncmp(cmd, "frame ", 6) == 0) {
        p = cmd + 6;
        if (loop_mode == OFF) { reply("e-[drive is off]"); return 1; }
        frame_from_camera((uint32_t)parse_i32(&p), 1);
    } else if (strncmp(cmd, "drive ", 6) == 0) {
        p = cmd + 6;
        loop_mode = strcmp(p, "step") == 0 ? STEP : strcmp(p, "run") == 0 ? RUN : OFF;
        last_fresh = now;
        failsafe = 0;
        out_steer = out_throttle = 0;
        next_tick = now;
        hal_actuate(0, 0);
        int64_t v[4] = {(int64_t)now, loop_mode, EK_FAILSAFE_US, EK_CONTROL_HZ};
        telemetry("t-drive-", v, 4, 0);
    } else if (strncmp(cmd, "rc ", 3) == 0) {
        p = cmd + 3;
        last_fresh = now;
        if (strcmp(p, "off") == 0) {
            if (rc_active) { int64_t v[1] = {(int64_t)now}; telemetry("t-release-", v, 1, 0); }
            rc_active = 0;
        } else {
            rc_steer = ek_clamp(parse_i32(&p), -1000, 1000);
            rc_throttle = ek_clamp(parse_i32(&p), -1000, 1000);
            if (!rc_active) {
                cfg.takeovers++;
                save_settings();
                int64_t v[3] = {(int64_t)now, last_seq, cfg.takeovers};
                telemetry("t-takeover-", v, 3, 0);
                took_over = 1;
            }
            rc_active = 1;
            out_steer = rc_steer; /* manual wins at once, not at the next frame */
            out_throttle = rc_throttle;
            hal_actuate(out_steer, out_throttle);
        }
    } else if (strncmp(cmd, "limits", 6) == 0) {
        p = cmd + 6;
        if (*p) {
            cfg.steer_max = ek_clamp(parse_i32(&p), 0, 1000);
            cfg.throttle_max = ek_clamp(parse_i32(&p), 0, 1000);
            cfg.steer_slew = ek_clamp(parse_i32(&p), 1, 2000);
            cfg.throttle_slew = ek_clamp(parse_i32(&p), 1, 2000);
            save_settings();
        }
        int64_t v[6] = {cfg.steer_max, cfg.throttle_max, cfg.steer_slew, cfg.throttle_slew,
                        cfg.boots, cfg.takeovers};
        telemetry("t-limits-", v, 6, 0);
    } else if (strncmp(cmd, "capture", 7) == 0) {
        p = cmd + 7;
        while (*p == ' ') p++;
        if (strcmp(p, "shadow") == 0) ek_capture_set_mode(EK_CAP_SHADOW);
        else if (strcmp(p, "autopilot") == 0) ek_capture_set_mode(EK_CAP_AUTOPILOT);
        else if (strcmp(p, "off") == 0) ek_capture_set_mode(EK_CAP_OFF);
        else if (strcmp(p, "flush") == 0) ek_capture_flush();
        else if (*p) { reply("e-[capture: shadow|autopilot|off|flush]"); return 1; }
        const ek_capture_stats *s = ek_capture_get_stats();
        int64_t v[8] = {ek_capture_mode(), s->events, s->windows, s->dropped, s->errors, s->next_id,
                        s->worst_us, ek_capture_busy()};
        telemetry("t-capture-", v, 8, 0);
    } else {
        return 0;
    }
    return 1;
}

void drive_poll(uint64_t now)
{
    if (ek_capture_busy()) ek_capture_idle(); /* a window's remaining frames, a budget per poll */
    if (loop_mode == OFF) return;
    if (!failsafe && ek_rules_failsafe_due(now, last_fresh)) {
        failsafe = 1;
        out_steer = out_throttle = 0;
        hal_actuate(0, 0);
        uint64_t t_act = hal_clock_us();
        int64_t v[3] = {(int64_t)t_act, (int64_t)last_fresh, (int64_t)(t_act - last_fresh)};
        telemetry("t-failsafe-", v, 3, 0);
    }
    if (loop_mode == RUN && now >= next_tick) {
        next_tick += 1000000 / EK_CONTROL_HZ;
        if (next_tick < now) next_tick = now + 1000000 / EK_CONTROL_HZ;
        uint32_t seq = 0;
        /* Only a new frame is fresh: a stuck camera must trip the failsafe. */
        if (hal_camera_read(frame, sizeof frame, &seq) == 0 && seq != last_seq) {
            last_seq = seq;
            control_step(seq, hal_clock_us());
        }
    }
}
