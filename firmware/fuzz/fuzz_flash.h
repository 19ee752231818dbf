/* RAM-backed flash for the fuzz harnesses (implements ek_flash_ptr/write/erase of ek_slots.h).
 * The pristine state is a provisioned, confirmed board: Ed25519 public key and board name in the
 * bootloader region, a real signed image in slot 0 with a confirmed trailer (seq 1), slot 1
 * erased (gen/ek_fuzz_provision.h, made by make_corpus.py). fuzz_flash_restore() undoes every
 * write since the last call, so each fuzz input starts from the same flash. */
#ifndef EK_FUZZ_FLASH_H
#define EK_FUZZ_FLASH_H
#include <stddef.h>
#include <stdint.h>

void fuzz_flash_init(void);
void fuzz_flash_restore(void);
/* Place bytes at addr directly (no bounds rules of ek_flash_write): clipped to the flash end. */
void fuzz_flash_load(uint32_t addr, const uint8_t *data, size_t n);
#endif
