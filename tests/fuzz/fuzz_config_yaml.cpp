// config/: the YAML loaders of serve, pay and the facilitator service read an operator's file;
// on any text they return a config or an error naming the place (reasons "config.syntax" and
// "config.invalid"), never crash and never let an exception out. A serve config that loads also
// builds its price table and the `check` listing. Loading from a file gives the same verdict as
// parsing the same text.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/facilitator_config.h"
#include "config/pay_config.h"
#include "config/price_table.h"
#include "config/serve_config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace x402proxy;

template <class T>
void check_error(const Result<T>& result) {
  if (result.ok())
    return;
  const std::string& reason = result.error().reason;
  FUZZ_CHECK(reason == "config.syntax" || reason == "config.invalid");
  FUZZ_CHECK(!result.error().message.empty());
}

// One scratch file per process, rewritten for each input.
const std::string& scratch_path() {
  static const std::string path = [] {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "x402proxy-fuzz-config-XXXXXX").string();
    const int fd = mkstemp(pattern.data());
    FUZZ_CHECK(fd >= 0);
    close(fd);
    std::atexit([] { std::remove(scratch_path().c_str()); });
    return pattern;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::as_text(data, size));

  auto serve = config::parse_serve_config(text, "fuzz.yaml");
  check_error(serve);
  if (serve.ok()) {
    auto table = config::build_price_table(**serve, "11111111111111111111111111111111");
    if (table.ok())
      (void)config::format_price_table(**serve, *table);
  }
  check_error(config::parse_pay_config(text, "fuzz.yaml"));
  check_error(config::parse_facilitator_config(text, "fuzz.yaml"));
  (void)config::starting_balance_atomic(text);

  {
    std::ofstream file(scratch_path(), std::ios::binary | std::ios::trunc);
    file.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  auto loaded = config::load_serve_config(scratch_path());
  auto parsed = config::parse_serve_config(text, scratch_path());
  FUZZ_CHECK(loaded.ok() == parsed.ok());
  if (!loaded.ok())
    FUZZ_CHECK(loaded.error().message == parsed.error().message);
  return 0;
}
