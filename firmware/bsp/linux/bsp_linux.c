/* Board support for the aarch64 Linux boards (and their qemu-aarch64 twins).
 * Link: a TCP server (--listen PORT, 0 = any; prints "ek: listening on 127.0.0.1:PORT" on
 * stderr) or stdin/stdout (--stdio). Clock: clock_gettime(CLOCK_MONOTONIC). Camera: the newest
 * frame in a file the camera process (or the simulator) replaces atomically (--camera FILE).
 * Storage: a file (--storage FILE). Actuators: the values go out in the drive telemetry; a real
 * board adds its PWM/servo driver here. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "ek_hal.h"

#ifndef EK_BOARD_NAME
#define EK_BOARD_NAME "linux"
#endif

static int listen_fd = -1, in_fd = -1, out_fd = -1, use_stdio;
static const char *camera_path = "camera.bin", *storage_path = "storage.bin";
static FILE *storage;
static uint8_t rxbuf[4096], txbuf[8192];
static size_t rx_len, rx_pos, tx_len;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

void hal_init(int argc, char **argv)
{
    int port = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--stdio")) use_stdio = 1;
        else if (!strcmp(argv[i], "--camera") && i + 1 < argc) camera_path = argv[++i];
        else if (!strcmp(argv[i], "--storage") && i + 1 < argc) storage_path = argv[++i];
        else { fprintf(stderr, "usage: %s [--listen PORT | --stdio] [--camera FILE] [--storage FILE]\n", argv[0]); exit(2); }
    }
    signal(SIGPIPE, SIG_IGN);
    storage = fopen(storage_path, "r+b");
    if (!storage) storage = fopen(storage_path, "w+b");
    if (use_stdio || port < 0) {
        in_fd = 0;
        out_fd = 1;
        return;
    }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (listen_fd < 0) die("socket");
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) || listen(listen_fd, 1)) die("bind/listen");
    socklen_t al = sizeof a;
    getsockname(listen_fd, (struct sockaddr *)&a, &al);
    fprintf(stderr, "ek: listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stderr);
}

const char *hal_board_name(void) { return EK_BOARD_NAME; }

uint64_t hal_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void drop_client(void)
{
    if (in_fd >= 0) close(in_fd);
    in_fd = out_fd = -1;
}

static void write_all(const void *buf, size_t len)
{
    const char *p = buf;
    while (len && out_fd >= 0) {
        ssize_t n = write(out_fd, p, len);
        if (n <= 0) { drop_client(); return; }
        p += n;
        len -= (size_t)n;
    }
}

static void flush_tx(void)
{
    write_all(txbuf, tx_len);
    tx_len = 0;
}

int hal_link_getc(uint32_t timeout_us)
{
    if (rx_pos < rx_len) return rxbuf[rx_pos++];
    flush_tx(); /* replies go out in one write when the app is about to wait for input */
    struct pollfd p = {.fd = in_fd >= 0 ? in_fd : listen_fd, .events = POLLIN};
    if (poll(&p, 1, (int)((timeout_us + 999) / 1000)) <= 0) return -1;
    if (in_fd < 0) { /* a host connects: one client at a time */
        in_fd = out_fd = accept(listen_fd, 0, 0);
        int one = 1;
        if (in_fd >= 0) setsockopt(in_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return -1;
    }
    ssize_t n = read(in_fd, rxbuf, sizeof rxbuf);
    if (n <= 0) {
        if (use_stdio || listen_fd < 0) exit(0); /* stdin closed */
        drop_client();
        return -1;
    }
    rx_len = (size_t)n;
    rx_pos = 1;
    return rxbuf[0];
}

void hal_link_write(const void *buf, size_t len)
{
    if (tx_len + len > sizeof txbuf) flush_tx();
    if (len > sizeof txbuf) { write_all(buf, len); return; }
    memcpy(txbuf + tx_len, buf, len);
    tx_len += len;
}

int hal_link_up(void) { return out_fd >= 0; }

int hal_camera_read(uint8_t *frame, size_t len, uint32_t *seq)
{
    FILE *f = fopen(camera_path, "rb");
    if (!f) return -1;
    uint32_t hdr[4];
    int ok = fread(hdr, sizeof hdr, 1, f) == 1 && hdr[0] == 0x4643454bu && hdr[2] == len &&
             fread(frame, 1, len, f) == len;
    fclose(f);
    if (!ok) return -1;
    *seq = hdr[1];
    return 0;
}

void hal_actuate(int32_t steering_milli, int32_t throttle_milli)
{
    (void)steering_milli;
    (void)throttle_milli;
}

int hal_storage_read(uint32_t offset, void *buf, size_t len)
{
    if (!storage || fseek(storage, offset, SEEK_SET)) return -1;
    return (int)fread(buf, 1, len, storage);
}

int hal_storage_write(uint32_t offset, const void *buf, size_t len)
{
    if (!storage || fseek(storage, offset, SEEK_SET)) return -1;
    int n = (int)fwrite(buf, 1, len, storage);
    fflush(storage);
    return n;
}
