// rtnetlink (NETLINK_ROUTE) for Node: links (veth, bridge), addresses,
// routes. One request per call, answered before the call returns (the
// kernel processes an rtnetlink request inside sendmsg, so recv never
// waits). Policy (names, addresses, which steps) lives in src/netns.
//
// Which namespace: a netlink socket stays bound to the network namespace
// of the thread that created it. netlinkOpen(netnsFd) therefore creates
// the socket on a short-lived helper thread that does setns(netnsFd,
// CLONE_NEWNET) and socket() and then exits, so Node's own threads never
// change namespace and nothing has to be undone. (setns into a net
// namespace is allowed in a threaded process, but doing it on the main
// thread would have to be reverted on every error path, and any libuv
// work running meanwhile would see the wrong namespace.) The other way in
// is from the host side: IFLA_NET_NS_FD / IFLA_NET_NS_PID on RTM_NEWLINK
// create or move a link straight into the namespace, which is how the
// container end of a veth pair is born there, already named eth0. Links,
// addresses and routes inside are then set through the socket opened in it.
#include <errno.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "addon.h"

namespace berth {

namespace {

// One request: header, family header, attributes (nests tracked by pointer).
class Msg {
 public:
  Msg(uint16_t type, uint16_t flags) {
    memset(buf_, 0, sizeof buf_);
    h_ = reinterpret_cast<nlmsghdr *>(buf_);
    h_->nlmsg_len = NLMSG_LENGTH(0);
    h_->nlmsg_type = type;
    h_->nlmsg_flags = uint16_t(NLM_F_REQUEST | flags);
  }
  nlmsghdr *hdr() { return h_; }
  bool ok() const { return ok_; }

  template <typename T>
  T *Put() {
    return static_cast<T *>(Reserve(NLMSG_ALIGN(sizeof(T))));
  }
  rtattr *Attr(uint16_t type, const void *data, size_t len) {
    rtattr *a = static_cast<rtattr *>(Reserve(RTA_SPACE(len)));
    if (!a) return nullptr;
    a->rta_type = type;
    a->rta_len = uint16_t(RTA_LENGTH(len));
    if (len) memcpy(RTA_DATA(a), data, len);
    return a;
  }
  void U32(uint16_t type, uint32_t v) { Attr(type, &v, sizeof v); }
  void Str(uint16_t type, const std::string &s) { Attr(type, s.c_str(), s.size() + 1); }
  rtattr *Nest(uint16_t type) { return Attr(type, nullptr, 0); }
  void End(rtattr *a) {
    if (a) a->rta_len = uint16_t(buf_ + h_->nlmsg_len - reinterpret_cast<char *>(a));
  }

