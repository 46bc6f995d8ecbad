#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sluice::test {

namespace {

constexpr size_t kMaxHeadBytes = 1 << 20;  // a response head bigger than this is an error

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

}  // namespace

// ---- HttpResponse ------------------------------------------------------------------------

std::string HttpResponse::header(std::string_view name) const {
  std::string want = lowercase(name);
  for (const auto& [k, v] : headers)
    if (k == want) return v;
  return "";
}

bool HttpResponse::has_header(std::string_view name) const {
  return header_count(name) > 0;
}

size_t HttpResponse::header_count(std::string_view name) const {
  std::string want = lowercase(name);
  size_t n = 0;
  for (const auto& [k, v] : headers) n += k == want;
  return n;
}

std::optional<Json> HttpResponse::json() const {
  return Json::parse(body);
}

std::string HttpResponse::describe() const {
  std::string d = "HTTP " + std::to_string(status) + " " + reason + "\n";
  for (const auto& [k, v] : headers) d += "  " + k + ": " + v + "\n";
  d += body.size() > 2000 ? body.substr(0, 2000) + "..." : body;
  return d;
}

std::string StreamResult::describe() const {
  std::string d = head ? head->describe() : "no response head";
  d += "\nevents (" + std::to_string(events.size()) + "):\n";
  for (const auto& e : events)
    d += "  " + (e.event.empty() ? "" : "event=" + e.event + " ") + "data=" + e.data + "\n";
  d += complete ? "complete" : "incomplete: " + error;
  if (!leftover.empty()) d += "\nleftover: " + leftover;
  return d;
}

// ---- connection ----------------------------------------------------------------------------

HttpClient::HttpClient(uint16_t port, std::string host) : host_(std::move(host)), port_(port) {}

HttpClient::~HttpClient() {
  close();
}

HttpClient::HttpClient(HttpClient&& o) noexcept
    : host_(std::move(o.host_)),
      port_(o.port_),
      fd_(o.fd_),
      connects_(o.connects_),
      eof_(o.eof_),
      reset_(o.reset_),
      close_after_body_(o.close_after_body_),
      head_pending_(o.head_pending_),
      timeout_(o.timeout_),
      error_(std::move(o.error_)),
      buffer_(std::move(o.buffer_)),
      body_state_(o.body_state_),
      remaining_(o.remaining_),
      sse_buffer_(std::move(o.sse_buffer_)) {
  o.fd_ = -1;
}

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool HttpClient::connect() {
  close();
  buffer_.clear();
  sse_buffer_.clear();
  eof_ = reset_ = close_after_body_ = head_pending_ = false;
  body_state_ = BodyState::Done;
  error_.clear();

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  if (inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1) {
    error_ = "bad IPv4 address " + host_;
    return false;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto deadline = Clock::now() + timeout_;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      error_ = std::string("connect: ") + std::strerror(errno);
      ::close(fd);
      return false;
    }
    pollfd p{fd, POLLOUT, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    int so_error = 0;
    socklen_t len = sizeof so_error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (r <= 0 || so_error != 0) {
      error_ = r <= 0 ? "connect: timeout" : std::string("connect: ") + std::strerror(so_error);
      ::close(fd);
      return false;
    }
  }
  fd_ = fd;
  ++connects_;
  return true;
}

bool HttpClient::send_raw(std::string_view bytes) {
  if (fd_ < 0 && !connect()) return false;
  auto deadline = Clock::now() + timeout_;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      error_ = std::string("send: ") + std::strerror(errno);
      if (errno == ECONNRESET) reset_ = true;
      return false;
    }
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) {
      error_ = "send: timeout";
      return false;
    }
  }
  return true;
}

bool HttpClient::fill(Clock::time_point deadline) {
  if (fd_ < 0) {
    error_ = "not connected";
    return false;
  }
  if (eof_) {
    error_ = reset_ ? "connection reset by peer" : "connection closed by peer";
    return false;
  }
  while (true) {
    char chunk[64 << 10];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) {
      eof_ = true;
      error_ = "connection closed by peer";
      return false;
    }
    if (errno == ECONNRESET) {
      eof_ = reset_ = true;
      error_ = "connection reset by peer";
      return false;
    }
    if (errno != EAGAIN && errno != EINTR) {
      eof_ = true;
      error_ = std::string("recv: ") + std::strerror(errno);
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int left = remaining_ms(deadline);
    if (left == 0 || ::poll(&p, 1, left) == 0) {
      error_ = "timeout waiting for the server";
      return false;
    }
  }
}

bool HttpClient::peer_closed_now() {
  if (fd_ < 0 || eof_) return true;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char c;
  ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

std::optional<std::string> HttpClient::read_raw_some() {
  if (buffer_.empty() && !fill(Clock::now() + timeout_)) return std::nullopt;
  std::string bytes = std::move(buffer_);
  buffer_.clear();
  return bytes;
}

bool HttpClient::wait_for_close(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_) {
    if (!fill(deadline) && !eof_) return false;
  }
  return true;
}

