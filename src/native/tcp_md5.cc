// TCP sockets for BGP: TCP_MD5SIG (RFC 2385) must be set before connect() or on the listening
// socket, which Node's net module cannot do. These calls create and prepare the descriptor;
// JavaScript then wraps it in a net.Socket / net.Server. connect() is non-blocking and a
// WritableWatch tells JavaScript when it has finished.
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

namespace ironlb {

namespace {

// Fills a sockaddr from a 4- or 16-byte address Buffer and a port.
socklen_t ToSockaddr(Napi::Env env, const Napi::Value& address, uint32_t port, sockaddr_storage* out) {
  memset(out, 0, sizeof *out);
  if (!address.IsBuffer()) throw Napi::TypeError::New(env, "address must be a Buffer of 4 or 16 bytes");
  auto bytes = address.As<Napi::Buffer<uint8_t>>();
  if (bytes.Length() == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    memcpy(&sin->sin_addr, bytes.Data(), 4);
    return sizeof(sockaddr_in);
  }
  if (bytes.Length() == 16) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    memcpy(&sin6->sin6_addr, bytes.Data(), 16);
    return sizeof(sockaddr_in6);
  }
  throw Napi::TypeError::New(env, "address must be a Buffer of 4 or 16 bytes");
}

int FdArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "fd must be a number");
  return info[0].As<Napi::Number>().Int32Value();
}

// createTcpSocket(family: 4 | 6, options: { localAddress?, localPort?, device?, reuseAddress? }): fd
Napi::Value CreateTcpSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsObject()) {
    throw Napi::TypeError::New(env, "createTcpSocket(family, options)");
  }
  int family = info[0].As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  Napi::Object options = info[1].As<Napi::Object>();
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) ThrowSystemError(env, errno, "socket(SOCK_STREAM)");
  try {
    Napi::Value device = options.Get("device");
    if (device.IsString()) {
      std::string name = device.As<Napi::String>().Utf8Value();
      if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name.c_str(), name.size()) < 0) {
        ThrowSystemError(env, errno, "setsockopt(SO_BINDTODEVICE)", kNeedsNetRaw);
      }
    }
    if (options.Get("reuseAddress").ToBoolean().Value()) {
      int one = 1;
      if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
        ThrowSystemError(env, errno, "setsockopt(SO_REUSEADDR)");
      }
    }
    Napi::Value localAddress = options.Get("localAddress");
    Napi::Value localPort = options.Get("localPort");
    if (localAddress.IsBuffer() || localPort.IsNumber()) {
      sockaddr_storage addr;
      uint32_t port = localPort.IsNumber() ? localPort.As<Napi::Number>().Uint32Value() : 0;
      socklen_t len;
      if (localAddress.IsBuffer()) {
        len = ToSockaddr(env, localAddress, port, &addr);
      } else {
        // Port only: the wildcard address of the socket's family.
        Napi::Buffer<uint8_t> any = Napi::Buffer<uint8_t>::New(env, family == AF_INET6 ? 16 : 4);
        memset(any.Data(), 0, any.Length());
        len = ToSockaddr(env, any, port, &addr);
      }
      if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) < 0) ThrowSystemError(env, errno, "bind");
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  return Napi::Number::New(env, fd);
}

// setTcpMd5Key(fd, peerAddress: Buffer(4|16), key: Buffer): an empty key removes the peer's key.
// On an IPv6 socket an IPv4 peer is given as its v4-mapped address.
Napi::Value SetTcpMd5Key(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  if (info.Length() < 3 || !info[2].IsBuffer()) throw Napi::TypeError::New(env, "setTcpMd5Key(fd, peer, key)");
  auto key = info[2].As<Napi::Buffer<uint8_t>>();
  if (key.Length() > TCP_MD5SIG_MAXKEYLEN) {
    throw Napi::RangeError::New(env, "TCP MD5 key longer than " + std::to_string(TCP_MD5SIG_MAXKEYLEN) + " bytes");
  }
  tcp_md5sig sig{};
  ToSockaddr(env, info[1], 0, reinterpret_cast<sockaddr_storage*>(&sig.tcpm_addr));
  sig.tcpm_keylen = static_cast<uint16_t>(key.Length());
  memcpy(sig.tcpm_key, key.Data(), key.Length());
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) < 0) {
    ThrowSystemError(env, errno, "setsockopt(TCP_MD5SIG)", kNeedsNetAdmin);
  }
  return env.Undefined();
}

