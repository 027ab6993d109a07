// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file OptionFlags.hpp
/// String key/value options for Engine, streams and devices.
#ifndef poplar_OptionFlags_hpp
#define poplar_OptionFlags_hpp

#include <initializer_list>
#include <map>
#include <string>
#include <utility>

namespace poplar {

class OptionFlags {
public:
  using OptionFlag = std::pair<const std::string, std::string>;
  using initializer_list = std::initializer_list<OptionFlag>;

  /// Iterates over the options in key order.
  class iterator {
  public:
    iterator(const iterator &other);
    iterator &operator=(const iterator &other);
    const OptionFlag &operator*() const;
    const OptionFlag *operator->() const;
    iterator &operator++();
    bool operator==(const iterator &o) const;
    bool operator!=(const iterator &o) const;

  private:
    friend class OptionFlags;
    iterator() = default;
    std::map<std::string, std::string>::const_iterator it_;
  };

  OptionFlags();
  /// \param list Options to set, e.g. {{"debug.instrument", "false"}}.
  OptionFlags(initializer_list list);
  OptionFlags(const OptionFlags &other);
  OptionFlags &operator=(const OptionFlags &other);
  ~OptionFlags();

  /// Set an option, replacing any earlier value.
  /// \param option The key.  \param value Its value.
  void set(std::string option, std::string value);
  /// The value of an option; throws std::out_of_range if unset.
  /// \param option The key.
  const std::string &at(std::string option) const;
  void clear();
  iterator begin() const;
  iterator end() const;

private:
  std::map<std::string, std::string> values_;
};

} // namespace poplar

#endif // poplar_OptionFlags_hpp