 private:
  void *Reserve(size_t n) {
    size_t at = NLMSG_ALIGN(h_->nlmsg_len);
    if (at + n > sizeof buf_) {
      ok_ = false;
      return nullptr;
    }
    h_->nlmsg_len = uint32_t(at + n);
    return buf_ + at;
  }
  alignas(nlmsghdr) char buf_[4096];
  nlmsghdr *h_;
  bool ok_ = true;
};

uint32_t next_seq = 1;

int OpenSocket() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  sockaddr_nl sa = {};
  sa.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

struct NsOpen {
  int nsfd;
  int result;  // fd, or -errno
  const char *syscall;
};

void *OpenIn(void *p) {
  NsOpen *o = static_cast<NsOpen *>(p);
  if (setns(o->nsfd, CLONE_NEWNET) < 0) {
    o->result = -errno;
    o->syscall = "setns";
    return nullptr;
  }
  o->result = OpenSocket();
  return nullptr;
}

// The text of an extended ack (NLMSGERR_ATTR_MSG), if the kernel sent one.
std::string ExtAck(nlmsghdr *h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  auto *e = static_cast<nlmsgerr *>(NLMSG_DATA(h));
  size_t off = NLMSG_HDRLEN + sizeof(nlmsgerr);  // NETLINK_CAP_ACK: the request is not echoed
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
  if (h->nlmsg_len < off) return "";
  int len = int(h->nlmsg_len - off);
  for (rtattr *a = reinterpret_cast<rtattr *>(reinterpret_cast<char *>(h) + off); RTA_OK(a, len); a = RTA_NEXT(a, len))
    if (a->rta_type == NLMSGERR_ATTR_MSG) return std::string(static_cast<char *>(RTA_DATA(a)), strnlen(static_cast<char *>(RTA_DATA(a)), RTA_PAYLOAD(a)));
  return "";
}

using OnReply = std::function<void(nlmsghdr *)>;

// Sends m and reads until its ack (or NLMSG_DONE for a dump). Returns 0 or
// a positive errno; *detail gets the kernel's extended ack text.
int Transact(int fd, Msg &m, std::string *detail, const OnReply &on = nullptr) {
  if (!m.ok()) return EMSGSIZE;
  nlmsghdr *req = m.hdr();
  // NLM_F_DUMP's bits mean NLM_F_EXCL|NLM_F_REPLACE on NEW requests: only a GET is a dump.
  bool dump = (req->nlmsg_type & 3) == 2 && (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  if (!dump) req->nlmsg_flags |= NLM_F_ACK;
  req->nlmsg_seq = next_seq++;
  ssize_t n;
  do n = send(fd, req, req->nlmsg_len, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  alignas(nlmsghdr) static char buf[65536];
  for (;;) {
    do n = recv(fd, buf, sizeof buf, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) return errno;
    int len = int(n);
    for (nlmsghdr *h = reinterpret_cast<nlmsghdr *>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != req->nlmsg_seq) continue;  // a late answer to an earlier request
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        int err = -static_cast<nlmsgerr *>(NLMSG_DATA(h))->error;
        if (detail) *detail = ExtAck(h);
        if (err || !dump) return err;
        continue;
      }
      if (on) on(h);
    }
  }
}

Napi::Value Fail(Napi::Env env, int err, const char *what, const std::string &name, const std::string &detail) {
  ThrowErrno(env, err, what, name.empty() ? nullptr : name.c_str());
  if (!detail.empty()) {
    Napi::Error e = env.GetAndClearPendingException();
    e.Set("detail", Napi::String::New(env, detail));
    e.Set("message", Napi::String::New(env, e.Message() + " (" + detail + ")"));
    e.ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

bool ParseMac(const std::string &s, unsigned char out[6]) {
  unsigned v[6];
  char extra;
  if (sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6) return false;
  for (int i = 0; i < 6; i++) out[i] = (unsigned char)v[i];
  return true;
}

std::string FormatMac(const unsigned char *m, size_t len) {
  std::string s;
  char b[4];
  for (size_t i = 0; i < len; i++) {
    snprintf(b, sizeof b, i ? ":%02x" : "%02x", m[i]);
    s += b;
  }
  return s;
}

// An IP address string → family and bytes.
bool ParseIp(const std::string &s, int *family, unsigned char out[16]) {
  if (inet_pton(AF_INET, s.c_str(), out) == 1) {
    *family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out) == 1) {
    *family = AF_INET6;
    return true;
  }
  return false;
}

struct LinkInfo {
  int index = 0;
  std::string name, kind, mac;
  uint32_t mtu = 0, flags = 0, master = 0;
};

void ParseLink(nlmsghdr *h, LinkInfo *li) {
  if (h->nlmsg_type != RTM_NEWLINK) return;
  auto *ifi = static_cast<ifinfomsg *>(NLMSG_DATA(h));
  li->index = ifi->ifi_index;
  li->flags = ifi->ifi_flags;
  int len = int(IFLA_PAYLOAD(h));
  for (rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    switch (a->rta_type) {
      case IFLA_IFNAME: li->name = static_cast<char *>(RTA_DATA(a)); break;
      case IFLA_MTU: li->mtu = *static_cast<uint32_t *>(RTA_DATA(a)); break;
      case IFLA_MASTER: li->master = *static_cast<uint32_t *>(RTA_DATA(a)); break;
      case IFLA_ADDRESS: li->mac = FormatMac(static_cast<unsigned char *>(RTA_DATA(a)), RTA_PAYLOAD(a)); break;
      case IFLA_LINKINFO: {
        int l2 = int(RTA_PAYLOAD(a));
        for (rtattr *b = static_cast<rtattr *>(RTA_DATA(a)); RTA_OK(b, l2); b = RTA_NEXT(b, l2))
          if (b->rta_type == IFLA_INFO_KIND) li->kind = static_cast<char *>(RTA_DATA(b));
        break;
      }
    }
  }
}

Napi::Object LinkObject(Napi::Env env, const LinkInfo &li) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", li.index);
  o.Set("name", li.name);
  o.Set("kind", li.kind);
  o.Set("mac", li.mac);
  o.Set("mtu", li.mtu);
  o.Set("up", bool(li.flags & IFF_UP));
  o.Set("master", li.master);
  return o;
}

// RTM_GETLINK by name or index; 0 = found, ENODEV = no such link.
int GetLink(int fd, const Napi::Value &link, LinkInfo *li, std::string *detail) {
  Msg m(RTM_GETLINK, 0);
  auto *ifi = m.Put<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  if (link.IsNumber()) ifi->ifi_index = link.As<Napi::Number>().Int32Value();
  else m.Str(IFLA_IFNAME, link.As<Napi::String>());
  m.U32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  return Transact(fd, m, detail, [li](nlmsghdr *h) { ParseLink(h, li); });
}

std::string LinkLabel(const Napi::Value &link) {
  return link.IsNumber() ? "#" + std::to_string(link.As<Napi::Number>().Int32Value()) : std::string(link.As<Napi::String>());
}

// A link argument (name or index) → index, or throws.
int IndexOf(Napi::Env env, int fd, const Napi::Value &link) {
  LinkInfo li;
  std::string detail;
  int err = GetLink(fd, link, &li, &detail);
  if (!err && !li.index) err = ENODEV;
  if (err) {
    Fail(env, err, "RTM_GETLINK", LinkLabel(link), detail);
    return 0;
  }
  return li.index;
}

bool Has(const Napi::Object &o, const char *k) { return o.Has(k) && !o.Get(k).IsUndefined() && !o.Get(k).IsNull(); }

// The attributes a link request shares (create, set, and a veth's peer):
// name, mtu, mac, namespace. Returns false (and throws) on bad input.
bool LinkAttrs(Napi::Env env, Msg &m, const Napi::Object &o, const char *nameKey) {
  if (Has(o, nameKey)) m.Str(IFLA_IFNAME, o.Get(nameKey).As<Napi::String>());
  if (Has(o, "mtu")) m.U32(IFLA_MTU, o.Get("mtu").As<Napi::Number>().Uint32Value());
  if (Has(o, "mac")) {
    std::string s = o.Get("mac").As<Napi::String>();
    unsigned char mac[6];
    if (!ParseMac(s, mac)) {
      Fail(env, EINVAL, "parse MAC address", s, "");
      return false;
    }
    m.Attr(IFLA_ADDRESS, mac, 6);
  }
  if (Has(o, "netnsFd")) m.U32(IFLA_NET_NS_FD, o.Get("netnsFd").As<Napi::Number>().Uint32Value());
  if (Has(o, "netnsPid")) m.U32(IFLA_NET_NS_PID, o.Get("netnsPid").As<Napi::Number>().Uint32Value());
  return true;
}

void UpFlags(ifinfomsg *ifi, const Napi::Object &o) {
  if (!Has(o, "up")) return;
  ifi->ifi_change = IFF_UP;
  ifi->ifi_flags = o.Get("up").ToBoolean() ? IFF_UP : 0;
}

// netlinkOpen(netnsFd?): a NETLINK_ROUTE socket in that namespace (default:
// the caller's), O_CLOEXEC.
Napi::Value NetlinkOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || info[0].IsUndefined() || info[0].IsNull()) {
    int fd = OpenSocket();
    if (fd < 0) return ThrowErrno(env, -fd, "socket");
    return Napi::Number::New(env, fd);
  }
  NsOpen o = {info[0].As<Napi::Number>().Int32Value(), -EINVAL, "socket"};
  pthread_t t;
  int err = pthread_create(&t, nullptr, OpenIn, &o);
  if (err) return ThrowErrno(env, err, "pthread_create");
  pthread_join(t, nullptr);
  if (o.result < 0) return ThrowErrno(env, -o.result, o.syscall);
  return Napi::Number::New(env, o.result);
}

