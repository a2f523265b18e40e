// fsOps: a list of file-system syscalls, carried out in one call. The layer
// writer (src/images/unpack.ts) lays out what an archive's entries need
// (open, write, fchown, futimens, close, mkdir, symlink, ...) and hands them
// over a chunk at a time, so an entry costs no call into Node's fs module per
// syscall. It decides nothing: each op is one syscall with the arguments it
// was given, relative to one directory fd, none following a symlink at the
// end of its path. The first failing op stops the list; the error says which
// (`index`) and which fd is open (`fd`), and the caller decides what to do.
//
// The layout is src/images/fsops.ts's: OPS_WIDTH float64s per op, the first
// the op code; strings are NUL-terminated at offsets into `strings`; file
// content is at an offset into `data`. One fd is "current": open sets it,
// write/fchown/fchmod/fsetxattr/futimens act on it, close ends it (the
// syscall comes before the call returns, several fds in one close_range).
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "addon.h"

namespace berth {

namespace {

enum Op {
  kOpen = 1,      // path, flags, mode
  kWrite = 2,     // dataOffset, length
  kFchown = 3,    // uid, gid
  kFchmod = 4,    // mode
  kFsetxattr = 5, // name, valueOffset, valueLength
  kFutimens = 6,  // seconds, nanoseconds (atime = mtime)
  kClose = 7,
  kMkdir = 8,     // path, mode
  kSymlink = 9,   // target, path
  kLink = 10,     // existing path, new path
  kMknod = 11,    // path, mode (with type bits), major, minor
  kLchown = 12,   // path, uid, gid
  kChmod = 13,    // path, mode (never a symlink: the caller does not chmod those)
  kLsetxattr = 14,// path, name, valueOffset, valueLength
  kLutimens = 15, // path, seconds, nanoseconds
};
constexpr int kWidth = 5;

const char *SyscallName(int op) {
  switch (op) {
    case kOpen: return "open";
    case kWrite: return "write";
    case kFchown: return "fchown";
    case kFchmod: return "fchmod";
    case kFsetxattr: return "fsetxattr";
    case kFutimens: return "futimens";
    case kClose: return "close";
    case kMkdir: return "mkdir";
    case kSymlink: return "symlink";
    case kLink: return "link";
    case kMknod: return "mknod";
    case kLchown: return "lchown";
    case kChmod: return "chmod";
    case kLsetxattr: return "lsetxattr";
    case kLutimens: return "lutimens";
  }
  return "fsOps";
}

// The op's path argument, for the error (the current file's for fd ops).
const char *PathOf(int op, const double *a, const char *s, const char *current) {
  switch (op) {
    case kOpen: case kMkdir: case kMknod: case kLchown: case kChmod: case kLsetxattr: case kLutimens:
      return s + size_t(a[0]);
    case kSymlink: case kLink:
      return s + size_t(a[1]);
  }
  return current;
}

// The fds a call has closed by op but not yet by syscall. Each is ours
// (opened by this call or left open for it), so a range of consecutive ones
// closes with one close_range, and nobody else's fd is in it.
class Closing {
 public:
  size_t size() const { return n_; }
  void add(int fd) {
    if (fd >= 0) fds_[n_++] = fd;
  }
  void flush() {
    std::sort(fds_, fds_ + n_);
    for (size_t i = 0; i < n_;) {
      size_t j = i;
      while (j + 1 < n_ && fds_[j + 1] == fds_[j] + 1) j++;
      if (j == i || syscall(SYS_close_range, unsigned(fds_[i]), unsigned(fds_[j]), 0u) < 0)
        for (size_t k = i; k <= j; k++) close(fds_[k]);
      i = j + 1;
    }
    n_ = 0;
  }
  ~Closing() { flush(); }

