// AF_PACKET socket bound to one interface and one EtherType: whole Ethernet frames in and out.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

namespace ironlb {

class PacketSocket : public PolledSocket<PacketSocket> {
 public:
  // new PacketSocket(interface: string | number, etherType: number, onBatch, maxBatch)
  explicit PacketSocket(const Napi::CallbackInfo& info) : PolledSocket(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[1].IsNumber() || !info[2].IsFunction() || !info[3].IsNumber()) {
      throw Napi::TypeError::New(env, "PacketSocket(interface, etherType, onBatch, maxBatch)");
    }
    ResolveInterface(env, info[0], &ifname_, &ifindex_);
    uint16_t etherType = static_cast<uint16_t>(info[1].As<Napi::Number>().Uint32Value());

    // Protocol 0 at creation: the socket receives nothing until bind() names the EtherType
    // and the interface, so no frame from another interface can slip into the queue.
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) ThrowSystemError(env, errno, "socket(AF_PACKET)", kNeedsNetRaw);
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(etherType);
    addr.sll_ifindex = static_cast<int>(ifindex_);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      int err = errno;
      ::close(fd);
      ThrowSystemError(env, err, "bind(AF_PACKET)");
    }
    ifreq ifr{};
    strncpy(ifr.ifr_name, ifname_.c_str(), IF_NAMESIZE - 1);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
      int err = errno;
      ::close(fd);
      ThrowSystemError(env, err, "ioctl(SIOCGIFHWADDR)");
    }
    if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
      ::close(fd);
      Napi::Error error = Napi::Error::New(env, "interface " + ifname_ + " is not an Ethernet interface");
      error.Set("code", Napi::String::New(env, "ERR_IRONLB_NOT_ETHERNET"));
      throw error;
    }
    memcpy(mac_, ifr.ifr_hwaddr.sa_data, 6);
    buffer_.resize(65536);
    StartPolling(env, fd, info[2].As<Napi::Function>(), info[3].As<Napi::Number>().Uint32Value());
  }

  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {
                           InstanceMethod("send", &PacketSocket::Send),
                           InstanceMethod("close", &PacketSocket::Close),
                           InstanceMethod("ref", &PacketSocket::Ref),
                           InstanceMethod("unref", &PacketSocket::Unref),
                           InstanceAccessor("closed", &PacketSocket::IsClosed, nullptr),
                           InstanceAccessor("ifindex", &PacketSocket::Ifindex, nullptr),
                           InstanceAccessor("ifname", &PacketSocket::Ifname, nullptr),
                           InstanceAccessor("mac", &PacketSocket::Mac, nullptr),
                       });
  }

 private:
  // send(frame: Buffer): number of bytes sent. The frame goes out of the bound interface.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw Napi::Error::New(env, "socket is closed");
    if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "send(frame: Buffer)");
    auto frame = info[0].As<Napi::Buffer<uint8_t>>();
    ssize_t n = send(fd_, frame.Data(), frame.Length(), MSG_DONTWAIT);
    if (n < 0) ThrowSystemError(env, errno, "send(AF_PACKET)");
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // Each received frame becomes { data: Buffer, packetType: number } (PACKET_HOST = 0,
  // PACKET_BROADCAST = 1, PACKET_MULTICAST = 2, PACKET_OTHERHOST = 3, PACKET_OUTGOING = 4).
  bool DrainOnce(Napi::Env env, Napi::Array batch, int* err) override {
    sockaddr_ll from{};
    socklen_t fromLen = sizeof from;
    ssize_t n = recvfrom(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from),
                         &fromLen);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) *err = errno;
      return false;
    }
    Napi::Object packet = Napi::Object::New(env);
    packet.Set("data", Napi::Buffer<uint8_t>::Copy(env, buffer_.data(), static_cast<size_t>(n)));
    packet.Set("packetType", Napi::Number::New(env, from.sll_pkttype));
    batch.Set(batch.Length(), packet);
    return true;
  }

  Napi::Value Ifindex(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ifindex_); }
  Napi::Value Ifname(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), ifname_); }
  Napi::Value Mac(const Napi::CallbackInfo& info) { return Napi::Buffer<uint8_t>::Copy(info.Env(), mac_, 6); }

  std::string ifname_;
  unsigned ifindex_ = 0;
  uint8_t mac_[6] = {0};
  std::vector<uint8_t> buffer_;
};

Napi::Function InitPacketSocket(Napi::Env env) { return PacketSocket::Init(env); }

}  // namespace ironlb
