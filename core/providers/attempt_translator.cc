#include "core/providers/attempt_translator.h"

#include "core/http/request.h"
#include "core/providers/backend.h"

namespace sluice::providers {
namespace {

// Upstream headers that describe the provider's body, not the translated one.
bool describes_body(std::string_view name) {
  return http::iequals(name, "content-type") || http::iequals(name, "content-encoding") ||
         http::iequals(name, "content-length");
}

bool is_stream_type(std::string_view content_type) {
  return content_type.starts_with("text/event-stream") ||
         content_type.starts_with("application/x-ndjson") ||
         content_type.starts_with("application/jsonl");
}

}  // namespace

bool AttemptTranslator::needed(const ProviderCodec* provider, const ClientApiCodec* client,
                               filter::Endpoint endpoint) {
  if (client != nullptr) return true;
  return provider != nullptr && !provider->native(endpoint);
}

TranslateStatus AttemptTranslator::prepare(const ProviderCodec* provider,
                                           const ClientApiCodec* client, unsigned worker,
                                           const TranslateInput& in,
                                           upstream::ResponseSink* session) {
  state_ = State::Idle;
  session_ = session;
  backend_ = nullptr;
  attempt_ = nullptr;
  provider_codec_ = provider;
  client_codec_ = client;
  provider_.reset();
  client_.reset();
  request_ = TranslatedRequest{};
  message_.clear();
  usage_ = usage::Usage{};
  headers_.clear();
  whole_.clear();
  out_.clear();

  TranslateInput next = in;
  TranslatedRequest client_out;
  if (client != nullptr) {
    client_ = client->begin(worker);
    TranslateStatus st = client_->request(in, client_out);
    if (st != TranslateStatus::Ok) {
      message_ = client->name() + ": " + client_->message();
      return st;
    }
    if (!client_out.body) {
      message_ = client->name() + ": on_request set no body";
      return TranslateStatus::Failed;
    }
    // The provider now sees an OpenAI chat request that asks for the usage chunk (the client
    // API's answer needs it, whatever its client asked).
    next.endpoint = filter::Endpoint::ChatCompletions;
    next.body = *client_out.body;
    next.stream_usage = next.stream;
  }
  if (provider == nullptr) {
    // A built-in provider speaks OpenAI: the client API's body goes to its chat endpoint.
    request_.path = "/chat/completions";
    request_.body = std::move(client_out.body);
  } else {
    provider_ = provider->begin(worker);
    TranslateStatus st = provider_->request(next, request_);
    if (st != TranslateStatus::Ok) {
      message_ = provider->name() + ": " + provider_->message();
      return st;
    }
    const bool native = provider->native(next.endpoint);
    if (request_.path.empty() || request_.path.front() != '/') {
      message_ = provider->name() + ": on_request set no path (or one not starting with '/')";
      return TranslateStatus::Failed;
    }
    if (native && request_.body) {
      message_ = provider->name() + ": on_request set a body for an endpoint it serves natively";
      return TranslateStatus::Failed;
    }
    if (!native && !request_.body) {
      message_ = provider->name() + ": on_request set no body";
      return TranslateStatus::Failed;
    }
    // The client API's body replaces the client's when the provider serves OpenAI chat
    // natively; a provider whose answer needs no translation leaves the loop.
    if (native) {
      if (client_out.body) request_.body = std::move(client_out.body);
      provider_.reset();
    }
  }
  state_ = State::Head;
  return TranslateStatus::Ok;
}

void AttemptTranslator::attach(ProviderBackend* backend, AttemptHandle* attempt) {
  backend_ = backend;
  attempt_ = attempt;
}

void AttemptTranslator::reset() {
  state_ = State::Idle;
  backend_ = nullptr;
  attempt_ = nullptr;
  provider_.reset();
  client_.reset();
}

void AttemptTranslator::on_upstream_head(int status,
                                         std::span<const upstream::ResponseHeader> headers,
                                         std::optional<uint64_t> /*content_length*/) {
  if (state_ != State::Head) return;
  status_ = status;
  std::string_view content_type;
  for (const auto& h : headers) {
    if (http::iequals(h.name, "content-type")) content_type = h.value;
    if (describes_body(h.name)) continue;
    headers_.emplace_back(std::string(h.name), std::string(h.value));
  }
  const bool stream = status >= 200 && status < 300 && is_stream_type(content_type);
  if (!stream) {
    state_ = State::Whole;
    return;
  }
  const StreamFraming framing = provider_ ? provider_codec_->framing() : StreamFraming::Sse;
  upstream_events_.reset(content_type.starts_with("text/event-stream") ? StreamFraming::Sse
                                                                       : framing);
  provider_output_.reset(StreamFraming::Sse);
  state_ = State::Streaming;
  send_head(status, std::nullopt, "text/event-stream; charset=utf-8");
}

void AttemptTranslator::send_head(int status, std::optional<uint64_t> content_length,
                                  std::string_view type) {
  std::vector<upstream::ResponseHeader> views;
  views.reserve(headers_.size() + 1);
  views.push_back(upstream::ResponseHeader{"content-type", type});
  for (const auto& [name, value] : headers_) views.push_back(upstream::ResponseHeader{name, value});
  session_->on_upstream_head(status, views, content_length);
}

void AttemptTranslator::on_upstream_body(const char* data, size_t len) {
  if (state_ == State::Whole) {
    if (whole_.size() + len > kMaxWholeBytes) {
      fail_with("the answer is larger than the " + std::to_string(kMaxWholeBytes >> 20) +
                " MiB a translated answer may be");
      return;
    }
    whole_.append(data, len);
    return;
  }
  if (state_ != State::Streaming) return;
  const bool ok = upstream_events_.feed(std::string_view(data, len),
                                        [this](std::string_view name, std::string_view payload) {
                                          return translate_event(name, payload);
                                        });
  if (!ok) {
    if (state_ == State::Streaming && upstream_events_.too_long()) {
      fail_with("a stream event is longer than " +
                std::to_string(EventSplitter::kMaxEventBytes >> 20) + " MiB");
    }
    return;
  }
  flush_out();
}

bool AttemptTranslator::translate_event(std::string_view name, std::string_view data) {
  if (!provider_) return translate_client_event(name, data);
  stage_.clear();
  if (provider_->event(name, data, stage_) != TranslateStatus::Ok) {
    fail(*provider_, provider_codec_->name());
    return false;
  }
  if (!client_) {
    out_.append(stage_);
    return true;
  }
  // The provider codec wrote OpenAI SSE text: cut it again for the client API.
  return provider_output_.feed(stage_, [this](std::string_view n, std::string_view d) {
    return translate_client_event(n, d);
  });
}

bool AttemptTranslator::translate_client_event(std::string_view name, std::string_view data) {
  if (!client_) {
    out_.append(data);
    return true;
  }
  if (client_->event(name, data, out_) != TranslateStatus::Ok) {
    fail(*client_, client_codec_->name());
    return false;
  }
  return true;
}

void AttemptTranslator::flush_out() {
  if (out_.empty()) return;
  session_->on_upstream_body(out_.data(), out_.size());
  out_.clear();
}

void AttemptTranslator::on_upstream_done() {
  // The exchange is over: a translation failing now has nothing left to abort.
  backend_ = nullptr;
  attempt_ = nullptr;
  if (state_ == State::Whole) {
    int status = status_;
    std::string body;
    if (!translate_whole(status, body)) return;
    collect_usage();
    state_ = State::Idle;
    send_head(status, body.size(), "application/json");
    if (!body.empty()) session_->on_upstream_body(body.data(), body.size());
    session_->on_upstream_done();
    return;
  }
  if (state_ != State::Streaming) return;
  if (!translate_end()) return;
  collect_usage();
  state_ = State::Idle;
  flush_out();
  session_->on_upstream_done();
}

bool AttemptTranslator::translate_whole(int& status, std::string& out) {
  std::string middle;
  if (provider_) {
    if (provider_->response(status, whole_, middle) != TranslateStatus::Ok) {
      fail(*provider_, provider_codec_->name());
      return false;
    }
  } else {
    middle = std::move(whole_);
  }
  if (!client_) {
    out = std::move(middle);
    return true;
  }
  if (client_->response(status, middle, out) != TranslateStatus::Ok) {
    fail(*client_, client_codec_->name());
    return false;
  }
  return true;
}

bool AttemptTranslator::translate_end() {
  const auto client_event = [this](std::string_view n, std::string_view d) {
    return translate_client_event(n, d);
  };
  if (!upstream_events_.finish([this](std::string_view name, std::string_view payload) {
        return translate_event(name, payload);
      })) {
    return false;
  }
  if (provider_) {
    stage_.clear();
    if (provider_->end(stage_) != TranslateStatus::Ok) {
      fail(*provider_, provider_codec_->name());
      return false;
    }
    if (!client_) {
      out_.append(stage_);
    } else if (!provider_output_.feed(stage_, client_event) ||
               !provider_output_.finish(client_event)) {
      return false;
    }
  }
  if (client_ && client_->end(out_) != TranslateStatus::Ok) {
    fail(*client_, client_codec_->name());
    return false;
  }
  return true;
}

void AttemptTranslator::collect_usage() {
  // The provider codec read the provider's own usage; a client API alone read OpenAI's.
  if (provider_ && provider_->usage().known()) {
    usage_ = provider_->usage();
  } else if (client_ && client_->usage().known()) {
    usage_ = client_->usage();
  }
}

void AttemptTranslator::fail(const Translation& who, const std::string& codec_name) {
  fail_with(codec_name + ": " + (who.message().empty() ? "translation failed" : who.message()));
}

void AttemptTranslator::fail_with(std::string detail) {
  if (state_ == State::Failed || state_ == State::Idle) return;
  const bool live = state_ == State::Head || state_ == State::Whole || state_ == State::Streaming;
  state_ = State::Failed;
  collect_usage();
  // Whatever of the answer is still coming must not reach the session: the exchange goes.
  if (live && backend_ != nullptr && attempt_ != nullptr) backend_->abort(attempt_);
  backend_ = nullptr;
  attempt_ = nullptr;
  detail_ = std::move(detail);
  out_.clear();
  upstream::Failure failure{upstream::FailureKind::Protocol, upstream::TimeoutKind::None,
                            detail_.c_str()};
  session_->on_upstream_failure(failure);
}

void AttemptTranslator::on_upstream_failure(const upstream::Failure& failure) {
  if (state_ == State::Idle || state_ == State::Failed) return;
  collect_usage();
  state_ = State::Idle;
  backend_ = nullptr;
  attempt_ = nullptr;
  session_->on_upstream_failure(failure);
}

}  // namespace sluice::providers