// ---- responses -----------------------------------------------------------------------------

std::optional<HttpResponse> HttpClient::read_response_head() {
  auto deadline = Clock::now() + timeout_;
  while (true) {
    size_t end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (buffer_.size() > kMaxHeadBytes) {
        error_ = "response head too large";
        return std::nullopt;
      }
      if (!fill(deadline)) return std::nullopt;
      continue;
    }
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);

    HttpResponse r;
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
      error_ = "not an HTTP response: " + status_line.substr(0, 80);
      return std::nullopt;
    }
    r.status = std::atoi(status_line.substr(9, 3).c_str());
    r.reason = status_line.size() > 13 ? status_line.substr(13) : "";
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string_view line(head.data() + pos, next - pos);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos)
        r.headers.emplace_back(lowercase(trim(line.substr(0, colon))),
                               std::string(trim(line.substr(colon + 1))));
      pos = next + 2;
    }
    if (r.status >= 100 && r.status < 200) continue;  // interim (100 Continue): skip it

    std::string te = lowercase(r.header("transfer-encoding"));
    std::string connection = lowercase(r.header("connection"));
    close_after_body_ =
        connection.find("close") != std::string::npos || status_line.rfind("HTTP/1.0", 0) == 0;
    if (r.status == 204 || r.status == 304) {
      body_state_ = BodyState::Done;
    } else if (te.find("chunked") != std::string::npos) {
      body_state_ = BodyState::ChunkSize;
    } else if (r.has_header("content-length")) {
      remaining_ = std::strtoull(r.header("content-length").c_str(), nullptr, 10);
      body_state_ = remaining_ ? BodyState::Length : BodyState::Done;
    } else {
      body_state_ = BodyState::UntilClose;
    }
    sse_buffer_.clear();
    return r;
  }
}

std::optional<std::string> HttpClient::read_body_piece() {
  auto deadline = Clock::now() + timeout_;
  while (true) {
    switch (body_state_) {
      case BodyState::Done:
        return std::nullopt;
      case BodyState::Length:
        if (!buffer_.empty()) {
          size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, buffer_.size()));
          std::string piece = buffer_.substr(0, take);
          buffer_.erase(0, take);
          remaining_ -= take;
          if (remaining_ == 0) body_state_ = BodyState::Done;
          return piece;
        }
        break;
      case BodyState::UntilClose:
        if (!buffer_.empty()) {
          std::string piece = std::move(buffer_);
          buffer_.clear();
          return piece;
        }
        if (eof_) {
          body_state_ = BodyState::Done;
          return std::nullopt;
        }
        break;
      case BodyState::ChunkSize: {
        size_t eol = buffer_.find("\r\n");
        if (eol != std::string::npos) {
          std::string size_text = buffer_.substr(0, eol);
          buffer_.erase(0, eol + 2);
          char* end = nullptr;
          remaining_ = std::strtoull(size_text.c_str(), &end, 16);
          if (end == size_text.c_str()) {
            error_ = "bad chunk size line: " + size_text.substr(0, 40);
            return std::nullopt;
          }
          body_state_ = remaining_ ? BodyState::ChunkData : BodyState::Trailers;
          continue;
        }
        break;
      }
      case BodyState::ChunkData:
        if (!buffer_.empty()) {
          size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, buffer_.size()));
          std::string piece = buffer_.substr(0, take);
          buffer_.erase(0, take);
          remaining_ -= take;
          if (remaining_ == 0) body_state_ = BodyState::ChunkCrlf;
          return piece;
        }
        break;
      case BodyState::ChunkCrlf:
        if (buffer_.size() >= 2) {
          if (buffer_.compare(0, 2, "\r\n") != 0) {
            error_ = "chunk data not followed by CRLF";
            return std::nullopt;
          }
          buffer_.erase(0, 2);
          body_state_ = BodyState::ChunkSize;
          continue;
        }
        break;
      case BodyState::Trailers: {
        size_t eol = buffer_.find("\r\n");
        if (eol != std::string::npos) {
          buffer_.erase(0, eol + 2);
          if (eol == 0) {
            body_state_ = BodyState::Done;
            return std::nullopt;
          }
          continue;
        }
        break;
      }
    }
    if (!fill(deadline)) {
      if (body_state_ == BodyState::UntilClose && eof_ && !reset_) continue;  // normal end
      return std::nullopt;
    }
  }
}

std::optional<HttpResponse> HttpClient::read_response() {
  auto r = read_response_head();
  if (!r) return std::nullopt;
  while (auto piece = read_body_piece()) r->body += *piece;
  if (!body_complete()) return std::nullopt;
  return r;
}

