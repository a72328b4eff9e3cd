#if FUZZING
import Glibc
import LiaisonServer

/// The libFuzzer build's entry point (`scripts/fuzz.sh`: `-sanitize=fuzzer -DFUZZING`).
///
/// SwiftPM links every executable with `main` renamed to `LiaisonFuzz_main`, which hides
/// libFuzzer's own `main`; so this `@main` hands the command line to libFuzzer's driver
/// (`LLVMFuzzerRunDriver`, in compiler-rt since LLVM 11), which then calls
/// ``fuzzTestOneInput(_:_:)`` once per input. libFuzzer flags and corpus directories are passed
/// through unchanged.
@main
enum FuzzEntry {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(llvmFuzzerRunDriver(&argc, &argv, fuzzTestOneInput))
    }
}

/// libFuzzer's driver: parses the flags in `argv`, then runs `callback` on each input.
@_extern(c, "LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Checks one input; libFuzzer's archive also references this symbol by name.
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
