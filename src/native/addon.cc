// Module entry and the helpers every part shares.
#include <net/if.h>

#include "common.h"

namespace ironlb {

void ResolveInterface(Napi::Env env, const Napi::Value& which, std::string* name, unsigned* index) {
  char buf[IF_NAMESIZE] = {0};
  if (which.IsNumber()) {
    *index = which.As<Napi::Number>().Uint32Value();
    if (if_indextoname(*index, buf) == nullptr) ThrowSystemError(env, errno, "if_indextoname");
    *name = buf;
  } else if (which.IsString()) {
    *name = which.As<Napi::String>().Utf8Value();
    if (name->empty() || name->size() >= IF_NAMESIZE) {
      throw Napi::TypeError::New(env, "interface name must have 1 to 15 characters");
    }
    *index = if_nametoindex(name->c_str());
    if (*index == 0) ThrowSystemError(env, errno, "if_nametoindex");
  } else {
    throw Napi::TypeError::New(env, "interface must be a name or an index");
  }
}

void ReadAddressBytes(Napi::Env env, const Napi::Value& value, size_t want, void* out, const char* what) {
  if (!value.IsBuffer() || value.As<Napi::Buffer<uint8_t>>().Length() != want) {
    throw Napi::TypeError::New(env, std::string(what) + " must be a Buffer of " + std::to_string(want) + " bytes");
  }
  memcpy(out, value.As<Napi::Buffer<uint8_t>>().Data(), want);
}

}  // namespace ironlb

namespace ironlb {
void InitUdpMinTtl(Napi::Env env, Napi::Object exports);  // udp_min_ttl.cc
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", ironlb::InitPacketSocket(env));
  exports.Set("Icmp6Socket", ironlb::InitIcmp6Socket(env));
  ironlb::InitTcp(env, exports);
  ironlb::InitUdpMinTtl(env, exports);
  return exports;
}

NODE_API_MODULE(ironlb_native, Init)
