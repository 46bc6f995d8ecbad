#include "core/plugin/plugin_library.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/log/log.h"
#include "core/plugin/host_api.h"

namespace sluice::plugin {
namespace {

constexpr const char* kVersionSymbol = "sluice_plugin_abi_version";
constexpr const char* kInitSymbol = "sluice_plugin_init";
constexpr const char* kFiniSymbol = "sluice_plugin_fini";

using InitFn = sluice_status (*)(const sluice_host_api*, sluice_registry*);
using FiniFn = void (*)();

// The process-wide cache: identity → the library loaded for it, while someone uses it.
struct Cache {
  std::mutex mutex;
  std::map<std::string, std::weak_ptr<PluginLibrary>> libraries;
  size_t open = 0;
  uint64_t copies = 0;  // private copies made, for unique names
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: libraries may close during exit
  return *c;
}

std::string hex(const unsigned char* bytes, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 15]);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return hex(digest, length);
}

bool read_file(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read plugin file " + path + ": " + std::strerror(errno);
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

// A directory of this process's own for the private copies: $TMPDIR/sluice-plugins.<pid>.
bool private_dir(std::string* dir, std::string* error) {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  *dir = base + "/sluice-plugins." + std::to_string(::getpid());
  if (::mkdir(dir->c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "cannot create " + *dir + " for the plugins' private copies: " + std::strerror(errno);
    return false;
  }
  return true;
}

bool write_copy(const std::string& path, std::string_view bytes, std::string* error) {
  // Written under a temporary name and renamed, so a half-written copy is never opened.
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
  if (fd < 0) {
    *error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + tmp + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::string version_text(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// nginx's module signature check: refuse before running a line of the plugin's code.
bool check_abi(const sluice_abi_version* v, const std::string& file, std::string* error) {
  const std::string ours =
      version_text(SLUICE_PLUGIN_ABI_VERSION_MAJOR, SLUICE_PLUGIN_ABI_VERSION_MINOR);
  if (v->magic != SLUICE_PLUGIN_ABI_MAGIC) {
    *error = "plugin " + file + ": " + kVersionSymbol +
             " is not a sluice ABI version record (wrong magic); was it defined with "
             "SLUICE_PLUGIN_DEFINE_ABI_VERSION() from sluice/plugin.h?";
    return false;
  }
  const std::string theirs = version_text(v->major, v->minor);
  if (v->major != SLUICE_PLUGIN_ABI_VERSION_MAJOR) {
    *error = "plugin " + file + " was built for sluice plugin ABI " + theirs +
             ", but this sluice speaks ABI " + ours +
             " (a different major version cannot be loaded): rebuild it against this sluice's "
             "sdk/include/sluice/plugin.h";
    return false;
  }
  if (v->minor > SLUICE_PLUGIN_ABI_VERSION_MINOR) {
    *error = "plugin " + file + " was built for sluice plugin ABI " + theirs +
             ", newer than this sluice's ABI " + ours +
             ": upgrade sluice, or rebuild the plugin against this sluice's "
             "sdk/include/sluice/plugin.h";
    return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<PluginLibrary> PluginLibrary::open(const Spec& spec, std::string* error) {
  std::string bytes;
  if (!read_file(spec.file, &bytes, error)) return nullptr;
  const std::string content_hash = sha256_hex(bytes);
  // The config's directory belongs to the identity: a plugin resolves its relative paths (a
  // database file) against it in init.
  const std::string identity =
      content_hash + '\n' + spec.name + '\n' + spec.config_json + '\n' + spec.config_dir;

  Cache& c = cache();
  // Declared before the lock: a library that fails to load is destroyed after the unlock (its
  // destructor takes the lock too).
  std::shared_ptr<PluginLibrary> lib;
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.libraries.find(identity);
  if (it != c.libraries.end()) {
    if (auto live = it->second.lock()) return live;
  }

  std::string dir;
  if (!private_dir(&dir, error)) return nullptr;
  // Named by identity and numbered: never the name of a copy that may still be loaded (one
  // whose last user is going away on another thread right now), which glibc would hand back.
  const std::string copy_path =
      dir + "/" + sha256_hex(identity).substr(0, 24) + "-" + std::to_string(++c.copies) + ".so";
  if (!write_copy(copy_path, bytes, error)) {
    ::rmdir(dir.c_str());
    return nullptr;
  }

  lib.reset(new PluginLibrary());
  lib->spec_ = spec;
  lib->identity_ = identity;
  lib->content_hash_ = content_hash;
  lib->copy_path_ = copy_path;
  lib->handle_ = ::dlopen(copy_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  // The copy has done its job once opened: the mapping keeps its inode alive (so glibc can
  // never mistake a later copy for this one), and nothing is left in $TMPDIR even if sluice
  // is killed.
  ::unlink(copy_path.c_str());
  ::rmdir(dir.c_str());  // fails harmlessly while another load is using it
  if (lib->handle_ == nullptr) {
    const char* why = ::dlerror();
    std::string text = why != nullptr ? why : "unknown error";
    // dlerror names the private copy; the user knows the file by its configured name.
    for (size_t at = text.find(copy_path); at != std::string::npos;
         at = text.find(copy_path, at + spec.file.size()))
      text.replace(at, copy_path.size(), spec.file);
    *error = "cannot load plugin " + spec.file + ": " + text;
    return nullptr;
  }
  ++c.open;

  ::dlerror();
  auto* version = static_cast<const sluice_abi_version*>(::dlsym(lib->handle_, kVersionSymbol));
  if (version == nullptr) {
    *error = "plugin " + spec.file + " does not export " + kVersionSymbol +
             ": not a sluice plugin, or built without SLUICE_PLUGIN_DEFINE_ABI_VERSION()";
    return nullptr;
  }
  if (!check_abi(version, spec.file, error)) return nullptr;
  auto init = reinterpret_cast<InitFn>(::dlsym(lib->handle_, kInitSymbol));
  if (init == nullptr) {
    *error = "plugin " + spec.file + " does not export its entry point " + kInitSymbol +
             " (sluice_status sluice_plugin_init(const sluice_host_api*, sluice_registry*), "
             "declared extern \"C\" in C++)";
    return nullptr;
  }

  sluice_registry registry;
  registry.plugin_name = lib->spec_.name;
  registry.config_json = lib->spec_.config_json;
  registry.filters = &lib->filters_;
  registry.providers = &lib->providers_;
  registry.client_apis = &lib->client_apis_;
  registry.tools = &lib->tools_;
  registry.config_dir = lib->spec_.config_dir;
  const sluice_status status = init(&host_api(), &registry);
  if (status != SLUICE_OK) {
    *error = "plugin " + spec.file + ": " + kInitSymbol + " failed (status " +
             std::to_string(status) + ")" +
             (registry.error.empty() ? std::string() : ": " + registry.error);
    return nullptr;
  }
  c.libraries[identity] = lib;
  return lib;
}

PluginLibrary::~PluginLibrary() {
  if (handle_ != nullptr) {
    if (auto fini = reinterpret_cast<FiniFn>(::dlsym(handle_, kFiniSymbol))) fini();
    ::dlclose(handle_);
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    --c.open;
    auto it = c.libraries.find(identity_);
    if (it != c.libraries.end() && it->second.expired()) c.libraries.erase(it);
  }
}

const FilterRegistration* PluginLibrary::find_filter(std::string_view name) const {
  for (const auto& f : filters_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const ProviderRegistration* PluginLibrary::find_provider(std::string_view type) const {
  for (const auto& p : providers_) {
    if (p.type == type) return &p;
  }
  return nullptr;
}

const ToolRegistration* PluginLibrary::find_tool(std::string_view name) const {
  for (const auto& t : tools_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

size_t PluginLibrary::open_count() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.open;
}

}  // namespace sluice::plugin
