/* Exported wrappers around firmware/app/ek_rules.h for the Python car runtime (edgekit.car.rules). */
#include "ek_rules.h"

int ek_car_control_hz(void) { return EK_CONTROL_HZ; }
long ek_car_failsafe_us(void) { return EK_FAILSAFE_US; }

int ek_car_step(const ek_limits *lim, int rc_active, int32_t rc_steer, int32_t rc_throttle, int32_t angle,
                int32_t throttle, int32_t *steer, int32_t *thr)
{
    return ek_rules_step(lim, rc_active, rc_steer, rc_throttle, angle, throttle, steer, thr);
}

int ek_car_failsafe_due(uint64_t now_us, uint64_t last_fresh_us) { return ek_rules_failsafe_due(now_us, last_fresh_us); }