 private:
  int fds_[256];
  size_t n_ = 0;
};
constexpr size_t kCloseBatch = 256;

}  // namespace

// fsOps(dirfd, root, ops: Float64Array, count, strings: Buffer, data: Buffer | null, fd) → fd
static Napi::Value FsOps(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  Napi::Float64Array opsArr = info[2].As<Napi::Float64Array>();
  size_t count = info[3].As<Napi::Number>().Uint32Value();
  Napi::Buffer<char> strBuf = info[4].As<Napi::Buffer<char>>();
  const char *data = info[5].IsBuffer() ? info[5].As<Napi::Buffer<char>>().Data() : nullptr;
  size_t dataLen = info[5].IsBuffer() ? info[5].As<Napi::Buffer<char>>().Length() : 0;
  int fd = info[6].As<Napi::Number>().Int32Value();
  if (count * kWidth > opsArr.ElementLength()) return ThrowErrno(env, EINVAL, "fsOps");
  const double *ops = opsArr.Data();
  const char *s = strBuf.Data();
  const std::string root = info[1].As<Napi::String>().Utf8Value();  // for lsetxattr and errors
  const char *current = "";  // the path of the file open at fd, for errors
  Closing closing;           // closed when the call returns, whatever happens

  for (size_t i = 0; i < count; i++) {
    const double *o = ops + i * kWidth;
    int op = int(o[0]);
    const double *a = o + 1;
    int r = 0;
    switch (op) {
      case kOpen:
        r = fd = openat(dirfd, s + size_t(a[0]), int(a[1]) | O_CLOEXEC, mode_t(a[2]));
        current = s + size_t(a[0]);
        break;
      case kWrite: {
        size_t off = size_t(a[0]), len = size_t(a[1]);
        if (!data || off + len > dataLen) {
          errno = EINVAL;
          r = -1;
          break;
        }
        while (len > 0) {
          ssize_t n = write(fd, data + off, len);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) {
            if (n == 0) errno = EIO;
            r = -1;
            break;
          }
          off += size_t(n);
          len -= size_t(n);
        }
        break;
      }
      case kFchown: r = fchown(fd, uid_t(a[0]), gid_t(a[1])); break;
      case kFchmod: r = fchmod(fd, mode_t(a[0])); break;
      case kFsetxattr: r = fsetxattr(fd, s + size_t(a[0]), s + size_t(a[1]), size_t(a[2]), 0); break;
      case kFutimens: {
        struct timespec ts[2] = {{time_t(a[0]), long(a[1])}, {time_t(a[0]), long(a[1])}};
        r = futimens(fd, ts);
        break;
      }
      case kClose:
        // Closed by the end of the call: syscalls are dear (about 1 µs each
        // in this VM), and a run of fds we opened goes in one close_range.
        if (closing.size() == kCloseBatch) closing.flush();
        closing.add(fd);
        fd = -1;
        break;
      case kMkdir: r = mkdirat(dirfd, s + size_t(a[0]), mode_t(a[1])); break;
      case kSymlink: r = symlinkat(s + size_t(a[0]), dirfd, s + size_t(a[1])); break;
      case kLink: r = linkat(dirfd, s + size_t(a[0]), dirfd, s + size_t(a[1]), 0); break;
      case kMknod:
        r = mknodat(dirfd, s + size_t(a[0]), mode_t(a[1]), makedev(unsigned(a[2]), unsigned(a[3])));
        break;
      case kLchown: r = fchownat(dirfd, s + size_t(a[0]), uid_t(a[1]), gid_t(a[2]), AT_SYMLINK_NOFOLLOW); break;
      case kChmod: r = fchmodat(dirfd, s + size_t(a[0]), mode_t(a[1]), 0); break;
      case kLsetxattr: {
        // No lsetxattrat before Linux 6.13: the path is made whole from the root.
        std::string p = root + "/" + (s + size_t(a[0]));
        r = lsetxattr(p.c_str(), s + size_t(a[1]), s + size_t(a[2]), size_t(a[3]), 0);
        break;
      }
      case kLutimens: {
        struct timespec ts[2] = {{time_t(a[1]), long(a[2])}, {time_t(a[1]), long(a[2])}};
        r = utimensat(dirfd, s + size_t(a[0]), ts, AT_SYMLINK_NOFOLLOW);
        break;
      }
      default:
        errno = EINVAL;
        r = -1;
    }
    if (r < 0) {
      int err = errno;
      std::string path = root + "/" + PathOf(op, a, s, current);
      ThrowErrno(env, err, SyscallName(op), path.c_str());
      Napi::Error e = env.GetAndClearPendingException();
      e.Set("index", Napi::Number::New(env, double(i)));
      e.Set("fd", Napi::Number::New(env, fd));
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  return Napi::Number::New(env, fd);
}

void InitFsOps(Napi::Env env, Napi::Object exports) {
  exports.Set("fsOps", Napi::Function::New(env, FsOps, "fsOps"));
}

}  // namespace berth