// setUnicastTtl(fd, family 4|6, ttl 1..255): the TTL (IP_TTL) or hop limit (IPV6_UNICAST_HOPS) of
// what the socket sends, set before connect() so the SYN carries it too. eBGP uses 1 for a directly
// connected peer (a packet that would cross a router dies there) and 255 for multihop.
Napi::Value SetUnicastTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "setUnicastTtl(fd, family 4|6, ttl 1..255)");
  }
  int family = info[1].As<Napi::Number>().Int32Value();
  int ttl = info[2].As<Napi::Number>().Int32Value();
  if ((family != 4 && family != 6) || ttl < 1 || ttl > 255) {
    throw Napi::RangeError::New(env, "family must be 4 or 6 and ttl 1..255");
  }
  int rc = family == 4 ? setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl)
                       : setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
  if (rc < 0) ThrowSystemError(env, errno, family == 4 ? "setsockopt(IP_TTL)" : "setsockopt(IPV6_UNICAST_HOPS)");
  return env.Undefined();
}

// connectTcp(fd, address, port): true when connected at once, false while in progress.
Napi::Value ConnectTcp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  if (info.Length() < 3 || !info[2].IsNumber()) throw Napi::TypeError::New(env, "connectTcp(fd, address, port)");
  sockaddr_storage addr;
  socklen_t len = ToSockaddr(env, info[1], info[2].As<Napi::Number>().Uint32Value(), &addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0) return Napi::Boolean::New(env, true);
  if (errno == EINPROGRESS) return Napi::Boolean::New(env, false);
  ThrowSystemError(env, errno, "connect");
}

Napi::Value ListenTcp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  int backlog = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 511;
  if (listen(fd, backlog) < 0) ThrowSystemError(env, errno, "listen");
  return env.Undefined();
}

// socketError(fd): the pending SO_ERROR (0 when none) — a finished connect's outcome.
Napi::Value SocketError(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info);
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) ThrowSystemError(env, errno, "getsockopt(SO_ERROR)");
  return Napi::Number::New(env, err);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (::close(FdArg(info)) < 0) ThrowSystemError(env, errno, "close");
  return env.Undefined();
}

}  // namespace

// new WritableWatch(fd, callback): calls callback() once, when fd becomes writable or fails
// (a non-blocking connect has finished either way). close() cancels; the fd is not closed.
class WritableWatch : public Napi::ObjectWrap<WritableWatch> {
 public:
  explicit WritableWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<WritableWatch>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "WritableWatch(fd, callback)");
    }
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "ironlb.native.connect");
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    int rc = uv_poll_init(loop, poll_, info[0].As<Napi::Number>().Int32Value());
    if (rc == 0) rc = uv_poll_start(poll_, UV_WRITABLE | UV_DISCONNECT, OnEvent);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      ThrowSystemError(env, -rc, "uv_poll_start");
    }
    poll_->data = this;
    Ref();
  }
  ~WritableWatch() override { Stop(false); }

  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "WritableWatch", {InstanceMethod("close", &WritableWatch::Close)});
  }

 private:
  static void OnEvent(uv_poll_t* handle, int /*status*/, int /*events*/) {
    auto* self = static_cast<WritableWatch*>(handle->data);
    if (self == nullptr) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::FunctionReference callback = std::move(self->callback_);
    std::unique_ptr<Napi::AsyncContext> context = std::move(self->context_);
    self->Stop(true);
    try {
      callback.MakeCallback(env.Global(), {}, *context);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop(true);
    return info.Env().Undefined();
  }

  void Stop(bool unref) {
    if (poll_ == nullptr) return;
    uv_poll_stop(poll_);
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
    if (unref) {
      callback_.Reset();
      context_.reset();
      Unref();
    }
  }

  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

void InitTcp(Napi::Env env, Napi::Object exports) {
  exports.Set("createTcpSocket", Napi::Function::New(env, CreateTcpSocket));
  exports.Set("setTcpMd5Key", Napi::Function::New(env, SetTcpMd5Key));
  exports.Set("setUnicastTtl", Napi::Function::New(env, SetUnicastTtl));
  exports.Set("connectTcp", Napi::Function::New(env, ConnectTcp));
  exports.Set("listenTcp", Napi::Function::New(env, ListenTcp));
  exports.Set("socketError", Napi::Function::New(env, SocketError));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("WritableWatch", WritableWatch::Init(env));
}

}  // namespace ironlb
