// Spawning a coroutine whose escaping exception is logged, never dropped (Beast's examples catch
// at co_spawn; `detached` swallows what escapes).
#pragma once

#include <exception>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>

namespace x402proxy::net {

template <class Executor, class Task>
void spawn_logged(Executor&& executor, Task&& task, std::string what) {
  boost::asio::co_spawn(std::forward<Executor>(executor), std::forward<Task>(task),
                        [what = std::move(what)](std::exception_ptr escaped) {
                          if (!escaped)
                            return;
                          try {
                            std::rethrow_exception(escaped);
                          } catch (const std::exception& error) {
                            spdlog::error("{}: unexpected exception: {}", what, error.what());
                          } catch (...) {
                            spdlog::error("{}: unexpected exception", what);
                          }
                        });
}

}  // namespace x402proxy::net