std::string HttpClient::build_request(std::string_view method, std::string_view path,
                                      std::string_view body, const Headers& headers) const {
  std::string req;
  req.reserve(256 + body.size());
  req.append(method).append(" ").append(path).append(" HTTP/1.1\r\n");
  bool has_host = false, has_length = false;
  for (const auto& [k, v] : headers) {
    has_host = has_host || lowercase(k) == "host";
    has_length =
        has_length || lowercase(k) == "content-length" || lowercase(k) == "transfer-encoding";
  }
  if (!has_host) req += "Host: " + host_ + ":" + std::to_string(port_) + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!has_length && (!body.empty() || method == "POST"))
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req.append(body);
  return req;
}

std::optional<HttpResponse> HttpClient::start_request(std::string_view method,
                                                      std::string_view path, std::string_view body,
                                                      const Headers& headers) {
  // A connection the server closed or announced it would close (Connection: close), or one
  // left mid-response by an earlier failure, is replaced, as a client pool would.
  if (fd_ < 0 || close_after_body_ || head_pending_ || body_state_ != BodyState::Done ||
      !buffer_.empty() || peer_closed_now()) {
    if (!connect()) return std::nullopt;
  }
  if (!send_raw(build_request(method, path, body, headers))) return std::nullopt;
  head_pending_ = true;
  auto head = read_response_head();
  if (head) head_pending_ = false;
  return head;
}

std::optional<HttpResponse> HttpClient::request(std::string_view method, std::string_view path,
                                                std::string_view body, const Headers& headers) {
  auto r = start_request(method, path, body, headers);
  if (!r) return std::nullopt;
  while (auto piece = read_body_piece()) r->body += *piece;
  if (!body_complete()) return std::nullopt;
  return r;
}

std::optional<HttpResponse> HttpClient::post_json(std::string_view path, std::string_view body,
                                                  const Headers& headers) {
  Headers all = headers;
  bool has_type = false;
  for (const auto& [k, v] : headers) has_type = has_type || lowercase(k) == "content-type";
  if (!has_type) all.emplace_back("Content-Type", "application/json");
  return request("POST", path, body, all);
}

std::optional<HttpResponse> HttpClient::get(std::string_view path, const Headers& headers) {
  return request("GET", path, {}, headers);
}

// ---- server-sent events -------------------------------------------------------------------

std::optional<SseEvent> HttpClient::read_sse_event() {
  while (true) {
    // Normalise CRLF so both line ends work.
    size_t cr;
    while ((cr = sse_buffer_.find('\r')) != std::string::npos) {
      if (cr + 1 < sse_buffer_.size() && sse_buffer_[cr + 1] == '\n')
        sse_buffer_.erase(cr, 1);
      else if (cr + 1 < sse_buffer_.size())
        sse_buffer_[cr] = '\n';
      else
        break;  // a lone trailing CR may be half of a CRLF: wait for more
    }
    size_t end = sse_buffer_.find("\n\n");
    if (end != std::string::npos) {
      std::string block = sse_buffer_.substr(0, end);
      sse_buffer_.erase(0, end + 2);
      SseEvent ev;
      ev.arrived = Clock::now();
      bool any = false;
      size_t pos = 0;
      while (pos <= block.size()) {
        size_t nl = block.find('\n', pos);
        if (nl == std::string::npos) nl = block.size();
        std::string_view line(block.data() + pos, nl - pos);
        pos = nl + 1;
        if (line.empty() || line.front() == ':') continue;  // comment / keep-alive
        size_t colon = line.find(':');
        std::string_view field = line.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (field == "data") {
          if (any && !ev.data.empty()) ev.data += '\n';
          ev.data.append(value);
          any = true;
        } else if (field == "event") {
          ev.event = std::string(value);
          any = true;
        }
      }
      if (any) return ev;
      continue;  // a comment-only block
    }
    auto piece = read_body_piece();
    if (!piece) return std::nullopt;
    sse_buffer_ += *piece;
  }
}

StreamResult HttpClient::stream_post(std::string_view path, std::string_view body,
                                     const Headers& headers) {
  StreamResult result;
  Headers all = headers;
  all.emplace_back("Content-Type", "application/json");
  all.emplace_back("Accept", "text/event-stream");
  result.head = start_request("POST", path, body, all);
  if (!result.head) {
    result.error = error_;
    result.finished = Clock::now();
    return result;
  }
  if (result.head->header("content-type").find("text/event-stream") == std::string::npos) {
    // Not a stream (an error reply, typically): keep its body where describe() shows it.
    while (auto piece = read_body_piece()) result.head->body += *piece;
  } else {
    while (auto ev = read_sse_event()) result.events.push_back(std::move(*ev));
  }
  result.complete = body_complete();
  if (!result.complete) result.error = error_;
  result.leftover = sse_buffer_;
  result.finished = Clock::now();
  if (!result.complete) close();
  return result;
}

}  // namespace sluice::test
