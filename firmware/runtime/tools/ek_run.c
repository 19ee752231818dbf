/* Host/emulator runner for a generated model: reads whole inputs (EK_MODEL_INPUT_BYTES each)
 * from stdin until EOF and writes each output block (EK_MODEL_OUTPUT_BYTES) to stdout.
 * Used by edgekit verify under sanitizers and by the qemu-aarch64 cross check. */
#include <stdio.h>
#include "ek_model.h"

static int8_t in_buf[EK_MODEL_INPUT_BYTES];
static int8_t out_buf[EK_MODEL_OUTPUT_BYTES];

int main(void) {
    while (fread(in_buf, 1, sizeof in_buf, stdin) == sizeof in_buf) {
        if (ek_model_invoke(in_buf, out_buf) != 0) return 2;
        if (fwrite(out_buf, 1, sizeof out_buf, stdout) != sizeof out_buf) return 3;
    }
    return 0;
}
