import ArgumentParser

/// The `<account> <name>` pair that names one durable consumer in `consumer show|reset|delete`.
struct ConsumerName: ParsableArguments {
    @Argument(help: "The account that owns the consumer.")
    var account: String

    @Argument(help: "The durable name.")
    var name: String
}
