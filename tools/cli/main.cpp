// descent: gradient-based optimization from the command line.
//
//   descent minimize --problem rosenbrock --method lbfgs
//   descent minimize --suite mgh --method all --profile profile.svg
//   descent train --data fashion-mnist --model mlp:784-256-128-10 --optimizer adam --epochs 5
//
// Exit status: 0 when the command ran (whatever the solver's status, which
// the output reports; but 1 for a training run that diverged), 1 on a
// runtime failure (a file that cannot be written), 2 on a usage error or an
// input file that cannot be read as what it claims to be, 130 or 143 for a
// training run stopped by SIGINT or SIGTERM (after writing a checkpoint).
#include <signal.h>

#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include "commands.hpp"
#include "descent/core/error.hpp"

int main(int argc, char** argv) {
  // A write past a file-size limit (ulimit -f) fails with EFBIG and is
  // reported, instead of killing the process before it can say so.
  signal(SIGXFSZ, SIG_IGN);
  descent::cli::command_line().assign(argv, argv + argc);
  CLI::App app{"descent: gradient-based optimization and model training", "descent"};
  app.get_formatter()->column_width(44);  // room for a flag, its type and its range
  app.set_version_flag("--version", std::string("descent ") + DESCENT_VERSION);
  app.require_subcommand(1);
  descent::cli::add_minimize(app);
  descent::cli::add_bench(app);
  descent::cli::add_train(app);
  descent::cli::add_evaluate(app);
  descent::cli::add_plot(app);
  descent::cli::add_lr_find(app);
  descent::cli::add_tune(app);
  descent::cli::add_race(app);
  try {
    app.parse(argc, argv);
  } catch (const descent::cli::exit_status& e) {
    return e.code;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "descent: {}\nRun 'descent --help' for usage.\n", e.what());
    return 2;
  } catch (const descent::cli::usage_error& e) {
    fmt::print(stderr, "descent: {}\n", e.what());
    return 2;
  } catch (const descent::invalid_argument& e) {
    fmt::print(stderr, "descent: {}\n", e.what());
    return 2;
  } catch (const descent::parse_error& e) {
    fmt::print(stderr, "descent: {}\n", e.what());
    return 2;

  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "descent: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "descent: {}\n", e.what());
    return 1;
  }
  return 0;
}
