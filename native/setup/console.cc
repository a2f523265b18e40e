// The container's terminal: a pty made inside the container (its devpts),
// the master sent to the caller's console socket over SCM_RIGHTS (runc's
// --console-socket contract), the slave made the controlling terminal.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "setup.h"

namespace setup {

static int g_console_fd = -1;

// console path: connects to the console socket while its path is in reach.
void op_console(const Op &op) {
  const char *path = arg(op, 0);
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) fail("connect", ENAMETOOLONG, path);
  strcpy(addr.sun_path, path);
  g_console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (g_console_fd < 0) fail("socket", errno, path);
  if (connect(g_console_fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0) fail("connect", errno, path);
}

// One message: the pty's name as data (as runc sends it), the master in SCM_RIGHTS.
static void send_fd(int sock, int fd, const char *name) {
  struct iovec iov = {const_cast<char *>(name), strlen(name)};
  alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))];
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) fail("sendmsg", errno, "console socket");
}

// pty uid rows cols: opens a pty in the container's /dev/pts; the master goes
// to the console socket (if any), the slave becomes stdio and the
// controlling terminal of a new session.
void op_pty(const Op &op) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("open", errno, "/dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail("ioctl", errno, "TIOCSPTLCK");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) fail("ioctl", errno, "TIOCGPTPEER");
  if (fchown(slave, uid_t(arg_u64(op, 0)), gid_t(-1)) < 0) fail("fchown", errno, "pty");
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = static_cast<unsigned short>(arg_u64(op, 1));
  ws.ws_col = static_cast<unsigned short>(arg_u64(op, 2));
  if ((ws.ws_row || ws.ws_col) && ioctl(slave, TIOCSWINSZ, &ws) < 0) fail("ioctl", errno, "TIOCSWINSZ");
  if (g_console_fd >= 0) {
    unsigned n = 0;
    char name[32] = "/dev/pts/?";
    if (ioctl(master, TIOCGPTN, &n) == 0) snprintf(name, sizeof name, "/dev/pts/%u", n);
    send_fd(g_console_fd, master, name);
    close(g_console_fd);
    g_console_fd = -1;
  }
  close(master);
  if (setsid() < 0) fail("setsid", errno, "");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail("ioctl", errno, "TIOCSCTTY");
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0) fail("dup2", errno, "pty");
  if (slave > 2) close(slave);
}

}  // namespace setup
