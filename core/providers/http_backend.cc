#include "core/providers/http_backend.h"

#include <algorithm>
#include <cctype>

#include "core/http/request.h"
#include "core/providers/provider_auth.h"
#include "core/providers/upstream_body.h"

namespace sluice::providers {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Client headers sluice sets itself or must never pass on. Credentials are the agent's, not
// the provider's; Accept-Encoding is dropped so responses stay readable for usage scanning.
bool is_replaced_header(std::string_view name) {
  using http::iequals;
  return iequals(name, "host") || iequals(name, "authorization") || iequals(name, "x-api-key") ||
         iequals(name, "content-length") || iequals(name, "content-type") ||
         iequals(name, "accept-encoding") || iequals(name, "x-request-id") ||
         iequals(name, "cookie") || iequals(name, "api-key") || iequals(name, "expect");
}

// What sluice writes itself on every request: a translation's copy is dropped. (Its auth
// headers are its own business, unlike a client's.)
bool is_framing_header(std::string_view name) {
  using http::iequals;
  return iequals(name, "host") || iequals(name, "content-length") ||
         iequals(name, "content-type") || iequals(name, "transfer-encoding") ||
         iequals(name, "x-request-id") || iequals(name, "connection");
}

std::string_view endpoint_suffix(const http::HttpRequest& request) {
  // Requests reach a backend only for /v1/<endpoint>; the provider's base_url already ends in
  // its own version prefix (https://api.openai.com/v1), so the suffix is what follows "/v1".
  std::string_view target = request.target();
  if (target.starts_with("/v1")) target.remove_prefix(3);
  return target;
}

bool translated_sets(const TranslatedRequest& translated, std::string_view name) {
  return std::any_of(translated.headers.begin(), translated.headers.end(),
                     [&](const auto& h) { return http::iequals(h.first, name); });
}

}  // namespace

// One attempt in flight: owns the head buffer and the iovecs the pool writes from, and
// forwards the pool's callbacks to the session, recycling itself when the exchange ends.
struct HttpBackend::Attempt final : upstream::ResponseSink {
  HttpBackend* backend = nullptr;
  upstream::ResponseSink* sink = nullptr;
  upstream::Exchange* exchange = nullptr;
  std::string head;
  UpstreamBody body;            // the client's body with the model (and include_usage) spliced in
  std::string translated_body;  // or a translation's body
  uv_buf_t bufs[1 + 2 * json::SplicedBody::kMaxEdits + 1];  // head, then the body's pieces

  void on_upstream_head(int status, std::span<const upstream::ResponseHeader> headers,
                        std::optional<uint64_t> content_length) override {
    sink->on_upstream_head(status, headers, content_length);
  }
  void on_upstream_body(const char* data, size_t len) override {
    sink->on_upstream_body(data, len);
  }
  void on_upstream_done() override {
    upstream::ResponseSink* s = sink;
    backend->recycle(this);
    s->on_upstream_done();
  }
  void on_upstream_failure(const upstream::Failure& failure) override {
    upstream::ResponseSink* s = sink;
    backend->recycle(this);
    s->on_upstream_failure(failure);
  }
};

HttpBackend::HttpBackend(uv_loop_t* loop, const config::Provider& provider)
    : pool_(loop, provider), path_prefix_(provider.url.path_prefix) {
  fixed_headers_.append("Host: ").append(provider.url.host_header).append("\r\n");
  // The auth style of the type (Bearer, or x-api-key + anthropic-version); a client's copy of
  // any of these is dropped like the provider's own headers below.
  for (const auto& [name, value] : provider_auth_headers(provider)) {
    fixed_headers_.append(name).append(": ").append(value).append("\r\n");
    own_header_names_.push_back(lowercase(name));
  }
  for (const auto& [name, value] : provider.headers) {
    fixed_headers_.append(name).append(": ").append(value).append("\r\n");
    own_header_names_.push_back(lowercase(name));
  }
  fixed_headers_.append("Content-Type: application/json\r\n");
}

HttpBackend::~HttpBackend() = default;