// linkGet(sock, nameOrIndex): LinkInfo, or null if there is no such link.
Napi::Value LinkGet(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  LinkInfo li;
  std::string detail;
  int err = GetLink(info[0].As<Napi::Number>().Int32Value(), info[1], &li, &detail);
  if (err == ENODEV || (!err && !li.index)) return env.Null();
  if (err) return Fail(env, err, "RTM_GETLINK", LinkLabel(info[1]), detail);
  return LinkObject(env, li);
}

// linkList(sock): every link in the socket's namespace.
Napi::Value LinkList(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Msg m(RTM_GETLINK, NLM_F_DUMP);
  m.Put<ifinfomsg>()->ifi_family = AF_UNSPEC;
  m.U32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  Napi::Array out = Napi::Array::New(env);
  std::string detail;
  int err = Transact(info[0].As<Napi::Number>().Int32Value(), m, &detail, [&](nlmsghdr *h) {
    LinkInfo li;
    ParseLink(h, &li);
    if (li.index) out.Set(out.Length(), LinkObject(env, li));
  });
  if (err) return Fail(env, err, "RTM_GETLINK", "", detail);
  return out;
}

// linkAdd(sock, { name, kind, mtu?, mac?, up?, master?, netnsFd?, netnsPid?,
//   peer?: { name, mtu?, mac?, netnsFd?, netnsPid? } }); bring the peer up
// afterwards, through a socket in its namespace.
Napi::Value LinkAdd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Object o = info[1].As<Napi::Object>();
  std::string name = o.Get("name").As<Napi::String>();
  std::string kind = o.Get("kind").As<Napi::String>();
  int master = 0;
  if (Has(o, "master") && !(master = IndexOf(env, fd, o.Get("master")))) return env.Undefined();

  Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  auto *ifi = m.Put<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  UpFlags(ifi, o);
  if (!LinkAttrs(env, m, o, "name")) return env.Undefined();
  if (master) m.U32(IFLA_MASTER, uint32_t(master));
  rtattr *li = m.Nest(IFLA_LINKINFO);
  m.Str(IFLA_INFO_KIND, kind);
  if (Has(o, "peer")) {
    Napi::Object p = o.Get("peer").As<Napi::Object>();
    rtattr *data = m.Nest(IFLA_INFO_DATA);
    rtattr *peer = m.Nest(VETH_INFO_PEER);
    auto *pifi = m.Put<ifinfomsg>();
    pifi->ifi_family = AF_UNSPEC;  // no IFF_UP here: the kernel opens the peer before the pair is joined (ENOTCONN)
    if (!LinkAttrs(env, m, p, "name")) return env.Undefined();
    m.End(peer);
    m.End(data);
  }
  m.End(li);
  std::string detail;
  int err = Transact(fd, m, &detail);
  if (err) return Fail(env, err, "RTM_NEWLINK", name, detail);
  return env.Undefined();
}

