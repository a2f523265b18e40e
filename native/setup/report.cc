// Messages to Node: one JSON object per line (see ../protocol.md).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "setup.h"

namespace setup {

int g_report_fd = -1;
int g_sync_fd = -1;
const Op *g_op = nullptr;

void send_line(int fd, const char *json) {
  size_t len = strlen(json);
  while (len > 0) {
    ssize_t n = write(fd, json, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    json += n;
    len -= size_t(n);
  }
}

// Appends s to out as a JSON string body (without quotes).
static size_t json_escape(char *out, size_t cap, const char *s) {
  size_t o = 0;
  for (; s && *s && o + 7 < cap; s++) {
    unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = char(c);
    } else if (c < 0x20) {
      o += size_t(snprintf(out + o, cap - o, "\\u%04x", c));
    } else {
      out[o++] = char(c);
    }
  }
  out[o] = '\0';
  return o;
}

void send_pid(int fd, const char *type, long pid, const char *name) {
  char esc[512], line[700];
  json_escape(esc, sizeof esc, name ? name : "");
  snprintf(line, sizeof line, "{\"t\":\"%s\",\"pid\":%ld,\"name\":\"%s\"}\n", type, pid, esc);
  send_line(fd, line);
}

static void send_error(const char *syscall, int err, const char *path, const char *detail) {
  char step[256], op[64], p[4200], d[256], line[5000];
  json_escape(step, sizeof step, g_op ? g_op->step : "setup");
  json_escape(op, sizeof op, g_op ? g_op->name : "");
  json_escape(p, sizeof p, path);
  json_escape(d, sizeof d, detail);
  snprintf(line, sizeof line,
           "{\"t\":\"error\",\"step\":\"%s\",\"op\":\"%s\",\"index\":%d,\"syscall\":\"%s\",\"errno\":%d,"
           "\"path\":\"%s\",\"detail\":\"%s\"}\n",
           step, op, g_op ? g_op->index : -1, syscall, err, p, d);
  send_line(g_report_fd, line);
}

void fail(const char *syscall, int err, const char *path) {
  send_error(syscall, err, path, "");
  _exit(127);
}

void fail_detail(const char *syscall, int err, const char *path, const char *detail) {
  send_error(syscall, err, path, detail);
  _exit(127);
}

void fail_arg(const char *what) {
  send_error("plan", EINVAL, "", what);
  _exit(127);
}

}  // namespace setup
