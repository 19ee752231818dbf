/* Model facade for the DUT fuzz harness only: the same interface as the generated
 * build/<model>/ek_model.h (host/edgekit/codegen/emitter.py), small sizes so the harness is fast.
 * The parsers under test only see these sizes; the model itself is fuzz_dut.c's stand-in.
 * make_corpus.py's DUT_INPUT_BYTES must match EK_MODEL_INPUT_BYTES. */
#ifndef EK_MODEL_H
#define EK_MODEL_H
#include <stdint.h>
#define EK_MODEL_NAME "fuzz"
#define EK_MODEL_INPUT_BYTES 96
#define EK_MODEL_OUTPUT_BYTES 2
#define EK_MODEL_ARENA_BYTES 0
int ek_model_invoke(const int8_t *in, int8_t *out);  /* 0 on success */
#endif
