// Bad ONNX input stops with an InputError that names the file, and for a
// node the node's name and op type; nothing is skipped silently.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "support/test_paths.h"
#include "workloads/onnx/onnx_import.h"
#include "workloads/onnx_test_models.h"

namespace npusim::workloads {
namespace {

using test::OnnxModelBuilder;

std::string import_error(const std::string& path) {
  try {
    import_onnx(path);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "importing " << path << " did not throw InputError";
  return "";
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST(OnnxImportErrors, UnsupportedOpNamesFileNodeAndOpType) {
  OnnxModelBuilder b;
  b.input("x", {4, 8});
  b.node("Relu", "/layers.0/Relu", {"x"}, {"r"});
  b.node("Bar", "/layers.0/Foo", {"r"}, {"y"});
  const auto path = b.save(test::scratch_dir() + "/model.onnx");
  const std::string message = import_error(path);
  EXPECT_CONTAINS(message, path + ": node '/layers.0/Foo' (op_type 'Bar') is not supported");
}

TEST(OnnxImportErrors, ControlFlowIsNotSupported) {
  OnnxModelBuilder b;
  b.input("x", {4, 8});
  b.node("Loop", "/model/layers.0/self_attn/Loop", {"", "", "x"}, {"y"});
  const std::string message = import_error(b.save(test::scratch_dir() + "/model.onnx"));
  EXPECT_CONTAINS(message, "node '/model/layers.0/self_attn/Loop' (op_type 'Loop') is not supported");
}

TEST(OnnxImportErrors, TruncatedFileNamesTheFile) {
  OnnxModelBuilder b;
  b.input("x", {4, 8});
  b.weight("w", {8, 64});
  b.node("MatMul", "/proj/MatMul", {"x", "w"}, {"y"});
  std::string bytes;
  b.proto().SerializeToString(&bytes);
  const std::string path = test::scratch_dir() + "/truncated.onnx";
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_CONTAINS(import_error(path), path + ": not a valid ONNX model");
}

TEST(OnnxImportErrors, CommittedMalformedFilesNameTheFile) {
  for (const char* name : {"tests/data/onnx/truncated.onnx", "tests/data/onnx/garbage.onnx"}) {
    const std::string path = test::source_path(name);
    EXPECT_CONTAINS(import_error(path), path + ": not a valid ONNX model");
  }
}

TEST(OnnxImportErrors, MissingFileNamesTheFile) {
  const std::string path = test::scratch_dir() + "/absent.onnx";
  EXPECT_CONTAINS(import_error(path), path + ": cannot open ONNX model");
}

TEST(OnnxImportErrors, ShapeFromActivationValuesIsRejected) {
  OnnxModelBuilder b;
  b.input("n", {1}, onnx::TensorProto_DataType_INT64);
  b.node("ConstantOfShape", "/mask/ConstantOfShape", {"n"}, {"y"});
  EXPECT_CONTAINS(import_error(b.save(test::scratch_dir() + "/model.onnx")),
                  "node '/mask/ConstantOfShape' (op_type 'ConstantOfShape') computes a shape from activation values");
}

TEST(OnnxImportErrors, UndefinedInputNamesTheNode) {
  OnnxModelBuilder b;
  b.input("x", {4, 8});
  b.node("Add", "/add/Add", {"x", "nowhere"}, {"y"});
  EXPECT_CONTAINS(import_error(b.save(test::scratch_dir() + "/model.onnx")),
                  "node '/add/Add' (op_type 'Add') has input 'nowhere', which is neither a graph input");
}

TEST(OnnxImportErrors, KvCacheInputOfTheWrongRankNamesTheInput) {
  OnnxModelBuilder b;
  b.input("x", {2, 1, 16});
  b.input("past_key_values.0.key", {2, 32, 16});
  OnnxModelBuilder::int_attr(b.node("Concat", "/model/layers.0/self_attn/Concat", {"past_key_values.0.key", "x"},
                                    {"present.0.key"}),
                             "axis", 1);
  EXPECT_CONTAINS(import_error(b.save(test::scratch_dir() + "/model.onnx")),
                  "KV-cache input 'past_key_values.0.key' has 3 dims; expected [batch, kv_heads, cached tokens, "
                  "head_dim]");
}

TEST(OnnxImportErrors, KvCacheAppendAlongAnotherAxisNamesTheNode) {
  OnnxModelBuilder b;
  b.input("k", {2, 2, 32, 16});
  b.input("past_key_values.0.key", {2, 2, 32, 16});
  OnnxModelBuilder::int_attr(b.node("Concat", "/model/layers.0/self_attn/Concat", {"past_key_values.0.key", "k"},
                                    {"present.0.key"}),
                             "axis", 3);
  EXPECT_CONTAINS(import_error(b.save(test::scratch_dir() + "/model.onnx")),
                  "node '/model/layers.0/self_attn/Concat' (op_type 'Concat') appends to KV-cache input "
                  "'past_key_values.0.key' along axis 3");
}

TEST(OnnxImportErrors, KvCachesOfDifferentLengthsAreRejected) {
  OnnxModelBuilder b;
  b.input("k", {2, 2, 1, 16});
  b.input("past_key_values.0.key", {2, 2, 32, 16});
  b.input("past_key_values.1.key", {2, 2, 16, 16});
  for (const char* layer : {"0", "1"}) {
    OnnxModelBuilder::int_attr(b.node("Concat", std::string("/model/layers.") + layer + "/self_attn/Concat",
                                      {std::string("past_key_values.") + layer + ".key", "k"},
                                      {std::string("present.") + layer + ".key"}),
                               "axis", 2);
  }
  EXPECT_CONTAINS(import_error(b.save(test::scratch_dir() + "/model.onnx")),
                  "KV-cache inputs 'past_key_values.0.key' and 'past_key_values.1.key' cache 32 and 16 tokens");
}

}  // namespace
}  // namespace npusim::workloads
