#include "core/server/config_watcher.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/log/log.h"

namespace sluice::server {

ConfigWatcher::ConfigWatcher(uv_loop_t* loop, std::string config_path,
                             std::function<void()> on_change)
    : loop_(loop), path_(std::move(config_path)), on_change_(std::move(on_change)) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path_, ec);
  if (ec) absolute = path_;
  directory_ = absolute.parent_path().string();
  if (directory_.empty()) directory_ = ".";
  file_name_ = absolute.filename().string();
}

ConfigWatcher::~ConfigWatcher() = default;

int ConfigWatcher::start() {
  uv_fs_event_init(loop_, &event_);
  event_.data = this;
  uv_timer_init(loop_, &debounce_);
  debounce_.data = this;
  open_handles_ = 2;
  started_ = true;
  return uv_fs_event_start(&event_, &ConfigWatcher::on_event, directory_.c_str(), 0);
}

void ConfigWatcher::close(std::function<void()> done) {
  if (!started_ || open_handles_ == 0) {
    if (done) done();
    return;
  }
  on_closed_ = std::move(done);
  uv_close(reinterpret_cast<uv_handle_t*>(&event_), &ConfigWatcher::on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&debounce_), &ConfigWatcher::on_closed);
}

bool ConfigWatcher::is_relevant(const char* name, const std::string& file_name) {
  if (name == nullptr) return true;  // the platform did not say which entry: look anyway
  if (file_name == name) return true;
  // Kubernetes ConfigMap volumes: `<file>` -> `..data/<file>`, and `..data` is swapped to a
  // new `..<timestamp>` directory on update; only the `..` entries change.
  return name[0] == '.' && name[1] == '.';
}

void ConfigWatcher::on_event(uv_fs_event_t* handle, const char* filename, int /*events*/,
                             int status) {
  auto* self = static_cast<ConfigWatcher*>(handle->data);
  if (status < 0) {
    log::warn("config watch on " + self->directory_ + ": " + uv_strerror(status));
    return;
  }
  if (!is_relevant(filename, self->file_name_)) return;
  // Trailing debounce: every event of a burst pushes the read back.
  uv_timer_start(&self->debounce_, &ConfigWatcher::on_debounced, kDebounceMs, 0);
}

void ConfigWatcher::on_debounced(uv_timer_t* timer) {
  auto* self = static_cast<ConfigWatcher*>(timer->data);
  if (self->on_change_) self->on_change_();
}

void ConfigWatcher::on_closed(uv_handle_t* handle) {
  auto* self = static_cast<ConfigWatcher*>(handle->data);
  if (--self->open_handles_ == 0 && self->on_closed_) {
    auto done = std::move(self->on_closed_);
    done();
  }
}

uint64_t content_hash(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

bool read_whole_file(const std::string& path, std::string& out, std::string& error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = path + ": cannot read the config file: it is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot read the config file: " + std::strerror(errno);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    error = path + ": cannot read the config file: " + std::strerror(errno);
    return false;
  }
  out = std::move(text).str();
  return true;
}

}  // namespace sluice::server
