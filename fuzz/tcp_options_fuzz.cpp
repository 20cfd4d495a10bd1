// TCP options (wire/tcp_options.hpp). Input: one byte choosing SYN or not, then the option
// bytes. Properties: decoding anything stops safely; what write_options lays out is well
// formed, at most 40 bytes in words, as long as options_length says, and decodes back to
// what it was given (as far as the writer carries it).
#include "fuzz_check.hpp"
#include "tcp_options_normal.hpp"
#include "wire/tcp_options.hpp"

using namespace synack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool syn = (data[0] & 1) != 0;
  const wire::Bytes options(data + 1, size - 1);

  const bool well_formed = wire::tcp_options_well_formed(options);
  const wire::TcpOptions decoded = wire::decode_options(options);
  FUZZ_CHECK(decoded.sack_block_count <= wire::tcp_max_sack_blocks);
  if (options.size() > wire::tcp_max_options_length) return 0;
  (void)well_formed;

  const wire::TcpOptions want = fuzz::writable_options(decoded, syn);
  const std::size_t length = wire::options_length(want, syn);
  FUZZ_CHECK(length % 4 == 0 && length <= wire::tcp_max_options_length);
  std::uint8_t out[wire::tcp_max_options_length];
  FUZZ_CHECK(wire::write_options(out, want, syn) == length);
  const wire::Bytes written(out, length);
  FUZZ_CHECK(wire::tcp_options_well_formed(written));
  FUZZ_CHECK(wire::decode_options(written) == want);
  // A buffer one byte short gets nothing.
  if (length > 0)
    FUZZ_CHECK(wire::write_options(wire::MutableBytes(out, length - 1), want, syn) == 0);
  return 0;
}
