#include "core/filter/registry.h"

namespace sluice::filter {

FilterRegistry& FilterRegistry::global() {
  // Function-local static: registrars in other translation units run during static
  // initialisation, so the registry must exist before any of them, whatever the link order.
  static FilterRegistry registry;
  return registry;
}

void FilterRegistry::add(std::string name, FilterBuilder builder) {
  for (auto& [existing, b] : builders_) {
    if (existing == name) {
      b = std::move(builder);  // a later registration (a plugin) replaces a built-in
      return;
    }
  }
  builders_.emplace_back(std::move(name), std::move(builder));
}

const FilterBuilder* FilterRegistry::find(std::string_view name) const {
  for (const auto& [existing, b] : builders_) {
    if (existing == name) return &b;
  }
  return nullptr;
}

std::vector<std::string> FilterRegistry::names() const {
  std::vector<std::string> out;
  out.reserve(builders_.size());
  for (const auto& entry : builders_) out.push_back(entry.first);
  return out;
}

void FilterRegistry::add_extension(SnapshotExtension extension) {
  extensions_.push_back(std::move(extension));
}

}  // namespace sluice::filter
