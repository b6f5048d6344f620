// spdlog_impl.cpp — the static image's one copy of spdlog's implementation.
//
// Why: Debian ships spdlog as a shared library only. Compiling it header-only
// (SPDLOG_HEADER_ONLY) puts its whole implementation into every translation unit that includes a
// spdlog header: ~9 s of compiler time each at -O3 here, most of the image's build. Instead every
// file of the static build sees spdlog's declarations only (SPDLOG_COMPILED_LIB, set on
// netloom_sdk) and this file alone includes the implementation headers, with the classes and
// factories netloom uses (host/src/host/logging.cpp) instantiated explicitly. Add a line here
// when the host starts using another sink; the image then fails to link until it exists.
#ifndef SPDLOG_COMPILED_LIB
#error "spdlog_impl.cpp is for the static build (SPDLOG_COMPILED_LIB)"
#endif

#include <mutex>

#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/ansicolor_sink-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/spdlog-inl.h>

template class spdlog::sinks::base_sink<std::mutex>;
template class spdlog::sinks::base_sink<spdlog::details::null_mutex>;
template class spdlog::sinks::ansicolor_sink<spdlog::details::console_mutex>;
template class spdlog::sinks::ansicolor_stdout_sink<spdlog::details::console_mutex>;
template class spdlog::sinks::ansicolor_stderr_sink<spdlog::details::console_mutex>;
