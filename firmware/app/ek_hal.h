/* The small hardware abstraction the car app runs on: link, clock, camera, actuators, storage.
 * One implementation per board family (firmware/bsp/<family>/). A real board and its emulated
 * twin implement the same functions; nothing here pretends to be hardware it is not. */
#ifndef EK_HAL_H
#define EK_HAL_H
#include <stddef.h>
#include <stdint.h>

void hal_init(int argc, char **argv);
const char *hal_board_name(void);

/* Link (UART or TCP): next received byte within timeout_us, or -1. Writes block until sent. */
int hal_link_getc(uint32_t timeout_us);
void hal_link_write(const void *buf, size_t len);
/* 1 while a host is connected (boards without connection state always say 1). */
int hal_link_up(void);

/* Board clock in microseconds, monotonic, from the board's own timer. */
uint64_t hal_clock_us(void);

/* Camera: copy the newest frame (rows x cols x RGB uint8) into frame; *seq gets its sequence
 * number. Returns 0 on success, -1 when no frame is available. */
int hal_camera_read(uint8_t *frame, size_t len, uint32_t *seq);

/* Actuators: steering and throttle in milli-units, each in [-1000, 1000]. */
void hal_actuate(int32_t steering_milli, int32_t throttle_milli);

/* Storage (non-volatile, survives reboots): byte-addressed. Return bytes moved or -1. */
int hal_storage_read(uint32_t offset, void *buf, size_t len);
int hal_storage_write(uint32_t offset, const void *buf, size_t len);
#endif
