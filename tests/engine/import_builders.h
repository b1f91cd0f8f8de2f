// Tiny writers for synthetic model files: flatbuffers (TFLite), protobuf (ONNX) and zip archives.
// Used by the importer tests and by fuzz/make_seeds.cpp to build the fuzzers' seed corpus, so that
// no model file (or slice of one) is ever committed. Test code: simple over fast.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace facepipe::test {

using Bytes = std::vector<uint8_t>;

// ---- FlatBuffers ---------------------------------------------------------------------------------
// A tree of tables/vectors/strings serialized front to back: each object is written before the
// children it points to, so every uoffset points forward as the format requires; each vtable is
// written right before its table (soffset positive).
struct Fb;
using FbPtr = std::shared_ptr<Fb>;
struct Fb {
  enum Kind { kTable, kScalars, kTables, kString } kind = kTable;
  struct Field {
    int id;
    Bytes scalar;  // inline scalar bytes, or empty for a child offset
    FbPtr child;
  };
  std::vector<Field> fields;  // kTable
  Bytes bytes;                // kScalars / kString payload
  size_t element_size = 1;    // kScalars
  std::vector<FbPtr> elements;  // kTables

  template <typename T> Fb& scalar(int id, T v) {
    Bytes b(sizeof(T));
    std::memcpy(b.data(), &v, sizeof(T));
    fields.push_back({id, b, nullptr});
    return *this;
  }
  Fb& child(int id, FbPtr c) {
    fields.push_back({id, {}, std::move(c)});
    return *this;
  }
};

inline FbPtr fb_table() { return std::make_shared<Fb>(); }
template <typename T> FbPtr fb_vector(const std::vector<T>& values) {
  auto v = std::make_shared<Fb>();
  v->kind = Fb::kScalars;
  v->element_size = sizeof(T);
  v->bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(v->bytes.data(), values.data(), v->bytes.size());
  return v;
}
inline FbPtr fb_tables(std::vector<FbPtr> tables) {
  auto v = std::make_shared<Fb>();
  v->kind = Fb::kTables;
  v->elements = std::move(tables);
  return v;
}
inline FbPtr fb_string(const std::string& s) {
  auto v = std::make_shared<Fb>();
  v->kind = Fb::kString;
  v->bytes.assign(s.begin(), s.end());
  return v;
}

class FbWriter {
 public:
  Bytes finish(const FbPtr& root, const char identifier[5]) {
    buf_.assign(8, 0);
    std::memcpy(buf_.data() + 4, identifier, 4);
    const size_t pos = write(*root);
    put32(0, static_cast<uint32_t>(pos));
    return buf_;
  }

 private:
  void align(size_t a) {
    while (buf_.size() % a) buf_.push_back(0);
  }
  void put32(size_t at, uint32_t v) { std::memcpy(buf_.data() + at, &v, 4); }
  void put16(size_t at, uint16_t v) { std::memcpy(buf_.data() + at, &v, 2); }
  void patch(size_t at, size_t target) { put32(at, static_cast<uint32_t>(target - at)); }