void HttpBackend::build_head(const AttemptRequest& request, size_t body_length,
                             std::string& out) const {
  const http::HttpRequest& in = *request.request;
  out.clear();
  const TranslatedRequest* translated = request.translated;
  out.append(in.method()).append(" ").append(path_prefix_);
  out.append(translated != nullptr ? std::string_view(translated->path) : endpoint_suffix(in));
  out.append(" HTTP/1.1\r\n").append(fixed_headers_);
  out.append("Content-Length: ").append(std::to_string(body_length)).append("\r\n");
  out.append("x-request-id: ").append(request.request_id).append("\r\n");
  if (translated != nullptr) {
    // The translation checked its header names and values (no CR/LF).
    for (const auto& [name, value] : translated->headers) {
      if (provider_sets(name) || is_framing_header(name)) continue;
      out.append(name).append(": ").append(value).append("\r\n");
    }
    // A translated body is another API's request: the client's headers are not for it.
    if (translated->body) {
      out.append("\r\n");
      return;
    }
  }
  for (size_t i = 0; i < in.header_count(); ++i) {
    if (in.is_hop_by_hop(i)) continue;
    http::HeaderView h = in.header_at(i);
    if (is_replaced_header(h.name) || provider_sets(h.name)) continue;
    if (translated != nullptr && translated_sets(*translated, h.name)) continue;
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  out.append("\r\n");
}

bool HttpBackend::provider_sets(std::string_view name) const {
  return std::any_of(own_header_names_.begin(), own_header_names_.end(),
                     [&](const std::string& n) { return http::iequals(n, name); });
}

HttpBackend::Attempt* HttpBackend::acquire_attempt() {
  if (free_.empty()) {
    attempts_.push_back(std::make_unique<Attempt>());
    attempts_.back()->backend = this;
    return attempts_.back().get();
  }
  Attempt* a = free_.back();
  free_.pop_back();
  return a;
}

void HttpBackend::recycle(Attempt* attempt) {
  attempt->sink = nullptr;
  attempt->exchange = nullptr;
  free_.push_back(attempt);
}

AttemptHandle* HttpBackend::start(const AttemptRequest& request, upstream::ResponseSink* sink) {
  Attempt* a = acquire_attempt();
  a->sink = sink;
  size_t nbufs = 0;
  if (request.translated != nullptr && request.translated->body) {
    // The translation's body is kept by the attempt (the translation may go before the
    // write completes).
    a->translated_body = *request.translated->body;
    build_head(request, a->translated_body.size(), a->head);
    a->bufs[nbufs++] = uv_buf_init(a->head.data(), static_cast<unsigned>(a->head.size()));
    a->bufs[nbufs++] =
        uv_buf_init(a->translated_body.data(), static_cast<unsigned>(a->translated_body.size()));
  } else {
    a->body.prepare(request);
    build_head(request, a->body.size(), a->head);
    a->bufs[nbufs++] = uv_buf_init(a->head.data(), static_cast<unsigned>(a->head.size()));
    for (std::string_view piece : a->body.pieces()) {
      // uv_buf_t is not const-correct; the pieces are only read.
      a->bufs[nbufs++] =
          uv_buf_init(const_cast<char*>(piece.data()), static_cast<unsigned>(piece.size()));
    }
  }
  a->exchange = pool_.start(std::span<const uv_buf_t>(a->bufs, nbufs), a);
  return reinterpret_cast<AttemptHandle*>(a);
}

void HttpBackend::abort(AttemptHandle* handle) {
  auto* a = reinterpret_cast<Attempt*>(handle);
  pool_.abort(a->exchange);
  recycle(a);
}

void HttpBackend::pause(AttemptHandle* handle) {
  pool_.pause(reinterpret_cast<Attempt*>(handle)->exchange);
}

void HttpBackend::resume(AttemptHandle* handle) {
  pool_.resume(reinterpret_cast<Attempt*>(handle)->exchange);
}

void HttpBackend::shutdown(void (*done)(void* arg), void* arg) {
  pool_.shutdown(done, arg);
}

}  // namespace sluice::providers
