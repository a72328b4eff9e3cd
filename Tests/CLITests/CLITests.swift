import Testing

@Suite struct CLITests {}
