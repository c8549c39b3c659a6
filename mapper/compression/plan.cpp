#include "mapper/compression/plan.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/params.h"
#include "mapper/compression/name_glob.h"

namespace npusim::mapper {
namespace {

using workloads::KvMajor;
using workloads::KvScaleGranularity;
using workloads::SparsityPattern;
using workloads::StorageFormat;

const ParamTable kPlanTable(
    "compression", "a compression plan file (--compression)",
    {
        {"name", "", "", "plan name, reported in the summary"},
        {"description", "\"\"", "", "one line: what the plan is and where its numbers come from"},
        {"decompression", "{}", "", "where sparse formats are expanded (section compression.decompression)"},
        {"rules", "[]", "", "weight rules, first match wins (section compression.rules[])"},
        {"kv_cache", "{}", "", "KV-cache layout and precision (section compression.kv_cache); absent = unchanged"},
    });
const ParamTableRegistration kPlanReg(kPlanTable);

const ParamTable kRuleTable(
    "compression.rules[]", "one rule: which matmuls, and their weight and activation formats",
    {
        {"match", "", "", "glob or list of globs over op names: * ? {a,b} {0..3}"},
        {"weights", "model", "", "weight precision: a dtype or `model` (the tensor's own)"},
        {"activations", "model", "", "A-operand precision: a dtype or `model`"},
        {"group_size", "auto", "elements",
         "elements per scale: N, channel (one per output channel), none; auto = channel for int, 32 for MX, none "
         "for float"},
        {"zero_points", "false", "", "asymmetric quantization: a zero point per group (integer precisions)"},
        {"sparsity", "dense", "", "dense | unstructured | N:M (e.g. 2:4, 4:8)"},
        {"density", "1", "", "kept fraction of elements; required for unstructured"},
        {"format", "auto", "",
         "storage: dense | bitmap | csr | n_m_compressed; auto = dense, bitmap (unstructured), n_m_compressed (N:M)"},
        {"kept_in_channels", "1", "", "structured pruning: kept fraction of input channels (shrinks K)"},
        {"kept_out_channels", "1", "", "structured pruning: kept fraction of output channels (shrinks N)"},
        {"activation_density", "1", "", "nonzero fraction of the A operand (activation sparsity)"},
    });
const ParamTableRegistration kRuleReg(kRuleTable);

const ParamTable kKvTable(
    "compression.kv_cache", "KV-cache layout, precision and placement",
    {
        {"layout", "head-major", "", "head-major ([head][token][dim]) or token-major ([token][head][dim])"},
        {"paged", "false", "", "paged blocks (vLLM-style); the last block's unused tail is counted"},
        {"block_tokens", "16", "tokens", "tokens per page when paged (vLLM's default block size)"},
        {"precision", "model", "", "cache precision: a dtype or `model`"},
        {"scales", "none", "", "none | per-token | per-group: fp16 scales of the quantized cache"},
        {"group_size", "0", "elements", "elements per scale for per-group scales"},
        {"zero_points", "false", "", "an fp16 zero point next to every scale (asymmetric, KIVI-style)"},
        {"full_precision_tokens", "0", "tokens", "first tokens kept at full precision (IntactKV pivots)"},
        {"tier", "hbm", "", "hbm | ddr: where the cache lives (its home tier in placement; the mapper policy's kv_cache spill tier still applies)"},
        {"prefetch", "false", "", "ddr only: each layer's cache is copied into an HBM staging slot (two reserved) by the jobs before its attention, on the vector cores' DMA paths (mapper/kv_prefetch.h)"},
    });
const ParamTableRegistration kKvReg(kKvTable);

const ParamTable kDecompressionTable(
    "compression.decompression", "the unit that expands sparse weights the cube cannot take as stored",
    {
        {"unit", "vector", "", "vector (the AIV/vector pipe at its decompress rate) | engine (a load-path engine)"},
        {"engine_elements_per_cycle", "0", "elements/cycle", "engine throughput per core, in output elements"},
    });
const ParamTableRegistration kDecompressionReg(kDecompressionTable);

std::string dtype_list() { return std::string("model | ") + dtype_choices(); }

std::optional<DType> precision(const ConfigNode& node) {
  const std::string text = node.as_string();
  if (text == "model") return std::nullopt;
  if (auto t = dtype_from_name(text)) return t;
  node.fail("one of " + dtype_list());
}

// "N:M" with 1 <= N < M <= 64.
bool parse_n_m(const std::string& text, std::uint32_t& n, std::uint32_t& m) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size()) return false;
  const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
  for (const std::string& s : {a, b}) {
    if (s.size() > 2 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  }
  n = static_cast<std::uint32_t>(std::stoul(a));
  m = static_cast<std::uint32_t>(std::stoul(b));
  return n >= 1 && n < m && m <= 64;
}

double open_fraction(const ConfigNode& node) {
  const double v = node.as_fraction();
  if (v <= 0) node.fail("a fraction above 0 and at most 1");
  return v;
}

std::vector<std::string> patterns_of(const ConfigNode& node) {
  std::vector<ConfigNode> items;
  if (node.is_sequence()) {
    items = node.elements();
  } else {
    items.push_back(node);
  }
  if (items.empty()) node.fail("a glob or a non-empty list of globs");
  std::vector<std::string> out;
  for (const auto& item : items) {
    const std::string p = item.as_string();
    if (auto error = name_glob_error(p)) item.fail(fmt::format("a name glob ({})", *error));
    out.push_back(p);
  }
  return out;
}

void resolve_group(const ParamReader& r, CompressionRule& rule) {
  const ConfigNode node = r["group_size"];
  const std::string text = node.as_string();
  const std::optional<DType> w = rule.weights;
  const bool mx = w && (*w == DType::mxfp4 || *w == DType::mxint8);
  const bool integer = w && (*w == DType::int4 || *w == DType::int8);
  if (text == "auto") {
    if (mx) {
      rule.group = CompressionRule::Group::size;
      rule.group_size = 32;  // OCP MX v1.0: blocks of 32 elements share one E8M0 scale
    } else if (integer) {
      rule.group = CompressionRule::Group::channel;
    }
    return;
  }
  if (text == "none") {
    if (mx || integer) node.fail("a group size: integer weights and MX blocks need scales");
    return;
  }
  if (text == "channel") {
    if (mx) node.fail("32: MX blocks are 32 elements (OCP MX v1.0)");
    rule.group = CompressionRule::Group::channel;
  } else {
    rule.group = CompressionRule::Group::size;
    rule.group_size = static_cast<std::uint32_t>(node.as_positive_int());
    if (mx && rule.group_size != 32) node.fail("32: MX blocks are 32 elements (OCP MX v1.0)");
  }
  if (!w || (!mx && !integer && *w != DType::fp8_e4m3 && *w != DType::fp8_e5m2)) {
    node.fail("none: scales go with int4, int8, fp8 or MX weights");
  }
}

CompressionRule resolve_rule(const ConfigNode& node) {
  node.expect_map();
  const ParamReader r(node, kRuleTable);
  CompressionRule rule;
  rule.where = node.where();
  rule.patterns = patterns_of(r["match"]);
  rule.weights = precision(r["weights"]);
  rule.activations = precision(r["activations"]);
  resolve_group(r, rule);
  rule.zero_points = r["zero_points"].as_bool();
  if (rule.zero_points && !(rule.weights && (*rule.weights == DType::int4 || *rule.weights == DType::int8))) {
    r["zero_points"].fail("false: zero points go with int4 or int8 weights");
  }

  const ConfigNode sparsity = r["sparsity"];
  const std::string pattern = sparsity.as_string();
  if (pattern == "dense") {
    rule.sparsity = SparsityPattern::dense;
  } else if (pattern == "unstructured") {
    rule.sparsity = SparsityPattern::unstructured;
  } else if (parse_n_m(pattern, rule.n, rule.m)) {
    rule.sparsity = SparsityPattern::n_m;
  } else {
    sparsity.fail("dense, unstructured or N:M with 1 <= N < M <= 64 (e.g. 2:4)");
  }
  if (rule.sparsity == SparsityPattern::unstructured) {
    if (!r.given("density")) node.fail_message("sparsity: unstructured needs a density (kept fraction)");
    rule.density = open_fraction(r["density"]);
  } else if (r.given("density")) {
    r["density"].fail(fmt::format("no density: {} sparsity fixes it", pattern));
  } else if (rule.sparsity == SparsityPattern::n_m) {
    rule.density = static_cast<double>(rule.n) / rule.m;
  }

  const ConfigNode format = r["format"];
  const std::string storage = format.as_choice({"auto", "dense", "bitmap", "csr", "n_m_compressed"});
  if (storage == "auto") {
    rule.storage = rule.sparsity == SparsityPattern::dense          ? StorageFormat::dense
                   : rule.sparsity == SparsityPattern::unstructured ? StorageFormat::bitmap
                                                                    : StorageFormat::n_m_compressed;
  } else if (storage == "dense") {
    rule.storage = StorageFormat::dense;  // zeros stored: pruning without a format saves nothing
  } else if (storage == "n_m_compressed") {
    if (rule.sparsity != SparsityPattern::n_m) format.fail("a format for N:M sparsity only (dense, bitmap or csr)");
    rule.storage = StorageFormat::n_m_compressed;
  } else {
    if (rule.sparsity != SparsityPattern::unstructured) format.fail("dense or n_m_compressed: bitmap and csr store unstructured sparsity");
    rule.storage = storage == "bitmap" ? StorageFormat::bitmap : StorageFormat::csr;
  }
  rule.kept_in = open_fraction(r["kept_in_channels"]);
  rule.kept_out = open_fraction(r["kept_out_channels"]);
  rule.activation_density = open_fraction(r["activation_density"]);
  return rule;
}

KvPlan resolve_kv(const ConfigNode& node) {
  node.expect_map();
  const ParamReader r(node, kKvTable);
  KvPlan kv;
  kv.where = node.where();
  kv.major = r["layout"].as_choice({"head-major", "token-major"}) == "token-major" ? KvMajor::token : KvMajor::head;
  kv.paged = r["paged"].as_bool();
  if (kv.paged) {
    kv.block_tokens = static_cast<std::uint32_t>(r["block_tokens"].as_positive_int());
  } else if (r.given("block_tokens")) {
    r["block_tokens"].fail_message("block_tokens needs paged: true");
  }
  kv.precision = precision(r["precision"]);
  const std::string scales = r["scales"].as_choice({"none", "per-token", "per-group"});
  kv.scales = scales == "none"        ? KvScaleGranularity::none
              : scales == "per-token" ? KvScaleGranularity::per_token
                                      : KvScaleGranularity::per_group;
  const bool integer = kv.precision && (*kv.precision == DType::int8 || *kv.precision == DType::int4);
  if (integer && kv.scales == KvScaleGranularity::none) {
    // Name the section when the key was left at its default.
    if (!r.given("scales")) node.fail_message("scales: an integer cache needs per-token or per-group scales");
    r["scales"].fail("per-token or per-group: an integer cache needs scales");
  }
  if (!kv.precision && kv.scales != KvScaleGranularity::none) r["scales"].fail("none: the cache is not quantized");
  if (kv.scales == KvScaleGranularity::per_group) {
    kv.group_size = static_cast<std::uint32_t>(r["group_size"].as_positive_int());
  } else if (r.given("group_size")) {
    r["group_size"].fail_message("group_size goes with scales: per-group");
  }
  kv.zero_points = r["zero_points"].as_bool();
  if (kv.zero_points && kv.scales == KvScaleGranularity::none) r["zero_points"].fail("false: zero points need scales");
  kv.full_precision_tokens = static_cast<std::uint32_t>(r["full_precision_tokens"].as_count());
  kv.tier = r["tier"].as_choice({"hbm", "ddr"});
  kv.prefetch = r["prefetch"].as_bool();
  if (kv.prefetch && kv.tier != "ddr") r["prefetch"].fail("false: prefetch brings a DDR-resident cache closer");
  return kv;
}

DecompressionPlan resolve_decompression(const ConfigNode& node) {
  node.expect_map();
  const ParamReader r(node, kDecompressionTable);
  DecompressionPlan d;
  d.unit = r["unit"].as_choice({"vector", "engine"}) == "engine" ? DecompressionPlan::Unit::engine
                                                                 : DecompressionPlan::Unit::vector;
  if (d.unit == DecompressionPlan::Unit::engine) {
    if (!r.given("engine_elements_per_cycle")) node.fail_message("unit: engine needs engine_elements_per_cycle");
    d.engine_elements_per_cycle = r["engine_elements_per_cycle"].as_positive_double();
  } else if (r.given("engine_elements_per_cycle")) {
    r["engine_elements_per_cycle"].fail_message("engine_elements_per_cycle goes with unit: engine");
  }
  return d;
}

}  // namespace

CompressionPlan resolve_compression_plan(const ConfigNode& root) {
  root.expect_map();
  const ParamReader r(root, kPlanTable);
  CompressionPlan plan;
  plan.file = root.file();
  plan.name = r["name"].as_string();
  plan.description = r["description"].as_string();
  plan.decompression = resolve_decompression(r["decompression"]);
  if (r.given("rules")) {
    const ConfigNode rules = r["rules"];
    if (!rules.is_sequence()) rules.fail("a list of rules");
    for (const auto& rule : rules.elements()) plan.rules.push_back(resolve_rule(rule));
  }
  if (r.given("kv_cache")) plan.kv_cache = resolve_kv(r["kv_cache"]);
  if (plan.rules.empty() && !plan.kv_cache) {
    root.fail_message("the plan has neither rules nor a kv_cache section, so it changes nothing");
  }
  return plan;
}

CompressionPlan load_compression_plan(const std::string& path) {
  return resolve_compression_plan(ConfigNode::load_file(path));
}

}  // namespace npusim::mapper
