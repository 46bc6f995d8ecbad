// ConfigWatcher: notices that the config file changed and asks for a reload, on the main loop.
//
// Why the DIRECTORY is watched and not the file: editors save by writing a temp file and
// renaming it over the old one, and Kubernetes ConfigMap volumes swap a `..data` symlink; both
// replace the inode, and a watch on the old inode would go silent after the first change. A
// directory watch sees the rename. Events are filtered by name: the config's own file name, or
// a name starting with ".." (the ConfigMap machinery: `..data`, `..2026_11_21_...`).
//
// Bursts (truncate + write + chmod, or the several renames of a ConfigMap update) are collapsed
// by a trailing debounce: each event restarts a 200 ms timer, and only its expiry reads the file.
// The reload callback gets the file's content; the caller compares content hashes (Server keeps
// the hash of the last content it tried) so touching a file without changing it does nothing.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

namespace sluice::server {

class ConfigWatcher {
 public:
  static constexpr uint64_t kDebounceMs = 200;

  // `on_change` runs on `loop` after a debounced event burst (never synchronously from start).
  ConfigWatcher(uv_loop_t* loop, std::string config_path, std::function<void()> on_change);
  ~ConfigWatcher();  // only after close() called its callback (or start() was never called)
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  // Starts watching the directory of the config path. Returns 0 or a libuv error code (the
  // caller logs it; SIGHUP and POST /reload still work without a watch).
  int start();
  // Closes the handles; `done` runs once both are closed.
  void close(std::function<void()> done);

  const std::string& directory() const { return directory_; }
  const std::string& file_name() const { return file_name_; }

  // Whether an event for `name` (as libuv reports it, may be null) concerns the config file.
  static bool is_relevant(const char* name, const std::string& file_name);

 private:
  static void on_event(uv_fs_event_t* handle, const char* filename, int events, int status);
  static void on_debounced(uv_timer_t* timer);
  static void on_closed(uv_handle_t* handle);

  uv_loop_t* loop_;
  std::string path_;
  std::string directory_;
  std::string file_name_;
  std::function<void()> on_change_;
  std::function<void()> on_closed_;
  uv_fs_event_t event_;
  uv_timer_t debounce_;
  int open_handles_ = 0;
  bool started_ = false;
};

// FNV-1a 64 of a file's bytes: enough to tell "same content" from "changed" (not a MAC).
uint64_t content_hash(const std::string& bytes);

// Reads a whole file; false with `error` set ("cannot read the config file: <why>").
bool read_whole_file(const std::string& path, std::string& out, std::string& error);

}  // namespace sluice::server
