#if FUZZING
import LiaisonServer

/// The libFuzzer entry point, compiled only for `scripts/fuzz.sh` (`-sanitize=fuzzer -DFUZZING`);
/// libFuzzer supplies `main` and calls this once per input.
///
/// A broken invariant traps, which libFuzzer reports as a crash and saves the input.
///
/// - Parameters:
///   - data: The input bytes.
///   - size: The number of bytes at `data`.
/// - Returns: 0, as libFuzzer requires.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        try FuzzHarness.check(bytes)
    } catch {
        fatalError("invariant broken: \(error)")
    }
    return 0
}
#endif
