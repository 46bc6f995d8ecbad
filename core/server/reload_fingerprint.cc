#include "core/server/reload_fingerprint.h"

namespace sluice::server {
namespace {

void field(std::string& out, std::string_view value) {
  out.append(std::to_string(value.size())).push_back(':');
  out.append(value);
}

void field(std::string& out, long long value) {
  field(out, std::to_string(value));
}

}  // namespace

std::string provider_fingerprint(const config::Provider& p) {
  std::string out;
  field(out, p.name);
  field(out, p.type);
  field(out, p.base_url);
  field(out, p.url.tls ? 1 : 0);
  field(out, p.url.host);
  field(out, p.url.port);
  field(out, p.url.path_prefix);
  field(out, p.url.host_header);
  field(out, p.api_key);
  field(out, static_cast<long long>(p.headers.size()));
  for (const auto& [name, value] : p.headers) {
    field(out, name);
    field(out, value);
  }
  field(out, p.timeouts.connect.count());
  field(out, p.timeouts.first_byte.count());
  field(out, p.timeouts.idle.count());
  field(out, p.timeouts.total.count());
  field(out, p.max_connections);
  field(out, p.tls_verify ? 1 : 0);
  // Covers the files' contents too: a reload after a certificate rotation gets a new backend
  // (and so a new SSL_CTX) even though no key of the YAML changed.
  field(out, p.tls.identity);
  field(out, p.proxy ? 1 : 0);
  if (p.proxy) {
    field(out, p.proxy->host);
    field(out, p.proxy->port);
    field(out, p.proxy->authorization);
  }
  field(out, p.mock.mode == config::MockSettings::Mode::Echo ? 0 : 1);
  field(out, p.mock.reply);
  field(out, p.mock.latency.count());
  field(out, p.mock.chunk_delay.count());
  field(out, p.mock.stream_chunks);
  return out;
}

}  // namespace sluice::server
