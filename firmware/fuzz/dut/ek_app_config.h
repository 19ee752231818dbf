/* Quantization config for the DUT fuzz harness (the build generates the real one, see
 * host/edgekit/firmware/build.py write_app_config): pixel/255 with scale 1/255, zero point -128. */
#ifndef EK_APP_CONFIG_H /* guarded: the fuzz harnesses compile several app files into one unit */
#define EK_APP_CONFIG_H
#include <stdint.h>
#define EK_FUZZ_LUT8(b) (int8_t)(b - 128), (int8_t)(b - 127), (int8_t)(b - 126), (int8_t)(b - 125), \
                        (int8_t)(b - 124), (int8_t)(b - 123), (int8_t)(b - 122), (int8_t)(b - 121)
#define EK_FUZZ_LUT64(b) EK_FUZZ_LUT8(b), EK_FUZZ_LUT8(b + 8), EK_FUZZ_LUT8(b + 16), EK_FUZZ_LUT8(b + 24), \
                         EK_FUZZ_LUT8(b + 32), EK_FUZZ_LUT8(b + 40), EK_FUZZ_LUT8(b + 48), EK_FUZZ_LUT8(b + 56)
static const int8_t ek_pixel_lut[256] = {EK_FUZZ_LUT64(0), EK_FUZZ_LUT64(64), EK_FUZZ_LUT64(128), EK_FUZZ_LUT64(192)};
#define EK_OUT_ANGLE_INDEX 0
#define EK_OUT_ANGLE_SCALE 0.0078125f
#define EK_OUT_ANGLE_ZP 0
#define EK_OUT_THROTTLE_INDEX 1
#define EK_OUT_THROTTLE_SCALE 0.0078125f
#define EK_OUT_THROTTLE_ZP 0
#define EK_CAPTURE_PRE 3
#define EK_CAPTURE_POST 2
#define EK_CAPTURE_THRESHOLD_MILLI 300
#define EK_CAPTURE_SLOTS 2
#endif
