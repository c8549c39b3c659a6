#pragma once
// One interface, its implementations chosen by name in YAML. Each
// implementation registers itself from a static object in its own .cpp:
//
//   static const Registration<DramTimingModel, const DramConfig&> reg(
//       "ddr-generic", "doc line", [](const DramConfig& c) { return std::make_unique<X>(c); });
//
// Callers never branch on the name; they ask the registry.
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace npusim {

struct ComponentEntry {
  std::string kind;
  std::string name;
  std::string doc;
};

// Every registered implementation of every interface, for `npusim list` and
// for the test that instantiates each name.
class ComponentCatalog {
 public:
  static ComponentCatalog& instance() {
    static ComponentCatalog catalog;
    return catalog;
  }
  void add(ComponentEntry entry) { entries_.push_back(std::move(entry)); }
  const std::vector<ComponentEntry>& entries() const { return entries_; }

 private:
  std::vector<ComponentEntry> entries_;
};

template <typename Interface, typename... Args>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Interface>(Args...)>;

  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  void add(const std::string& name, Factory factory) { factories_[name] = std::move(factory); }
  bool contains(const std::string& name) const { return factories_.count(name) != 0; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& kv : factories_) out.push_back(kv.first);
    return out;
  }

  std::unique_ptr<Interface> create(const std::string& name, Args... args) const {
    auto it = factories_.find(name);
    if (it == factories_.end()) {
      throw std::invalid_argument(fmt::format("no implementation named '{}'", name));
    }
    return it->second(std::forward<Args>(args)...);
  }

 private:
  std::map<std::string, Factory> factories_;
};

template <typename Interface, typename... Args>
struct Registration {
  Registration(const std::string& kind, const std::string& name, const std::string& doc,
               typename Registry<Interface, Args...>::Factory factory) {
    Registry<Interface, Args...>::instance().add(name, std::move(factory));
    ComponentCatalog::instance().add({kind, name, doc});
  }
};

}  // namespace npusim
