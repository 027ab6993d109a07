// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
/// \file exceptions.hpp
/// Poplar's exception types. All derive from poplar::poplar_error, which
/// derives from std::runtime_error; what() says where and what.
#ifndef poplar_exceptions_hpp
#define poplar_exceptions_hpp

#include <cstddef>
#include <stdexcept>
#include <string>

namespace poplar {

/// Base of every Poplar error.
struct poplar_error : std::runtime_error {
  /// \param s What went wrong.
  explicit poplar_error(const std::string &s);
  explicit poplar_error(const char *s);
};

#define SNNCC_POPLAR_ERROR(NAME)                                               \
  struct NAME : poplar_error {                                                 \
    explicit NAME(const std::string &s);                                       \
    explicit NAME(const char *s);                                              \
  }

SNNCC_POPLAR_ERROR(graph_connection_error);
SNNCC_POPLAR_ERROR(graph_cycle_error);
SNNCC_POPLAR_ERROR(graph_memory_allocation_error);
SNNCC_POPLAR_ERROR(graph_object_creation_error);
SNNCC_POPLAR_ERROR(graph_program_compilation_error);
SNNCC_POPLAR_ERROR(invalid_machine_model);
SNNCC_POPLAR_ERROR(invalid_option);
SNNCC_POPLAR_ERROR(invalid_tile_mapping);
SNNCC_POPLAR_ERROR(no_environment);
SNNCC_POPLAR_ERROR(overflow_error);
SNNCC_POPLAR_ERROR(parse_error);
SNNCC_POPLAR_ERROR(runtime_error);
SNNCC_POPLAR_ERROR(stream_connection_error);
SNNCC_POPLAR_ERROR(tensor_creation_error);
SNNCC_POPLAR_ERROR(tensor_io_state_error);
SNNCC_POPLAR_ERROR(type_error);
#undef SNNCC_POPLAR_ERROR

/// A control program is malformed (e.g. a predicate that is not a scalar).
struct control_program_error : poplar_error {
  explicit control_program_error(const std::string &s);
};

/// A file could not be loaded.
struct file_load_error : poplar_error {
  explicit file_load_error(const std::string &path);
};

/// A graph object (e.g. a codelet file) could not be loaded.
struct graph_object_load_error : poplar_error {
  /// \param path The object's file.  \param error Why it failed.
  graph_object_load_error(const std::string &path, const std::string &error);
};

/// An index or slice out of range.
struct index_error : poplar_error {
  explicit index_error(const std::string &s);
  explicit index_error(const char *s);
  /// \param vertexDotField The indexed field.  \param index The bad index.
  index_error(const std::string &vertexDotField, std::size_t index);
};

/// A Vector field has no size.
struct no_size_specified : poplar_error {
  explicit no_size_specified(const std::string &s);
  explicit no_size_specified(const char *s);
  /// \param fieldName The field.  \param vertexName Its vertex type.
  no_size_specified(const std::string &fieldName, const std::string &vertexName);
};

/// A vertex type has no field of that name.
struct unknown_field : poplar_error {
  explicit unknown_field(const std::string &s);
  explicit unknown_field(const char *s);
  /// \param fieldName The field.  \param vertexName The vertex type.
  unknown_field(const std::string &fieldName, const std::string &vertexName);
};

/// addVertex named a vertex type that no added codelet file defines.
struct unknown_vertex_type : poplar_error {
  explicit unknown_vertex_type(const std::string &name);
};

} // namespace poplar

#endif // poplar_exceptions_hpp
