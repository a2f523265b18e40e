// Reads the plan: a 4-byte little-endian length, then that many bytes of
// NUL-terminated strings: for each op `name step argc arg...`.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "setup.h"

namespace setup {

static bool read_full(int fd, char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = read(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    len -= size_t(n);
  }
  return true;
}

bool read_plan(int fd, Op **ops_out, int *nops_out) {
  unsigned char hdr[4];
  if (!read_full(fd, reinterpret_cast<char *>(hdr), 4)) fail("read", errno ? errno : EPIPE, "plan");
  size_t len = size_t(hdr[0]) | size_t(hdr[1]) << 8 | size_t(hdr[2]) << 16 | size_t(hdr[3]) << 24;
  char *buf = static_cast<char *>(malloc(len + 1));
  if (!buf) fail("malloc", ENOMEM, "plan");
  if (!read_full(fd, buf, len)) fail("read", errno ? errno : EPIPE, "plan");
  buf[len] = '\0';

  // Tokenise: every string ends with a NUL.
  size_t ntok = 0;
  for (size_t i = 0; i < len; i++) ntok += buf[i] == '\0';
  const char **tok = static_cast<const char **>(malloc(sizeof(char *) * (ntok + 1)));
  Op *ops = static_cast<Op *>(malloc(sizeof(Op) * (ntok / 3 + 1)));
  if (!tok || !ops) fail("malloc", ENOMEM, "plan");
  size_t t = 0;
  for (size_t i = 0; i < len; t++) {
    tok[t] = buf + i;
    i += strlen(buf + i) + 1;
  }
  int nops = 0;
  for (size_t i = 0; i < ntok;) {
    if (i + 3 > ntok) return false;
    Op &op = ops[nops];
    op.name = tok[i];
    op.step = tok[i + 1];
    char *end;
    long argc = strtol(tok[i + 2], &end, 10);
    if (*end || argc < 0 || i + 3 + size_t(argc) > ntok) return false;
    op.argc = int(argc);
    op.argv = tok + i + 3;
    op.index = nops++;
    i += 3 + size_t(argc);
  }
  *ops_out = ops;
  *nops_out = nops;
  return true;
}

const char *arg(const Op &op, int i) {
  if (i >= op.argc) fail_arg("missing argument");
  return op.argv[i];
}

uint64_t arg_u64(const Op &op, int i) {
  const char *s = arg(op, i);
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (*s == '\0' || *end || errno) fail_arg("bad number");
  return v;
}

long arg_long(const Op &op, int i) {
  const char *s = arg(op, i);
  char *end;
  errno = 0;
  long v = strtol(s, &end, 0);
  if (*s == '\0' || *end || errno) fail_arg("bad number");
  return v;
}

}  // namespace setup