// linkSet(sock, nameOrIndex, { name?, up?, mtu?, mac?, master? (name, index,
// or null to leave the bridge), netnsFd?, netnsPid? })
Napi::Value LinkSet(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Object o = info[2].As<Napi::Object>();
  int index = IndexOf(env, fd, info[1]);
  if (!index) return env.Undefined();
  int master = -1;
  if (o.Has("master") && o.Get("master").IsNull()) master = 0;
  else if (Has(o, "master") && !(master = IndexOf(env, fd, o.Get("master")))) return env.Undefined();

  Msg m(RTM_NEWLINK, 0);
  auto *ifi = m.Put<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  UpFlags(ifi, o);
  if (!LinkAttrs(env, m, o, "name")) return env.Undefined();
  if (master >= 0) m.U32(IFLA_MASTER, uint32_t(master));
  std::string detail;
  int err = Transact(fd, m, &detail);
  if (err) return Fail(env, err, "RTM_NEWLINK", LinkLabel(info[1]), detail);
  return env.Undefined();
}

// linkDel(sock, nameOrIndex): false if there was no such link. Deleting
// one end of a veth pair deletes both.
Napi::Value LinkDel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Msg m(RTM_DELLINK, 0);
  auto *ifi = m.Put<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  if (info[1].IsNumber()) ifi->ifi_index = info[1].As<Napi::Number>().Int32Value();
  else m.Str(IFLA_IFNAME, info[1].As<Napi::String>());
  std::string detail;
  int err = Transact(info[0].As<Napi::Number>().Int32Value(), m, &detail);
  if (err == ENODEV) return Napi::Boolean::New(env, false);
  if (err) return Fail(env, err, "RTM_DELLINK", LinkLabel(info[1]), detail);
  return Napi::Boolean::New(env, true);
}

