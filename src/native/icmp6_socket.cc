// Raw ICMPv6 socket bound to one interface, for NDP: hop limit 255 on everything sent, the
// received hop limit and destination reported per packet, kernel-side type filter, and
// membership of the solicited-node groups of the addresses being answered for.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

namespace ironlb {

namespace {

void SetIntOption(Napi::Env env, int fd, int level, int name, int value, const char* syscall) {
  if (setsockopt(fd, level, name, &value, sizeof value) < 0) {
    int err = errno;
    ::close(fd);
    ThrowSystemError(env, err, syscall);
  }
}

}  // namespace

class Icmp6Socket : public PolledSocket<Icmp6Socket> {
 public:
  // new Icmp6Socket(interface: string | number, icmpTypes: number[], onBatch, maxBatch)
  explicit Icmp6Socket(const Napi::CallbackInfo& info) : PolledSocket(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[1].IsArray() || !info[2].IsFunction() || !info[3].IsNumber()) {
      throw Napi::TypeError::New(env, "Icmp6Socket(interface, icmpTypes, onBatch, maxBatch)");
    }
    ResolveInterface(env, info[0], &ifname_, &ifindex_);
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    Napi::Array types = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < types.Length(); i++) {
      ICMP6_FILTER_SETPASS(types.Get(i).As<Napi::Number>().Uint32Value() & 0xff, &filter);
    }

