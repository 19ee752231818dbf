/* The drive rules, one definition for the firmware car app (ek_drive.c) and the Linux car
 * runtime (edgekit.car, which compiles this header into a small shared library through
 * host/edgekit/car/rules.c): control rate, failsafe timeout, limits, slew, and the RC override.
 * Units: milli (steering/throttle in [-1000, 1000]), microseconds. */
#ifndef EK_RULES_H
#define EK_RULES_H
#include <stdint.h>

#ifndef EK_CONTROL_HZ
#define EK_CONTROL_HZ 20
#endif
#ifndef EK_FAILSAFE_US
#define EK_FAILSAFE_US 90000 /* < 100 ms so actuation is at 0 within 100 ms despite poll jitter */
#endif

enum { EK_MODE_AUTO, EK_MODE_MANUAL, EK_MODE_FAILSAFE };

typedef struct {
    int32_t steer_max, throttle_max, steer_slew, throttle_slew;
} ek_limits;

static inline int32_t ek_clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* One control step: the pilot's (angle, throttle) or the driver's stick (rc_active) ->
 * the new outputs in *steer / *throttle (which hold the previous ones on entry).
 * The stick always wins and is never slew-limited; the pilot is limited, then slewed. */
static inline int ek_rules_step(const ek_limits *lim, int rc_active, int32_t rc_steer, int32_t rc_throttle,
                                int32_t angle, int32_t throttle, int32_t *steer, int32_t *thr)
{
    if (rc_active) {
        *steer = ek_clamp(rc_steer, -1000, 1000);
        *thr = ek_clamp(rc_throttle, -1000, 1000);
        return EK_MODE_MANUAL;
    }
    int32_t s = ek_clamp(angle, -lim->steer_max, lim->steer_max);
    int32_t t = ek_clamp(throttle, -lim->throttle_max, lim->throttle_max);
    *steer = ek_clamp(s, *steer - lim->steer_slew, *steer + lim->steer_slew);
    *thr = ek_clamp(t, *thr - lim->throttle_slew, *thr + lim->throttle_slew);
    return EK_MODE_AUTO;
}

/* Failsafe: nothing fresh (frame, command, heartbeat, stick) for EK_FAILSAFE_US -> neutral at once. */
static inline int ek_rules_failsafe_due(uint64_t now_us, uint64_t last_fresh_us)
{
    return now_us >= last_fresh_us && now_us - last_fresh_us >= EK_FAILSAFE_US;
}
#endif
