#include "filters/cost/unpriced_warning.h"

#include <mutex>
#include <set>
#include <string>

#include "core/log/log.h"

namespace sluice::filters::cost {

bool warn_unpriced_once(std::string_view model, std::string_view provider) {
  static std::mutex mutex;
  static auto* warned = new std::set<std::string, std::less<>>;  // never freed: see process()
  // Without model_alias a client names the physical model itself: cap what it can make sluice
  // remember and log.
  constexpr size_t kMaxModels = 1000;
  constexpr size_t kMaxName = 200;
  model = model.substr(0, kMaxName);
  {
    std::lock_guard lock(mutex);
    if (warned->count(model)) return false;
    if (warned->size() == kMaxModels) {
      warned->emplace("");  // size() > kMaxModels from now on: said once, then silent
      log::warn("more than 1000 models without a price: no more warnings about them");
      return false;
    }
    if (warned->size() > kMaxModels) return false;
    warned->emplace(model);
  }
  std::string message = "no price for model \"";
  message += model;
  message += "\" (provider ";
  message += provider;
  message += "): charged 0; add it to prices (the cost filter's prices: or conf/prices.yaml)";
  log::warn(message);
  return true;
}

}  // namespace sluice::filters::cost
