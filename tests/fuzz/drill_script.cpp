// Fuzzes `netloom drill`'s packetdrill script parser (host/src/drill/parser.hpp: lexer, events,
// packets with their options, system calls with nested expressions, directives) with arbitrary
// text, and with `--define`s taken from the input's first line as the command line would give.
// Checks: every input ends in a Script or a ScriptError (the parser's contract: syntax, semantic
// or unsupported, never another exception, crash, leak or UB); an error names a line within the
// text and has a message; an accepted script holds at most max_events events, its path as
// given.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "drill/parser.hpp"
#include "fuzz_check.hpp"

using namespace netloom::drill;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ParseOptions options;
    options.max_events = 1000;
    // "#define NAME VALUE" on the first line stands for `--define NAME=VALUE`.
    if (text.starts_with("#define ")) {
        const std::string_view line =
            text.substr(8, text.find('\n') - std::min(text.find('\n'), std::size_t{8}));
        const std::size_t space = line.find(' ');
        if (space != std::string_view::npos)
            options.defines[std::string(line.substr(0, space))] =
                std::string(line.substr(space + 1));
    }
    const std::size_t lines =
        static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    try {
        const Script script = parse_script(text, "fuzz.pkt", options);
        FUZZ_CHECK(script.path == "fuzz.pkt");
        FUZZ_CHECK(script.events.size() <= options.max_events);
    } catch (const ScriptError& e) {
        FUZZ_CHECK(!e.message().empty());
        FUZZ_CHECK(e.path() == "fuzz.pkt");
        FUZZ_CHECK(e.at().line <= lines + 1);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "not a ScriptError: %s\n", e.what());
        FUZZ_CHECK(!"an error other than ScriptError");
    }
    return 0;
}
