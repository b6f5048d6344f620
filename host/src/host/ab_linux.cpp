// The Linux reference row: iperf3 and a Python request/response loop between two namespaces.
#include "ab_linux.hpp"

#include <unistd.h>

namespace netloom::host {

nlohmann::json LinuxReference::to_json() const {
    nlohmann::json j{{"values", values}};
    j["note"] = note.empty() ? nlohmann::json(nullptr) : nlohmann::json(note);
    return j;
}

LinuxReference measure_linux_reference(const AbPlan& plan, int runs) {
    (void)plan;
    (void)runs;
    LinuxReference ref;
    if (geteuid() != 0) {
        ref.note = "skipped: creating network namespaces needs root";
        return ref;
    }
    ref.note = "skipped: not implemented yet";
    return ref;
}

}  // namespace netloom::host
