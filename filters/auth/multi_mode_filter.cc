#include "filters/auth/multi_mode_filter.h"

#include <chrono>
#include <optional>

#include "core/http/request.h"
#include "filters/auth/credentials.h"
#include "filters/auth/internal_caller_auth.h"
#include "filters/auth/key_hasher.h"

namespace sluice::filters::auth {

namespace {

using filter::RequestContext;
using filter::RequestStatus;

// What the bearer token is, once matched to the listed modes (see the header comment).
enum class BearerIs : uint8_t { Nothing, ApiKey, Jwt };

bool has_jwt_shape(std::string_view token) {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return false;
  size_t second = token.find('.', first + 1);
  return second != std::string_view::npos && token.find('.', second + 1) == std::string_view::npos;
}

// The header mode's value: nullopt when absent or empty, `*twice` when sent more than once
// (two names for one request: refused rather than picking one).
std::optional<std::string_view> agent_header(const http::HttpRequest& request,
                                             std::string_view name, bool* twice) {
  std::optional<std::string_view> found;
  for (size_t i = 0; i < request.header_count(); ++i) {
    http::HeaderView header = request.header_at(i);
    if (!http::iequals(header.name, name)) continue;
    if (found) {
      *twice = true;
      return found;
    }
    found = header.value;
  }
  if (found && found->empty()) return std::nullopt;
  return found;
}

std::string in_quotes(std::string_view text) {
  constexpr size_t kMax = 100;
  std::string out = "\"";
  if (text.size() <= kMax) {
    out.append(text);
  } else {
    size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    out.append(text.substr(0, cut)).append("...");
  }
  out.push_back('"');
  return out;
}

RequestStatus refuse(RequestContext& ctx, std::string_view code, std::string message,
                     std::string_view challenge = "Bearer") {
  ctx.add_response_header("www-authenticate", challenge);  // RFC 9110 §15.5.2
  ctx.respond(401, "authentication_error", code, std::move(message));
  return RequestStatus::Respond;
}

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string describe_accepted(const std::vector<AuthMode>& modes, const std::string& header) {
  std::vector<std::string> parts;
  for (AuthMode mode : modes) {
    switch (mode) {
      case AuthMode::ApiKey:
        parts.push_back("an API key as \"Authorization: Bearer <key>\" or \"x-api-key\"");
        break;
      case AuthMode::Jwt:
        parts.push_back("a JWT as \"Authorization: Bearer <jwt>\"");
        break;
      case AuthMode::Header:
        parts.push_back("the agent's name in \"" + header + "\"");
        break;
    }
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += i + 1 == parts.size() ? ", or " : ", ";
    out += parts[i];
  }
  return out;
}

}  // namespace

MultiModeAuthFilter::MultiModeAuthFilter(const AuthSettings& settings, const AgentKeyIndex* keys,
                                         const JwtVerifier* jwt, const AgentNames& names)
    : modes_(settings.modes),
      keys_(keys),
      jwt_(jwt),
      names_(names),
      header_name_(settings.header ? settings.header->name : ""),
      accepted_(describe_accepted(settings.modes, header_name_)) {}

RequestStatus MultiModeAuthFilter::on_request(RequestContext& ctx) {
  if (ctx.internal_call) return accept_internal_caller(ctx, names_);
  if (ctx.request == nullptr)
    return refuse(ctx, "missing_credentials", "Missing credentials: send " + accepted_);
  const http::HttpRequest& request = *ctx.request;

  std::string_view bearer;
  AuthorizationKind authorization = authorization_of(request, &bearer);
  BearerIs bearer_is = BearerIs::Nothing;
  const config::Agent* bearer_key_agent = nullptr;  // when the bearer token is a known key
  if (authorization == AuthorizationKind::Bearer) {
    if (jwt_ != nullptr && has_jwt_shape(bearer)) {
      // A configured key is an API key even in JWT shape (keys are arbitrary strings).
      if (keys_ != nullptr) {
        if (std::optional<config::KeyDigest> digest = sha256_of(bearer))
          bearer_key_agent = keys_->find(*digest);
      }
      bearer_is = bearer_key_agent != nullptr ? BearerIs::ApiKey : BearerIs::Jwt;
    } else if (keys_ != nullptr) {
      bearer_is = BearerIs::ApiKey;
    } else if (jwt_ != nullptr) {
      bearer_is = BearerIs::Jwt;  // only jwt reads bearer tokens: this is a malformed JWT
    }
  }

  for (AuthMode mode : modes_) {
    switch (mode) {
      case AuthMode::ApiKey: {
        if (bearer_key_agent != nullptr) {
          ctx.agent = bearer_key_agent;
          return RequestStatus::Continue;
        }
        std::string_view key;
        if (bearer_is == BearerIs::ApiKey) {
          key = bearer;
        } else if (!x_api_key_of(request, &key)) {
          break;  // nothing for this mode
        }
        std::optional<config::KeyDigest> digest = sha256_of(key);
        if (!digest) {
          ctx.respond(500, "server_error", "", "Could not check the API key (internal error)");
          return RequestStatus::Respond;
        }
        ctx.agent = keys_->find(*digest);
        if (ctx.agent == nullptr) return refuse(ctx, "invalid_api_key", "Invalid API key");
        return RequestStatus::Continue;
      }
      case AuthMode::Jwt: {
        if (bearer_is != BearerIs::Jwt) break;
        JwtVerdict verdict = jwt_->verify(bearer, unix_now_ms());
        if (verdict.status != JwtStatus::Ok) {
          // RFC 6750 §3.1: the token was presented and is not acceptable.
          return refuse(ctx, code_of(verdict.status), std::move(verdict.message),
                        "Bearer error=\"invalid_token\"");
        }
        ctx.agent = verdict.agent;
        return RequestStatus::Continue;
      }
      case AuthMode::Header: {
        bool twice = false;
        std::optional<std::string_view> name = agent_header(request, header_name_, &twice);
        if (twice) {
          return refuse(ctx, "invalid_agent_header",
                        "Header " + in_quotes(header_name_) + " is sent more than once");
        }
        if (!name) break;
        ctx.agent = names_.find(*name);
        if (ctx.agent == nullptr) {
          return refuse(ctx, "unknown_agent",
                        "Header " + in_quotes(header_name_) + " names agent " + in_quotes(*name) +
                            ", which is not configured");
        }
        return RequestStatus::Continue;
      }
    }
  }
  if (authorization == AuthorizationKind::OtherScheme)
    return refuse(ctx, "missing_credentials",
                  "Unsupported Authorization scheme: send " + accepted_);
  return refuse(ctx, "missing_credentials", "Missing credentials: send " + accepted_);
}

}  // namespace sluice::filters::auth
