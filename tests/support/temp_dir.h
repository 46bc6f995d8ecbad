// A private directory for one test (configs, logs, access logs), removed with everything in it
// when the TempDir goes away. Set SLUICE_KEEP_TEST_DIRS=1 to keep them for a post-mortem.
#pragma once

#include <string>
#include <string_view>

namespace sluice::test {

class TempDir {
 public:
  TempDir();  // mkdtemp("$TMPDIR/sluice-test-XXXXXX"); aborts the test process if impossible
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name (no check that it exists).
  std::string file(std::string_view name) const;
  // Writes `content` to path()/name (truncating) and returns the full path.
  std::string write(std::string_view name, std::string_view content) const;

 private:
  std::string path_;
};

// The whole file, or "" when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace sluice::test
