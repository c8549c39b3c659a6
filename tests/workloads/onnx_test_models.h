#pragma once
// Small ONNX models built in-test through the protobuf API, so the importer
// is checked against shapes and counts computed by hand.
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace npusim::test {

class OnnxModelBuilder {
 public:
  OnnxModelBuilder() {
    model_.set_ir_version(8);
    model_.set_producer_name("npusim-test");
    auto* opset = model_.add_opset_import();
    opset->set_domain("");
    opset->set_version(14);
    model_.mutable_graph()->set_name("test");
  }

  void input(const std::string& name, const std::vector<std::int64_t>& dims,
             int elem = onnx::TensorProto_DataType_FLOAT) {
    value_info(model_.mutable_graph()->add_input(), name, dims, elem);
  }

  void output(const std::string& name, const std::vector<std::int64_t>& dims) {
    value_info(model_.mutable_graph()->add_output(), name, dims, onnx::TensorProto_DataType_FLOAT);
  }

  // A float initializer of zeros (values never matter to the importer).
  void weight(const std::string& name, const std::vector<std::int64_t>& dims) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    std::int64_t n = 1;
    for (auto d : dims) {
      t->add_dims(d);
      n *= d;
    }
    for (std::int64_t i = 0; i < n; ++i) t->add_float_data(0.0f);
  }

  void int_constant(const std::string& node_name, const std::string& out, const std::vector<std::int64_t>& values) {
    auto* n = node("Constant", node_name, {}, {out});
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto_AttributeType_TENSOR);
    auto* t = a->mutable_t();
    t->set_data_type(onnx::TensorProto_DataType_INT64);
    t->add_dims(static_cast<std::int64_t>(values.size()));
    for (auto v : values) t->add_int64_data(v);
  }

  onnx::NodeProto* node(const std::string& op_type, const std::string& name, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs) {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op_type);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return n;
  }

  static void int_attr(onnx::NodeProto* n, const std::string& name, std::int64_t value) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INT);
    a->set_i(value);
  }

  std::string save(const std::string& path) const {
    std::ofstream out(path, std::ios::binary);
    model_.SerializeToOstream(&out);
    return path;
  }

  onnx::ModelProto& proto() { return model_; }

 private:
  static void value_info(onnx::ValueInfoProto* v, const std::string& name, const std::vector<std::int64_t>& dims,
                         int elem) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem);
    auto* shape = t->mutable_shape();
    for (auto d : dims) {
      if (d < 0) shape->add_dim()->set_dim_param("seq");
      else shape->add_dim()->set_dim_value(d);
    }
  }

  onnx::ModelProto model_;
};

}  // namespace npusim::test
