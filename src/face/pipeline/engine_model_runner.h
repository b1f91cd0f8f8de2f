// Binds the face pipeline's ModelRunner seam to the engine's CPU plan.
//
// The plan is made at the model's declared input shape; set_input_shape() re-plans for a new shape
// (RetinaFace at each image's size) and keeps the plan while the shape stays the same, so a video of
// one resolution plans once.
#pragma once

#include <memory>

#include "engine/cpu/cpu_plan.h"
#include "face/detection/model_runner.h"

namespace facepipe::face {

class EngineModelRunner : public ModelRunner {
 public:
  // `pool` is shared with the other stages and must outlive the runner. Throws facepipe::Error when
  // the model cannot be planned.
  EngineModelRunner(std::shared_ptr<const engine::Graph> graph, ThreadPool* pool);

  int num_inputs() const override;
  int num_outputs() const override;
  TensorShape input_shape(int i) const override;
  TensorShape output_shape(int i) const override;
  Status set_input_shape(int i, const TensorShape& shape) override;
  float* input(int i) override;
  const float* output(int i) const override;
  Status run() override;

  const engine::Graph& graph() const { return *graph_; }
  engine::cpu::CpuPlan& plan() { return *plan_; }

 private:
  void replan(std::span<const engine::Shape> shapes);

  std::shared_ptr<const engine::Graph> graph_;
  ThreadPool* pool_;
  std::unique_ptr<engine::cpu::CpuPlan> plan_;
};

}  // namespace facepipe::face
