// The dynamic host: plugins are loaded from the search path at run time.
#include "cli.hpp"

int main(int argc, char** argv) {
    return netloom::host::run_cli(argc, argv, std::nullopt);
}
