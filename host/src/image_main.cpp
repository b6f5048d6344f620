// The static image: the plugins are compiled in and the config is embedded; with no arguments it
// runs that config. `netloom-image check|plugins|run FILE` still work for inspection.
#include "cli.hpp"

extern const char* const netloom_image_config_name;
extern const char* const netloom_image_config_yaml;

int main(int argc, char** argv) {
    return netloom::host::run_cli(
        argc, argv,
        netloom::host::EmbeddedConfig{netloom_image_config_name, netloom_image_config_yaml});
}