  size_t write(const Fb& n) {
    switch (n.kind) {
      case Fb::kString: {
        align(4);
        const size_t pos = buf_.size();
        buf_.resize(pos + 4);
        put32(pos, static_cast<uint32_t>(n.bytes.size()));
        buf_.insert(buf_.end(), n.bytes.begin(), n.bytes.end());
        buf_.push_back(0);
        return pos;
      }
      case Fb::kScalars: {
        const size_t a = std::max<size_t>(4, n.element_size);
        while ((buf_.size() + 4) % a) buf_.push_back(0);
        const size_t pos = buf_.size();
        buf_.resize(pos + 4);
        put32(pos, static_cast<uint32_t>(n.bytes.size() / n.element_size));
        buf_.insert(buf_.end(), n.bytes.begin(), n.bytes.end());
        return pos;
      }
      case Fb::kTables: {
        align(4);
        const size_t pos = buf_.size();
        buf_.resize(pos + 4 + 4 * n.elements.size());
        put32(pos, static_cast<uint32_t>(n.elements.size()));
        for (size_t i = 0; i < n.elements.size(); ++i) patch(pos + 4 + 4 * i, write(*n.elements[i]));
        return pos;
      }
      case Fb::kTable: break;
    }
    // Inline layout: soffset, then fields each aligned to its size (relative to an 8-aligned start).
    int max_id = -1;
    for (const auto& f : n.fields) max_id = std::max(max_id, f.id);
    std::vector<size_t> offsets(n.fields.size());
    size_t size = 4;
    for (size_t i = 0; i < n.fields.size(); ++i) {
      const size_t fs = n.fields[i].child ? 4 : n.fields[i].scalar.size();
      size = (size + fs - 1) / fs * fs;
      offsets[i] = size;
      size += fs;
    }
    align(2);
    const size_t vt = buf_.size();
    const size_t vt_size = 4 + 2 * static_cast<size_t>(max_id + 1);
    buf_.resize(vt + vt_size);
    put16(vt, static_cast<uint16_t>(vt_size));
    put16(vt + 2, static_cast<uint16_t>(size));
    for (size_t i = 0; i < n.fields.size(); ++i) put16(vt + 4 + 2 * static_cast<size_t>(n.fields[i].id), static_cast<uint16_t>(offsets[i]));
    align(8);
    const size_t table = buf_.size();
    buf_.resize(table + size);
    const int32_t soffset = static_cast<int32_t>(table - vt);
    std::memcpy(buf_.data() + table, &soffset, 4);
    for (size_t i = 0; i < n.fields.size(); ++i)
      if (!n.fields[i].child) std::memcpy(buf_.data() + table + offsets[i], n.fields[i].scalar.data(), n.fields[i].scalar.size());
    for (size_t i = 0; i < n.fields.size(); ++i)
      if (n.fields[i].child) patch(table + offsets[i], write(*n.fields[i].child));
    return table;
  }

  Bytes buf_;
};

// A TFLite model under construction: tensors (with optional constant data), operators, io.
struct TfliteBuilder {
  struct TensorSpec {
    std::string name;
    std::vector<int32_t> shape;
    int8_t type = 0;  // FLOAT32
    Bytes data;       // constant contents, empty for activations
    std::vector<int32_t> shape_signature;
  };
  struct OpSpec {
    int32_t builtin;
    std::vector<int32_t> inputs, outputs;
    FbPtr options;  // builtin_options table (may be null)
    uint8_t options_type = 0;
  };
  std::vector<TensorSpec> tensors;
  std::vector<OpSpec> ops;
  std::vector<int32_t> inputs, outputs;

