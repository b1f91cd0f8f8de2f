// facepipe worker (hidden): one worker process of `facepipe run`, started by the supervisor with its
// command pipe on standard input and its status page on descriptor 3 (src/runtime/worker.h). Not
// meant to be run by hand.
#include <unistd.h>

#include "apps/facepipe/cli_common.h"
#include "runtime/worker.h"

namespace facepipe::cli {

void register_worker_commands(CLI::App& app) {
  auto o = std::make_shared<runtime::WorkerOptions>();
  CLI::App* cmd = app.add_subcommand("worker", "A worker process of `facepipe run` (started by the supervisor)");
  cmd->group("");  // hidden
  cmd->add_option("--name", o->name, "Worker name (cpu, gpu0, ...)")->required();
  cmd->add_option("--gpu", o->gpu, "Device: -1 CPU, else the GPU index")->required();
  cmd->add_option("--supervisor", o->supervisor, "Parent process id: stop when it is gone");
  cmd->callback([o] {
    const int code = runtime::run_worker(*o);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace facepipe::cli
