// Receive-side TTL check for UDP (GTSM, RFC 5082; BFD RFC 5881 §5 / RFC 5883 §2): a classic BPF
// socket filter that drops datagrams whose IPv4 TTL / IPv6 hop limit is below a minimum. Linux
// applies IP_MINTTL / IPV6_MINHOPCOUNT to TCP only, and Node cannot read a datagram's TTL, so the
// filter reads the byte from the network header (SKF_NET_OFF) before the packet is queued.
#include <linux/filter.h>
#include <sys/socket.h>

#include "common.h"

namespace ironlb {

static Napi::Value AttachMinTtlFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "attachMinTtlFilter(fd, family 4|6, minTtl 1..255)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int family = info[1].As<Napi::Number>().Int32Value();
  uint32_t min_ttl = info[2].As<Napi::Number>().Uint32Value();
  if ((family != 4 && family != 6) || min_ttl < 1 || min_ttl > 255) {
    throw Napi::RangeError::New(env, "family must be 4 or 6 and minTtl 1..255");
  }
  // IPv4 TTL is byte 8 of the header, IPv6 hop limit byte 7.
  uint32_t offset = static_cast<uint32_t>(SKF_NET_OFF) + (family == 4 ? 8 : 7);
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, offset),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, min_ttl, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  sock_fprog prog = {static_cast<unsigned short>(sizeof(code) / sizeof(code[0])), code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) != 0) {
    ThrowSystemError(env, errno, "setsockopt(SO_ATTACH_FILTER)");
  }
  return env.Undefined();
}

void InitUdpMinTtl(Napi::Env env, Napi::Object exports) {
  exports.Set("attachMinTtlFilter", Napi::Function::New(env, AttachMinTtlFilter));
}

}  // namespace ironlb
