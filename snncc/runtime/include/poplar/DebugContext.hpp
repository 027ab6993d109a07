// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file DebugContext.hpp
/// Debug names for graph objects: every `debugContext` parameter accepts a
/// string literal or a std::string, as in Poplar.
#ifndef poplar_DebugContext_hpp
#define poplar_DebugContext_hpp

#include <string>

namespace poplar {

/// Where a call was made from (filled in by the compiler builtins).
class SourceLocation {
public:
  SourceLocation();
  /// \param functionName Calling function.  \param fileName Its file.
  /// \param lineNumber Its line.
  SourceLocation(const char *functionName, const char *fileName,
                 unsigned lineNumber);
  const char *getFunctionName() const;
  const char *getFileName() const;
  unsigned getLineNumber() const;
  bool isValid() const;
  /// An unknown location (the host runtime does not record call sites).
  static SourceLocation Current();

private:
  const char *function_;
  const char *file_;
  unsigned line_;
  bool valid_;
};

/// A name for a graph object; the host runtime keeps only the path name.
class DebugContext {
public:
  /// \param loc Where it was created.
  DebugContext(SourceLocation loc = SourceLocation::Current());
  /// \param name The object's name.  \param loc Where it was created.
  DebugContext(const char *name, SourceLocation loc = SourceLocation::Current());
  DebugContext(std::string name, SourceLocation loc = SourceLocation::Current());
  /// The name ("" if none was given).
  std::string getPathName() const;

private:
  std::string name_;
  SourceLocation loc_;
};

} // namespace poplar

#endif // poplar_DebugContext_hpp