    int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (fd < 0) ThrowSystemError(env, errno, "socket(AF_INET6, SOCK_RAW)", kNeedsNetRaw);
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname_.c_str(), ifname_.size()) < 0) {
      int err = errno;
      ::close(fd);
      ThrowSystemError(env, err, "setsockopt(SO_BINDTODEVICE)", kNeedsNetRaw);
    }
    if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) < 0) {
      int err = errno;
      ::close(fd);
      ThrowSystemError(env, err, "setsockopt(ICMP6_FILTER)");
    }
    SetIntOption(env, fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "setsockopt(IPV6_RECVHOPLIMIT)");
    SetIntOption(env, fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "setsockopt(IPV6_RECVPKTINFO)");
    SetIntOption(env, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255, "setsockopt(IPV6_UNICAST_HOPS)");
    SetIntOption(env, fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255, "setsockopt(IPV6_MULTICAST_HOPS)");
    SetIntOption(env, fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, static_cast<int>(ifindex_), "setsockopt(IPV6_MULTICAST_IF)");
    // Our own multicast advertisements need not come back to us.
    SetIntOption(env, fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "setsockopt(IPV6_MULTICAST_LOOP)");
    // Between socket() and the filter/device options above, ICMPv6 from any interface may
    // have been queued: discard it so every delivered packet came through this interface.
    uint8_t scratch[64];
    while (recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) >= 0) {
    }
    buffer_.resize(65536);
    StartPolling(env, fd, info[2].As<Napi::Function>(), info[3].As<Napi::Number>().Uint32Value());
  }

  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Icmp6Socket",
                       {
                           InstanceMethod("send", &Icmp6Socket::Send),
                           InstanceMethod("joinGroup", &Icmp6Socket::JoinGroup),
                           InstanceMethod("leaveGroup", &Icmp6Socket::LeaveGroup),
                           InstanceMethod("close", &Icmp6Socket::Close),
                           InstanceMethod("ref", &Icmp6Socket::Ref),
                           InstanceMethod("unref", &Icmp6Socket::Unref),
                           InstanceAccessor("closed", &Icmp6Socket::IsClosed, nullptr),
                           InstanceAccessor("ifindex", &Icmp6Socket::Ifindex, nullptr),
                           InstanceAccessor("ifname", &Icmp6Socket::Ifname, nullptr),
                       });
  }

 private:
  // send(message: Buffer, destination: Buffer(16), source?: Buffer(16)): bytes sent. The
  // kernel fills the ICMPv6 checksum; without a source it picks one of the interface's.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw Napi::Error::New(env, "socket is closed");
    if (info.Length() < 2 || !info[0].IsBuffer()) {
      throw Napi::TypeError::New(env, "send(message: Buffer, destination: Buffer, source?: Buffer)");
    }
    auto message = info[0].As<Napi::Buffer<uint8_t>>();
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    ReadAddressBytes(env, info[1], 16, &to.sin6_addr, "destination");
    to.sin6_scope_id = ifindex_;  // used by the kernel only for link-scoped destinations

    in6_pktinfo pktinfo{};
    pktinfo.ipi6_ifindex = ifindex_;
    if (info.Length() > 2 && !info[2].IsUndefined() && !info[2].IsNull()) {
      ReadAddressBytes(env, info[2], 16, &pktinfo.ipi6_addr, "source");
    }
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {0};
    iovec iov{message.Data(), message.Length()};
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = sizeof to;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = IPPROTO_IPV6;
    cmsg->cmsg_type = IPV6_PKTINFO;
    cmsg->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    memcpy(CMSG_DATA(cmsg), &pktinfo, sizeof pktinfo);
    ssize_t n = sendmsg(fd_, &msg, MSG_DONTWAIT);
    if (n < 0) ThrowSystemError(env, errno, "sendmsg(ICMPv6)");
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Membership(const Napi::CallbackInfo& info, int option, const char* syscall) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw Napi::Error::New(env, "socket is closed");
    ipv6_mreq mreq{};
    ReadAddressBytes(env, info[0], 16, &mreq.ipv6mr_multiaddr, "group");
    mreq.ipv6mr_interface = ifindex_;
    if (setsockopt(fd_, IPPROTO_IPV6, option, &mreq, sizeof mreq) < 0) ThrowSystemError(env, errno, syscall);
    return env.Undefined();
  }
  Napi::Value JoinGroup(const Napi::CallbackInfo& info) {
    return Membership(info, IPV6_JOIN_GROUP, "setsockopt(IPV6_JOIN_GROUP)");
  }
  Napi::Value LeaveGroup(const Napi::CallbackInfo& info) {
    return Membership(info, IPV6_LEAVE_GROUP, "setsockopt(IPV6_LEAVE_GROUP)");
  }

  // Each received message becomes { data, source, destination, hopLimit, ifindex }: data is
  // the ICMPv6 message (the kernel strips the IPv6 header), addresses are 16-byte Buffers,
  // hopLimit is -1 if the kernel did not report it.
  bool DrainOnce(Napi::Env env, Napi::Array batch, int* err) override {
    sockaddr_in6 from{};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(in6_pktinfo))];
    iovec iov{buffer_.data(), buffer_.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) *err = errno;
      return false;
    }
    int hopLimit = -1;
    in6_pktinfo pktinfo{};
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != IPPROTO_IPV6) continue;
      if (c->cmsg_type == IPV6_HOPLIMIT) memcpy(&hopLimit, CMSG_DATA(c), sizeof hopLimit);
      if (c->cmsg_type == IPV6_PKTINFO) memcpy(&pktinfo, CMSG_DATA(c), sizeof pktinfo);
    }
    Napi::Object packet = Napi::Object::New(env);
    packet.Set("data", Napi::Buffer<uint8_t>::Copy(env, buffer_.data(), static_cast<size_t>(n)));
    packet.Set("source", Napi::Buffer<uint8_t>::Copy(env, from.sin6_addr.s6_addr, 16));
    packet.Set("destination", Napi::Buffer<uint8_t>::Copy(env, pktinfo.ipi6_addr.s6_addr, 16));
    packet.Set("hopLimit", Napi::Number::New(env, hopLimit));
    packet.Set("ifindex", Napi::Number::New(env, pktinfo.ipi6_ifindex));
    batch.Set(batch.Length(), packet);
    return true;
  }

  Napi::Value Ifindex(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ifindex_); }
  Napi::Value Ifname(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), ifname_); }

  std::string ifname_;
  unsigned ifindex_ = 0;
  std::vector<uint8_t> buffer_;
};

Napi::Function InitIcmp6Socket(Napi::Env env) { return Icmp6Socket::Init(env); }

}  // namespace ironlb
