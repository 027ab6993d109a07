// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// The process-wide table of vertex types, filled before main().
#include <map>
#include <mutex>

#include <snncc/vertex_registry.hpp>

namespace snncc {
namespace host {
namespace {
struct Table {
  std::mutex mutex;
  std::map<std::string, VertexInfo> byName;
  std::string errors;
};
// Function-local so that registrars in other translation units find it
// constructed whatever the static-initialisation order.
Table &table() {
  static Table t;
  return t;
}
} // namespace

void registerVertex(VertexInfo info) {
  Table &t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  auto it = t.byName.find(info.name);
  if (it != t.byName.end()) {
    t.errors += "vertex type '" + info.name + "' is registered twice (files '" +
                it->second.file + "' and '" + info.file + "'); ";
    return;
  }
  std::string name = info.name;
  t.byName.emplace(std::move(name), std::move(info));
}

const VertexInfo *findVertex(const std::string &name) {
  Table &t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  auto it = t.byName.find(name);
  return it == t.byName.end() ? nullptr : &it->second;
}

std::vector<const VertexInfo *> verticesOfFile(const std::string &basename) {
  Table &t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  std::vector<const VertexInfo *> out;
  for (const auto &kv : t.byName)
    if (kv.second.file == basename)
      out.push_back(&kv.second);
  return out;
}

std::string registrationErrors() {
  Table &t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  return t.errors;
}

} // namespace host
} // namespace snncc
