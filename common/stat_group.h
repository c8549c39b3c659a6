#pragma once
// Counters are owned by the blocks that increment them. A block holds a
// StatGroup; its counters are plain integers, so the hot path is one add.
// stats/ walks the groups (name, description, unit) into JSON and SQLite.
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace npusim {

struct Counter {
  std::string name;
  std::string description;
  std::string unit;
  std::uint64_t value = 0;

  Counter& operator+=(std::uint64_t v) {
    value += v;
    return *this;
  }
};

class StatGroup {
 public:
  StatGroup(std::string name, std::string description)
      : name_(std::move(name)), description_(std::move(description)) {}
  StatGroup(const StatGroup&) = delete;
  StatGroup& operator=(const StatGroup&) = delete;

  // The returned reference stays valid for the group's lifetime (deque).
  Counter& add_counter(std::string name, std::string description, std::string unit) {
    counters_.push_back(Counter{std::move(name), std::move(description), std::move(unit), 0});
    return counters_.back();
  }
  void add_child(const StatGroup* child) { children_.push_back(child); }

  const std::string& name() const { return name_; }
  const std::string& description() const { return description_; }
  const std::deque<Counter>& counters() const { return counters_; }
  const std::vector<const StatGroup*>& children() const { return children_; }

  const Counter* find(const std::string& counter_name) const {
    for (const auto& c : counters_) {
      if (c.name == counter_name) return &c;
    }
    return nullptr;
  }
  std::uint64_t value(const std::string& counter_name) const {
    const Counter* c = find(counter_name);
    return c ? c->value : 0;
  }
  void reset() {
    for (auto& c : counters_) c.value = 0;
  }

 private:
  std::string name_;
  std::string description_;
  std::deque<Counter> counters_;
  std::vector<const StatGroup*> children_;
};

}  // namespace npusim
