// Fuzzes the tcp_classic engine (plugins/tcp_classic) with structured inputs: a connection's setup,
// inbound segments, app calls, ICMP errors and clock advances, decoded and checked by
// tcp_engine_fuzzer.hpp (its header lists the input format and every invariant).
#include "tcp_engine_fuzzer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    netloom::fuzz::EngineFuzzer fuzzer("tcp_classic", data, size);
    fuzzer.run();
    return 0;
}
