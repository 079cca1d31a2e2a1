// Shared pieces of IronLB's native addon: errno → JavaScript errors, and a socket whose
// readiness libuv polls, draining received packets and handing them to JavaScript in batches.
// No protocol logic lives here: the addon moves bytes, the TypeScript side decides.
#pragma once

#include <napi.h>
#include <uv.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace ironlb {

// Node-style code ("EPERM") for an errno value.
inline std::string ErrnoCode(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
#endif
  return "E" + std::to_string(err);
}

// An Error carrying errno (negative, as Node's system errors do), code and syscall. `hint`
// replaces the bare strerror text when a missing capability is the likely cause.
inline Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const std::string& hint = "") {
  std::string message = std::string(syscall) + " failed: " + ErrnoCode(err) + " (" + strerror(err) + ")";
  if (!hint.empty() && (err == EPERM || err == EACCES)) message += ": " + hint;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("code", Napi::String::New(env, ErrnoCode(err)));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

[[noreturn]] inline void ThrowSystemError(Napi::Env env, int err, const char* syscall, const std::string& hint = "") {
  throw SystemError(env, err, syscall, hint);
}

constexpr const char* kNeedsNetRaw = "needs CAP_NET_RAW (run as root or grant the capability)";
constexpr const char* kNeedsNetAdmin = "needs CAP_NET_ADMIN (run as root or grant the capability)";

// Resolves an interface given by name or index; fills both.
void ResolveInterface(Napi::Env env, const Napi::Value& which, std::string* name, unsigned* index);

// Copies a 4- or 16-byte Buffer argument into `out`; throws TypeError on another length.
void ReadAddressBytes(Napi::Env env, const Napi::Value& value, size_t want, void* out, const char* what);

// A non-blocking socket watched by a uv_poll_t. Subclasses implement DrainOnce(), which reads
// at most one packet and appends its JavaScript value to `batch`, returning false when the
// socket has nothing more (EAGAIN). The JS callback receives (error | null, batch).
template <typename T>
class PolledSocket : public Napi::ObjectWrap<T> {
 public:
  explicit PolledSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info) {}
  ~PolledSocket() override {
    // Reached only at environment teardown (an open socket holds a reference to itself):
    // detach from libuv and release the descriptor without touching JavaScript.
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseNow();
    return info.Env().Undefined();
  }
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }
  Napi::Value IsClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), fd_ < 0); }

 protected:
  // Takes ownership of `fd` and starts polling it for readability.
  void StartPolling(Napi::Env env, int fd, Napi::Function onBatch, uint32_t maxBatch) {
    fd_ = fd;
    maxBatch_ = maxBatch == 0 ? 1 : maxBatch;
    callback_ = Napi::Persistent(onBatch);
    context_ = std::make_unique<Napi::AsyncContext>(env, "ironlb.native.socket");
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    int rc = uv_poll_init(loop, poll_, fd_);
    if (rc == 0) rc = uv_poll_start(poll_, UV_READABLE, OnReadable);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      CloseNow();
      ThrowSystemError(env, -rc, "uv_poll_start");
    }
    poll_->data = this;
    // An open socket keeps its JavaScript object (and the event loop) alive until close().
    this->Napi::ObjectWrap<T>::Ref();
  }

  // Reads one packet into `batch`; false when the queue is empty or after an error (set in *err).
  virtual bool DrainOnce(Napi::Env env, Napi::Array batch, int* err) = 0;

  int fd_ = -1;

 private:
  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<PolledSocket*>(handle->data);
    if (self != nullptr) self->Drain(status);
  }

  void Drain(int status) {
    Napi::Env env = this->Env();
    Napi::HandleScope scope(env);
    Napi::Array batch = Napi::Array::New(env);
    int err = 0;
    if (status < 0) {
      err = -status;
    } else {
      for (uint32_t i = 0; i < maxBatch_ && fd_ >= 0; i++) {
        if (!DrainOnce(env, batch, &err)) break;
      }
    }
    if (batch.Length() == 0 && err == 0) return;
    napi_value error = err == 0 ? env.Null() : SystemError(env, err, "recvmsg").Value();
    try {
      callback_.MakeCallback(this->Value(), {error, batch}, *context_);
    } catch (const Napi::Error& e) {
      // A throwing handler behaves as in any Node event callback: an uncaught exception.
      napi_fatal_exception(env, e.Value());
    }
  }

  void CloseNow() {
    if (fd_ < 0) return;
    if (poll_ != nullptr) {
      // Stop before closing the fd (libuv must not poll a closed descriptor); the handle
      // itself is freed by libuv on a later loop turn.
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
      callback_.Reset();
      context_.reset();
      this->Napi::ObjectWrap<T>::Unref();
    }
    ::close(fd_);
    fd_ = -1;
  }

  uv_poll_t* poll_ = nullptr;
  uint32_t maxBatch_ = 64;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

Napi::Function InitPacketSocket(Napi::Env env);
Napi::Function InitIcmp6Socket(Napi::Env env);
void InitTcp(Napi::Env env, Napi::Object exports);

}  // namespace ironlb
