// Copyright (c) 2024 snncc authors. SPDX-License-Identifier: Apache-2.0
// Poplar's exception classes.
#include <poplar/exceptions.hpp>

namespace poplar {

poplar_error::poplar_error(const std::string &s) : std::runtime_error(s) {}
poplar_error::poplar_error(const char *s) : std::runtime_error(s) {}

#define SNNCC_DEFINE_ERROR(NAME)                                               \
  NAME::NAME(const std::string &s) : poplar_error(s) {}                        \
  NAME::NAME(const char *s) : poplar_error(s) {}
SNNCC_DEFINE_ERROR(graph_connection_error)
SNNCC_DEFINE_ERROR(graph_cycle_error)
SNNCC_DEFINE_ERROR(graph_memory_allocation_error)
SNNCC_DEFINE_ERROR(graph_object_creation_error)
SNNCC_DEFINE_ERROR(graph_program_compilation_error)
SNNCC_DEFINE_ERROR(invalid_machine_model)
SNNCC_DEFINE_ERROR(invalid_option)
SNNCC_DEFINE_ERROR(invalid_tile_mapping)
SNNCC_DEFINE_ERROR(no_environment)
SNNCC_DEFINE_ERROR(overflow_error)
SNNCC_DEFINE_ERROR(parse_error)
SNNCC_DEFINE_ERROR(runtime_error)
SNNCC_DEFINE_ERROR(stream_connection_error)
SNNCC_DEFINE_ERROR(tensor_creation_error)
SNNCC_DEFINE_ERROR(tensor_io_state_error)
SNNCC_DEFINE_ERROR(type_error)
#undef SNNCC_DEFINE_ERROR

control_program_error::control_program_error(const std::string &s) : poplar_error(s) {}
file_load_error::file_load_error(const std::string &path)
    : poplar_error("Could not load file " + path) {}
graph_object_load_error::graph_object_load_error(const std::string &path,
                                                 const std::string &error)
    : poplar_error(path + ": " + error) {}
index_error::index_error(const std::string &s) : poplar_error(s) {}
index_error::index_error(const char *s) : poplar_error(s) {}
index_error::index_error(const std::string &vertexDotField, std::size_t index)
    : poplar_error("Index " + std::to_string(index) + " out of range for field " +
                   vertexDotField) {}
no_size_specified::no_size_specified(const std::string &s) : poplar_error(s) {}
no_size_specified::no_size_specified(const char *s) : poplar_error(s) {}
no_size_specified::no_size_specified(const std::string &fieldName,
                                     const std::string &vertexName)
    : poplar_error("No size specified for field " + vertexName + "." + fieldName) {}
unknown_field::unknown_field(const std::string &s) : poplar_error(s) {}
unknown_field::unknown_field(const char *s) : poplar_error(s) {}
unknown_field::unknown_field(const std::string &fieldName,
                             const std::string &vertexName)
    : poplar_error("Unknown field '" + fieldName + "' of vertex type '" +
                   vertexName + "'") {}
unknown_vertex_type::unknown_vertex_type(const std::string &name)
    : poplar_error("Unknown vertex type '" + name + "'") {}

} // namespace poplar
