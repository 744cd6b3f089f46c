// Polling for a condition a test waits on (a journal row, a log line): true as soon as it holds,
// false when `timeout` passes first.
#pragma once

#include <chrono>
#include <thread>

namespace x402proxy::testing {

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

}  // namespace x402proxy::testing
