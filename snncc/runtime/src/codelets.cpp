// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Codelet files: Graph::addCodelets checks the vertex classes a file defines
// against those the host program registered for it (popc would compile them).
#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include <poplar/Graph.hpp>

#include "internal.hpp"

namespace snncc {
namespace host {
namespace {

std::string basename(const std::string &path) {
  const auto slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string stripSpaces(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return std::isspace((unsigned char)c); }),
          s.end());
  return s;
}

/// "ns::X<ns::T>" -> "X<ns::T>": the class part without namespaces.
std::string unqualified(const std::string &name) {
  const std::string n = stripSpaces(name);
  const auto lt = n.find('<');
  const std::string head = n.substr(0, lt);
  const auto colon = head.rfind("::");
  return (colon == std::string::npos ? head : head.substr(colon + 2)) +
         (lt == std::string::npos ? "" : n.substr(lt));
}

/// Vertex classes a codelet file defines: non-template classes derived from a
/// vertex base, and explicit instantiations of templated ones.
std::vector<std::string> vertexNamesInFile(const std::string &text) {
  static const std::regex cls(
      R"(class\s+(?:\[\[[^\]]*\]\]\s*)?(\w+)\s*(?:final\s*)?:\s*public\s+(?:::)?(?:poplar::)?(?:Multi|Supervisor)?Vertex\b)");
  static const std::regex inst(R"(template\s+class\s+([\w:]+)\s*<([^;]*)>\s*;)");
  // Drop comments so that commented-out classes do not count.
  static const std::regex comments(R"(//[^\n]*|/\*[\s\S]*?\*/)");
  const std::string src = std::regex_replace(text, comments, " ");
  std::vector<std::string> templated, names;
  for (std::sregex_iterator it(src.begin(), src.end(), inst), e; it != e; ++it) {
    const std::string n = unqualified((*it)[1].str() + "<" + (*it)[2].str() + ">");
    names.push_back(n);
    templated.push_back(n.substr(0, n.find('<')));
  }
  for (std::sregex_iterator it(src.begin(), src.end(), cls), e; it != e; ++it) {
    const std::string c = (*it)[1].str();
    // A class template is named by its instantiations; a plain class by itself.
    const auto pos = size_t(it->position(0));
    const std::string before = src.substr(pos >= 200 ? pos - 200 : 0, pos >= 200 ? 200 : pos);
    const bool isTemplate =
        std::regex_search(before, std::regex(R"(template\s*<[^;{}]*>\s*$)"));
    if (!isTemplate && std::find(templated.begin(), templated.end(), c) == templated.end())
      names.push_back(c);
  }
  return names;
}

} // namespace
} // namespace host
} // namespace snncc

namespace poplar {
using namespace snncc::host;

bool Graph::addCodelets(std::string src, CodeletFileType, std::string) {
  const std::string errors = registrationErrors();
  if (!errors.empty())
    throw graph_program_compilation_error("Vertex registration failed: " + errors);
  const std::string base = snncc::host::basename(src);
  const auto registered = verticesOfFile(base);
  std::ifstream in(src);
  if (!in) {
    // Codelets are compiled into host programs, so the file need not be
    // present at run time; but then its vertices must be.
    if (registered.empty())
      throw file_load_error(src + " (and no vertex is registered for codelet file '" +
                            base + "' in this host program)");
  } else {
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<std::string> missing;
    for (const std::string &n : vertexNamesInFile(ss.str())) {
      const bool found = std::any_of(registered.begin(), registered.end(),
                                     [&](const VertexInfo *v) { return unqualified(v->name) == n; });
      if (!found)
        missing.push_back(n);
    }
    if (!missing.empty()) {
      std::string list;
      for (const auto &m : missing)
        list += (list.empty() ? "" : ", ") + m;
      throw graph_program_compilation_error(
          src + ": vertex classes not registered for '" + base +
          "' in this host program: " + list +
          " (register them with a Registrar in the host registration file)");
    }
    if (registered.empty())
      throw graph_program_compilation_error(src + ": no vertex registered for '" + base + "'");
  }
  state_->codeletFiles.insert(base);
  return true;
}

void Graph::addCodelets(ArrayRef<std::string> xs, std::string compileFlags) {
  for (const std::string &x : xs)
    addCodelets(x, CodeletFileType::Auto, compileFlags);
}

bool Graph::hasCodelet(std::string codeletName) const {
  const VertexInfo *v = findVertex(codeletName);
  return v && state_->codeletFiles.count(v->file);
}

} // namespace poplar
