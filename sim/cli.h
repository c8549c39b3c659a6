#pragma once
namespace npusim {
// Parses the command line and runs the chosen subcommand; returns the exit code.
int run_cli(int argc, char** argv);
}  // namespace npusim
