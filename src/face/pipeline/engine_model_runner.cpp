#include "face/pipeline/engine_model_runner.h"

#include <vector>

namespace facepipe::face {

namespace {
TensorShape to_runner_shape(const engine::Shape& s) {
  TensorShape t;
  t.rank = std::min(s.rank(), TensorShape::kMaxRank);
  for (int i = 0; i < t.rank; ++i) t.dims[static_cast<size_t>(i)] = s[i];
  return t;
}
}  // namespace

EngineModelRunner::EngineModelRunner(std::shared_ptr<const engine::Graph> graph, ThreadPool* pool)
    : graph_(std::move(graph)), pool_(pool) {
  replan({});
}

void EngineModelRunner::replan(std::span<const engine::Shape> shapes) {
  engine::cpu::PlanOptions options;
  options.pool = pool_;
  plan_ = engine::cpu::CpuPlan::create(graph_, shapes, options);
  for (int i = 0; i < plan_->num_inputs(); ++i) {
    if (plan_->input(i).dtype != engine::DType::kF32) throw Error(graph_->source + ": input " + std::to_string(i) + " is not float32");
  }
  for (int i = 0; i < plan_->num_outputs(); ++i) {
    if (plan_->output(i).dtype != engine::DType::kF32) throw Error(graph_->source + ": output " + std::to_string(i) + " is not float32");
  }
}

int EngineModelRunner::num_inputs() const { return plan_->num_inputs(); }
int EngineModelRunner::num_outputs() const { return plan_->num_outputs(); }
TensorShape EngineModelRunner::input_shape(int i) const { return to_runner_shape(plan_->input(i).shape); }
TensorShape EngineModelRunner::output_shape(int i) const { return to_runner_shape(plan_->output(i).shape); }

Status EngineModelRunner::set_input_shape(int i, const TensorShape& shape) {
  if (i < 0 || i >= num_inputs()) return Status::error(StatusCode::kInvalidArgument, "set_input_shape: no such input");
  if (input_shape(i) == shape) return Status::ok();
  std::vector<engine::Shape> shapes;
  for (int k = 0; k < num_inputs(); ++k) shapes.push_back(plan_->input(k).shape);
  shapes[static_cast<size_t>(i)].assign(std::span<const int64_t>(shape.dims.data(), static_cast<size_t>(shape.rank)));
  try {
    replan(shapes);
  } catch (const Error&) {
    return Status::error(StatusCode::kInvalidArgument, "the model cannot run at the requested input shape");
  }
  return Status::ok();
}

float* EngineModelRunner::input(int i) { return plan_->input(i).as<float>(); }
const float* EngineModelRunner::output(int i) const { return plan_->output(i).as<float>(); }
Status EngineModelRunner::run() { return plan_->run(); }

}  // namespace facepipe::face