  int32_t tensor(std::string name, std::vector<int32_t> shape, int8_t type = 0, Bytes data = {}) {
    tensors.push_back({std::move(name), std::move(shape), type, std::move(data), {}});
    return static_cast<int32_t>(tensors.size() - 1);
  }
  template <typename T> static Bytes bytes_of(const std::vector<T>& v) {
    Bytes b(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
    return b;
  }
  void op(int32_t builtin, std::vector<int32_t> in, std::vector<int32_t> out, FbPtr options = nullptr, uint8_t type = 0) {
    ops.push_back({builtin, std::move(in), std::move(out), std::move(options), type});
  }

  Bytes build() const {
    // One operator code per distinct builtin; buffers: 0 is the empty sentinel.
    std::vector<int32_t> codes;
    std::vector<FbPtr> opcodes, buffers{fb_table()}, tensor_tables, op_tables;
    auto code_index = [&](int32_t builtin) {
      for (size_t i = 0; i < codes.size(); ++i)
        if (codes[i] == builtin) return static_cast<uint32_t>(i);
      codes.push_back(builtin);
      auto c = fb_table();
      c->scalar<int8_t>(0, static_cast<int8_t>(std::min(builtin, 127))).scalar<int32_t>(3, builtin);
      opcodes.push_back(c);
      return static_cast<uint32_t>(codes.size() - 1);
    };
    for (const auto& t : tensors) {
      auto tt = fb_table();
      tt->child(0, fb_vector(t.shape)).scalar<int8_t>(1, t.type).child(3, fb_string(t.name));
      if (!t.shape_signature.empty()) tt->child(7, fb_vector(t.shape_signature));
      if (!t.data.empty()) {
        auto b = fb_table();
        b->child(0, fb_vector(t.data));
        buffers.push_back(b);
        tt->scalar<uint32_t>(2, static_cast<uint32_t>(buffers.size() - 1));
      }
      tensor_tables.push_back(tt);
    }
    for (const auto& o : ops) {
      auto ot = fb_table();
      ot->scalar<uint32_t>(0, code_index(o.builtin)).child(1, fb_vector(o.inputs)).child(2, fb_vector(o.outputs));
      if (o.options) ot->scalar<uint8_t>(3, o.options_type).child(4, o.options);
      op_tables.push_back(ot);
    }
    auto subgraph = fb_table();
    subgraph->child(0, fb_tables(tensor_tables)).child(1, fb_vector(inputs)).child(2, fb_vector(outputs))
        .child(3, fb_tables(op_tables));
    auto model = fb_table();
    model->scalar<uint32_t>(0, 3).child(1, fb_tables(opcodes)).child(2, fb_tables({subgraph}))
        .child(4, fb_tables(buffers));
    return FbWriter().finish(model, "TFL3");
  }
};

// ---- Protobuf ------------------------------------------------------------------------------------
struct Pb {
  std::string out;
  static void varint(std::string& s, uint64_t v) {
    while (v >= 0x80) {
      s.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    s.push_back(static_cast<char>(v));
  }
  Pb& u(uint32_t field, uint64_t v) {
    varint(out, uint64_t{field} << 3);
    varint(out, v);
    return *this;
  }
  Pb& f32(uint32_t field, float v) {
    varint(out, (uint64_t{field} << 3) | 5);
    char b[4];
    std::memcpy(b, &v, 4);
    out.append(b, 4);
    return *this;
  }
  Pb& bytes(uint32_t field, const std::string& v) {
    varint(out, (uint64_t{field} << 3) | 2);
    varint(out, v.size());
    out += v;
    return *this;
  }
  Pb& msg(uint32_t field, const Pb& m) { return bytes(field, m.out); }
  Pb& packed(uint32_t field, const std::vector<int64_t>& values) {
    std::string p;
    for (int64_t v : values) varint(p, static_cast<uint64_t>(v));
    return bytes(field, p);
  }
};

// ONNX helpers over Pb (field numbers of onnx.proto).
inline Pb onnx_tensor(const std::string& name, int32_t data_type, const std::vector<int64_t>& dims, const std::string& raw) {
  Pb t;
  t.packed(1, dims).u(2, static_cast<uint64_t>(data_type)).bytes(8, name).bytes(9, raw);
  return t;
}
inline Pb onnx_f32(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v) {
  return onnx_tensor(name, 1, dims, std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
}
inline Pb onnx_i64(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& v) {
  return onnx_tensor(name, 7, dims, std::string(reinterpret_cast<const char*>(v.data()), v.size() * 8));
}
inline Pb onnx_attr_int(const std::string& name, int64_t v) { Pb a; a.bytes(1, name).u(3, static_cast<uint64_t>(v)).u(20, 2); return a; }
inline Pb onnx_attr_float(const std::string& name, float v) { Pb a; a.bytes(1, name).f32(2, v).u(20, 1); return a; }
inline Pb onnx_attr_ints(const std::string& name, const std::vector<int64_t>& v) { Pb a; a.bytes(1, name).packed(8, v).u(20, 7); return a; }
inline Pb onnx_attr_string(const std::string& name, const std::string& v) { Pb a; a.bytes(1, name).bytes(4, v).u(20, 3); return a; }
inline Pb onnx_attr_tensor(const std::string& name, const Pb& t) { Pb a; a.bytes(1, name).msg(5, t).u(20, 4); return a; }
inline Pb onnx_node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out,
                    const std::vector<Pb>& attrs = {}, const std::string& name = "") {
  Pb n;
  for (const auto& s : in) n.bytes(1, s);
  for (const auto& s : out) n.bytes(2, s);
  n.bytes(3, name.empty() ? op + "_" + (out.empty() ? std::string() : out[0]) : name).bytes(4, op);
  for (const auto& a : attrs) n.msg(5, a);
  return n;
}
// dims: >= 0 fixed, -1 symbolic (dim_param "dyn").
inline Pb onnx_value_info(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims) {
  Pb shape;
  for (int64_t d : dims) {
    Pb dim;
    if (d >= 0) dim.u(1, static_cast<uint64_t>(d));
    else dim.bytes(2, "dyn");
    shape.msg(1, dim);
  }
  Pb tensor_type;
  tensor_type.u(1, static_cast<uint64_t>(elem_type)).msg(2, shape);
  Pb type;
  type.msg(1, tensor_type);
  Pb v;
  v.bytes(1, name).msg(2, type);
  return v;
}
struct OnnxBuilder {
  std::vector<Pb> nodes, initializers, inputs, outputs;
  int64_t opset = 17;
  Bytes build() const {
    Pb graph;
    for (const auto& n : nodes) graph.msg(1, n);
    graph.bytes(2, "test");
    for (const auto& t : initializers) graph.msg(5, t);
    for (const auto& v : inputs) graph.msg(11, v);
    for (const auto& v : outputs) graph.msg(12, v);
    Pb opset_id;
    opset_id.bytes(1, "").u(2, static_cast<uint64_t>(opset));
    Pb model;
    model.u(1, 8).bytes(2, "facepipe-test").msg(7, graph).msg(8, opset_id);
    return Bytes(model.out.begin(), model.out.end());
  }
};

// ---- Zip -----------------------------------------------------------------------------------------
struct ZipMemberSpec {
  std::string name;
  Bytes data;
  bool deflate = false;
};

inline Bytes raw_deflate(const Bytes& in) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  Bytes out(deflateBound(&zs, in.size()) + 16);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Writes a zip archive; `prefix` bytes come first (absolute offsets, like MediaPipe's .task).
inline Bytes make_zip(const std::vector<ZipMemberSpec>& members, size_t prefix = 0) {
  Bytes out(prefix, 0), cd;
  auto u16 = [](Bytes& b, uint16_t v) { b.push_back(v & 0xff); b.push_back(v >> 8); };
  auto u32 = [&](Bytes& b, uint32_t v) { u16(b, v & 0xffff); u16(b, v >> 16); };
  for (const auto& m : members) {
    const Bytes payload = m.deflate ? raw_deflate(m.data) : m.data;
    const auto crc = static_cast<uint32_t>(crc32(crc32(0, nullptr, 0), m.data.data(), static_cast<uInt>(m.data.size())));
    const auto offset = static_cast<uint32_t>(out.size());
    const uint16_t method = m.deflate ? 8 : 0;
    u32(out, 0x04034b50); u16(out, 20); u16(out, 0); u16(out, method); u16(out, 0); u16(out, 0);
    u32(out, crc); u32(out, static_cast<uint32_t>(payload.size())); u32(out, static_cast<uint32_t>(m.data.size()));
    u16(out, static_cast<uint16_t>(m.name.size())); u16(out, 0);
    out.insert(out.end(), m.name.begin(), m.name.end());
    out.insert(out.end(), payload.begin(), payload.end());
    u32(cd, 0x02014b50); u16(cd, 20); u16(cd, 20); u16(cd, 0); u16(cd, method); u16(cd, 0); u16(cd, 0);
    u32(cd, crc); u32(cd, static_cast<uint32_t>(payload.size())); u32(cd, static_cast<uint32_t>(m.data.size()));
    u16(cd, static_cast<uint16_t>(m.name.size())); u16(cd, 0); u16(cd, 0); u16(cd, 0); u16(cd, 0); u32(cd, 0);
    u32(cd, offset);
    cd.insert(cd.end(), m.name.begin(), m.name.end());
  }
  const auto cd_offset = static_cast<uint32_t>(out.size());
  out.insert(out.end(), cd.begin(), cd.end());
  u32(out, 0x06054b50); u16(out, 0); u16(out, 0);
  u16(out, static_cast<uint16_t>(members.size())); u16(out, static_cast<uint16_t>(members.size()));
  u32(out, static_cast<uint32_t>(cd.size())); u32(out, cd_offset); u16(out, 0);
  return out;
}

}  // namespace facepipe::test
