"""Every host-API declaration the runtime exposes in namespaces poplar and gcl matches the SDK list.

Signatures are read from the compiled library with `nm -C` (all of namespace
poplar's functions are defined out of line in src/, so the library shows them
exactly as compiled) and from an object file that instantiates the templated
calls. They are compared, after normalising spelling only (`T const&` ->
`const T &`, `unsigned long` = `std::size_t`, namespaces dropped), with
docs/reference/poplar-api-declarations.txt.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from snncc.runtime import runtime_dir

ROOT = Path(__file__).resolve().parents[2]
DECLARATIONS = ROOT / "docs" / "reference" / "poplar-api-declarations.txt"
PROBE = Path(__file__).resolve().parent / "programs" / "api_probe.cpp"

# Declarations of SDK 3.x that the 3.0 listing lacks, each used by
# docs/reference/ipu.md's host-API subset.
EXTRA = {
    # addConstant<T>(type, shape, value): one value for all elements.
    "poplar::Graph::addConstant(constType&,ArrayRef<unsignedlong>,T,constDebugContext&)",
    # setInitialValue(v["field"], value) and on a tensor with one value.
    "poplar::Graph::setInitialValue(FieldRef,T)",
    "poplar::Graph::setInitialValue(constTensor&,T)",
}
# Classes the listing references without declaring, and Vertex-API headers
# (not part of the listing; they follow docs/reference/ipu.md).
EXTRA_CLASSES = {"ArrayRef", "Interval", "equivalent_device_type", "State"}
VERTEX_API_HEADERS = {"Vertex.hpp", "HalfFloat.hpp"}

_STRING = "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >"
_MAPPING = (
    "std::vector<std::vector<poplar::Interval, std::allocator<poplar::Interval> >, "
    "std::allocator<std::vector<poplar::Interval, std::allocator<poplar::Interval> > > >"
)


def split_params(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def norm_param(p: str) -> str:
    p = p.replace(_STRING, "std::string").replace(_MAPPING, "Graph::TileToTensorMapping")
    p = p.replace("std::function<void (int, int)>", "Engine::ProgressFunc")
    p = re.sub(r"std::vector<(.+?), std::allocator<\1\s*>\s*>", r"std::vector<\1>", p)
    m = re.fullmatch(r"(.*\S)\s*const\s*([&*])", p)
    if m:
        p = f"const {m.group(1)} {m.group(2)}"
    p = re.sub(r"\b(poplar|program)::", "", p)
    for a, b in (("std::size_t", "unsigned long"), ("size_t", "unsigned long"),
                 ("std::uint64_t", "unsigned long"), ("uint64_t", "unsigned long"),
                 ("std::uint16_t", "unsigned short"), ("uint16_t", "unsigned short"),
                 ("std::int32_t", "int")):
        p = re.sub(rf"(?<![\w:]){re.escape(a)}\b", b, p)
    return p.replace(" ", "")


def signature(name: str, params: str) -> str:
    return name + "(" + ",".join(norm_param(p) for p in split_params(params)) + ")"


def listed_signatures() -> set[str]:
    sigs = set()
    for line in DECLARATIONS.read_text().splitlines():
        decl, _, kind = line.rpartition("__")
        if "(" in decl and kind in ("CXXMethod", "CXXConstructor", "FunctionDecl", "FunctionTemplate"):
            name, params = decl.split("(", 1)
            sigs.add(signature(name, params[: params.rindex(")")]))
    return sigs


def compiled_signatures(build_dir: Path, tmp_path: Path) -> dict[str, str]:
    """{normalised signature: nm line} for every global poplar:: function."""
    lib = build_dir / "snncc_runtime" / "libsnncc_poplar_host.a"
    obj = tmp_path / "api_probe.o"
    subprocess.run(["g++", "-std=c++17", "-O0", "-c", str(PROBE), "-I", str(runtime_dir() / "include"),
                    "-o", str(obj)], check=True)
    out = {}
    for path in (lib, obj):
        nm = subprocess.run(["nm", "-C", "--defined-only", str(path)], capture_output=True, text=True, check=True)
        for line in nm.stdout.splitlines():
            parts = line.split(" ", 2)
            if len(parts) != 3 or parts[1] not in ("T", "W"):
                continue
            sym = parts[2]
            m = re.match(r"^(?:[\w:]+ )?((?:poplar|gcl)::[\w:~]+(?:<(\w+)>)?)\((.*)\)( const)?$", sym)
            if not m or "{lambda" in sym:
                continue
            name, targ, params = m.group(1), m.group(2), m.group(3)
            if targ:  # an instantiated template: T for the template argument
                name = name[: name.index("<")]
                ps = [re.sub(rf"\b{targ}\b", "T", p) for p in split_params(params)]
                ps = [p for p in ps if p != "void*" and "enable_if" not in p]
                params = ", ".join(ps)
            out[signature(name, params)] = sym
    return out


def is_special_member(sig: str) -> bool:
    name, params = sig.split("(", 1)
    parts = name.split("::")
    last, owner = parts[-1], parts[-2]
    if "operator" in last or last.startswith("~"):
        return True
    if last == owner:  # constructor: default, copy, move, from an initializer list
        params = params[:-1]
        return params in ("", f"const{owner}&", f"{owner}&&") or params.startswith("std::initializer_list<")
    return False


@pytest.fixture(scope="module")
def signatures(build_dir, tmp_path_factory):
    return listed_signatures(), compiled_signatures(build_dir, tmp_path_factory.mktemp("probe"))


def test_every_poplar_function_is_in_the_declaration_list(signatures):
    listed, compiled = signatures
    unknown = [
        f"{sig}    <- {sym}"
        for sig, sym in sorted(compiled.items())
        if sig not in listed and sig not in EXTRA and not is_special_member(sig) and "snncc::" not in sig
    ]
    assert not unknown, "not in the declaration list:\n" + "\n".join(unknown)


def test_the_check_sees_the_api_a_training_program_needs(signatures):
    # Guards against a vacuous pass: the subset of docs/reference/ipu.md is compiled and listed.
    listed, compiled = signatures
    needed = [
        "poplar::DeviceManager::createDeviceManager()",
        "poplar::IPUModel::createDevice(OptionFlags,bool,unsignedint)",
        "poplar::Device::attach()",
        "poplar::Target::getNumTiles()",
        "poplar::Target::getBytesPerTile()",
        "poplar::Target::getNumWorkerContexts()",
        "poplar::Target::getTileClockFrequency()",
        "poplar::Graph::Graph(constTarget&,replication_factor)",
        "poplar::Graph::addCodelets(std::string,CodeletFileType,std::string)",
        "poplar::Graph::addVariable(constType&,ArrayRef<unsignedlong>,constDebugContext&)",
        "poplar::Graph::addConstant(constType&,ArrayRef<unsignedlong>,ArrayRef<T>,constDebugContext&)",
        "poplar::Graph::setTileMapping(constTensor&,unsignedint)",
        "poplar::Graph::setTileMapping(VertexRef,unsignedint)",
        "poplar::Graph::addComputeSet(constDebugContext&)",
        "poplar::Graph::addVertex(ComputeSet,std::string,ArrayRef<Graph::ConnectionDesc>)",
        "poplar::Graph::connect(FieldRef,constTensor&)",
        "poplar::Graph::setInitialValue(FieldRef,ArrayRef<T>)",
        "poplar::Graph::addHostToDeviceFIFO(std::string,constType&,unsignedlong,ReplicatedStreamMode,constOptionFlags&)",
        "poplar::Graph::addDeviceToHostFIFO(std::string,constType&,unsignedlong,constOptionFlags&)",
        "poplar::Graph::createHostWrite(std::string,constTensor&,bool)",
        "poplar::Graph::createHostRead(std::string,constTensor&,bool)",
        "poplar::Tensor::slice(unsignedlong,unsignedlong)",
        "poplar::Tensor::reshape(ArrayRef<unsignedlong>)",
        "poplar::Tensor::flatten()",
        "poplar::Tensor::numElements()",
        "poplar::Tensor::dim(unsignedint)",
        "poplar::concat(ArrayRef<Tensor>,unsignedint)",
        "poplar::program::Sequence::add(constProgram&)",
        "poplar::program::Execute::Execute(ComputeSet)",
        "poplar::program::Copy::Copy(Tensor,Tensor,bool)",
        "poplar::program::Copy::Copy(constDataStream&,Tensor,bool)",
        "poplar::program::Copy::Copy(Tensor,constDataStream&,bool)",
        "poplar::program::Repeat::Repeat(unsignedint,constProgram&)",
        "poplar::program::RepeatWhileTrue::RepeatWhileTrue(constProgram&,Tensor,constProgram&)",
        "poplar::program::If::If(Tensor,constProgram&,constProgram&)",
        "poplar::program::Sync::Sync(SyncType)",
        "poplar::Engine::Engine(constGraph&,ArrayRef<Program>,constOptionFlags&,Engine::ProgressFunc)",
        "poplar::Engine::load(constDevice&)",
        "poplar::Engine::run(unsignedint,conststd::string&)",
        "poplar::Engine::connectStream(std::string,void*,void*)",
        "poplar::Engine::readTensor(std::string,void*,void*)",
        "poplar::Engine::writeTensor(std::string,constvoid*,constvoid*)",
        "poplar::graph_memory_allocation_error::graph_memory_allocation_error(conststd::string&)",
        "poplar::Graph::getReplicationFactor()",
        "gcl::allReduceInPlaceCrossReplica(Graph&,Tensor&,gcl::CollectiveOperator,Sequence&,constDebugContext&,"
        "constOptionFlags&)",
        "gcl::allReduceInPlaceCrossReplica(Graph&,std::vector<Tensor>&,gcl::CollectiveOperator,Sequence&,"
        "constDebugContext&,constOptionFlags&)",
    ]
    missing = [s for s in needed if s not in compiled or s not in listed]
    assert not missing, missing


def test_a_drifted_signature_would_be_caught(signatures):
    listed, compiled = signatures
    sig = "poplar::Graph::setTileMapping(constTensor&,unsignedint)"
    assert sig in compiled and sig in listed
    for drifted in (sig.replace("unsignedint", "int"), sig.replace("constTensor&", "Tensor"),
                    "poplar::Engine::run(unsignedint)"):
        assert drifted not in listed


def test_every_class_in_namespace_poplar_is_listed():
    listed = set()
    for line in DECLARATIONS.read_text().splitlines():
        decl, _, kind = line.rpartition("__")
        if kind in ("ClassDecl", "StructDecl", "EnumDecl"):
            listed.add(decl.split("::")[-1])
    unknown = []
    for header in sorted((runtime_dir() / "include" / "poplar").glob("*.hpp")):
        if header.name in VERTEX_API_HEADERS:
            continue
        text = header.read_text()
        text = re.sub(r"namespace snncc \{.*?\} // namespace snncc", "", text, flags=re.S)
        text = "\n".join(ln for ln in text.splitlines() if "#define" not in ln and not ln.endswith("\\"))
        names = re.findall(r"\b(?:class|struct|enum class|enum)\s+(\w+)\s*(?:final\s*)?[:{]", text)
        names += re.findall(r"SNNCC_POPLAR_ERROR\((\w+)\)", text)
        unknown += [f"{header.name}: {n}" for n in names if n not in listed and n not in EXTRA_CLASSES]
    assert not unknown, unknown