// addrAdd(sock, nameOrIndex, address, prefixLen): IPv4 or IPv6 (without
// duplicate address detection, so it is usable at once).
Napi::Value AddrAdd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string addr = info[2].As<Napi::String>();
  uint32_t plen = info[3].As<Napi::Number>().Uint32Value();
  int family;
  unsigned char bytes[16];
  if (!ParseIp(addr, &family, bytes) || plen > (family == AF_INET ? 32u : 128u))
    return Fail(env, EINVAL, "parse address", addr + "/" + std::to_string(plen), "");
  int index = IndexOf(env, fd, info[1]);
  if (!index) return env.Undefined();
  Msg m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto *ifa = m.Put<ifaddrmsg>();
  ifa->ifa_family = uint8_t(family);
  ifa->ifa_prefixlen = uint8_t(plen);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = uint32_t(index);
  size_t len = family == AF_INET ? 4 : 16;
  m.Attr(IFA_LOCAL, bytes, len);
  m.Attr(IFA_ADDRESS, bytes, len);
  if (family == AF_INET6) {
    ifa->ifa_flags = IFA_F_NODAD;
    m.U32(IFA_FLAGS, IFA_F_NODAD);
  } else if (plen < 31) {
    uint32_t a;
    memcpy(&a, bytes, 4);
    uint32_t brd = htonl(ntohl(a) | (plen ? (0xffffffffu >> plen) : 0xffffffffu));
    m.Attr(IFA_BROADCAST, &brd, 4);
  }
  std::string detail;
  int err = Transact(fd, m, &detail);
  if (err) return Fail(env, err, "RTM_NEWADDR", addr + "/" + std::to_string(plen), detail);
  return env.Undefined();
}

// routeAdd(sock, { dst?, prefixLen?, gateway?, link? }): dst absent = the
// default route; the family comes from dst or gateway.
Napi::Value RouteAdd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Object o = info[1].As<Napi::Object>();
  int family = 0, gfamily = 0;
  unsigned char dst[16] = {}, gw[16] = {};
  std::string label = Has(o, "dst") ? std::string(o.Get("dst").As<Napi::String>()) : "default";
  if (Has(o, "dst") && !ParseIp(label, &family, dst)) return Fail(env, EINVAL, "parse address", label, "");
  std::string gws = Has(o, "gateway") ? std::string(o.Get("gateway").As<Napi::String>()) : "";
  if (!gws.empty() && !ParseIp(gws, &gfamily, gw)) return Fail(env, EINVAL, "parse address", gws, "");
  if (!family) family = gfamily ? gfamily : (Has(o, "family") && o.Get("family").As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET);
  if (gfamily && gfamily != family) return Fail(env, EINVAL, "route", label + " via " + gws, "address families differ");
  uint32_t plen = Has(o, "prefixLen") ? o.Get("prefixLen").As<Napi::Number>().Uint32Value() : (Has(o, "dst") ? (family == AF_INET ? 32 : 128) : 0);
  int index = 0;
  if (Has(o, "link") && !(index = IndexOf(env, fd, o.Get("link")))) return env.Undefined();

  Msg m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  auto *rt = m.Put<rtmsg>();
  rt->rtm_family = uint8_t(family);
  rt->rtm_dst_len = uint8_t(plen);
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = gfamily ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rt->rtm_type = RTN_UNICAST;
  size_t len = family == AF_INET ? 4 : 16;
  if (plen) m.Attr(RTA_DST, dst, len);
  if (gfamily) m.Attr(RTA_GATEWAY, gw, len);
  if (index) m.U32(RTA_OIF, uint32_t(index));
  std::string detail;
  int err = Transact(fd, m, &detail);
  if (err) return Fail(env, err, "RTM_NEWROUTE", gws.empty() ? label : label + " via " + gws, detail);
  return env.Undefined();
}

}  // namespace

void InitNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("netlinkOpen", Napi::Function::New(env, NetlinkOpen, "netlinkOpen"));
  exports.Set("linkGet", Napi::Function::New(env, LinkGet, "linkGet"));
  exports.Set("linkList", Napi::Function::New(env, LinkList, "linkList"));
  exports.Set("linkAdd", Napi::Function::New(env, LinkAdd, "linkAdd"));
  exports.Set("linkSet", Napi::Function::New(env, LinkSet, "linkSet"));
  exports.Set("linkDel", Napi::Function::New(env, LinkDel, "linkDel"));
  exports.Set("addrAdd", Napi::Function::New(env, AddrAdd, "addrAdd"));
  exports.Set("routeAdd", Napi::Function::New(env, RouteAdd, "routeAdd"));
}

}  // namespace berth
