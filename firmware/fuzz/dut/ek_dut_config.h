/* DUT result format for the DUT fuzz harness (the build generates the real one with
 * edgekit.firmware.dut_config): the two outputs of dut/ek_model.h, dequantized as in
 * dut/ek_app_config.h. */
#include <stdint.h>
#define EK_DUT_AD_SCORE 0
#define EK_DUT_INPUT_SCALE 0x1.010102p-8f
#define EK_DUT_INPUT_ZP -128
#define EK_DUT_NUM_OUTPUTS 2
static const struct { int32_t offset, bytes; float scale; int32_t zero_point; } ek_dut_outputs[2] = {
    {0, 1, 0x1p-7f, 0},
    {1, 1, 0x1p-7f, 0}
};
