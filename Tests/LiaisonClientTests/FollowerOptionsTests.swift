import LiaisonCore
import Testing

@testable import LiaisonClient

/// Which `SUB` options a follower sends on its first and on later connections.
@Suite struct FollowerOptionsTests {
    private func text(_ pairs: [(String, String)]) -> String {
        pairs.map { "\($0)=\($1)" }.joined(separator: " ")
    }

    @Test func aDurableResumesWithoutFromOrReset() {
        let options = FollowerOptions(durable: "desk", ack: .explicit, from: "all", reset: true)
        #expect(
            self.text(options.subscribeOptions(isFirst: true, resumeSeq: nil))
                == "from=all durable=desk ack=explicit reset=true"
        )
        #expect(self.text(options.subscribeOptions(isFirst: false, resumeSeq: 41)) == "durable=desk ack=explicit")
        #expect(!options.confirmsCumulatively)
        #expect(FollowerOptions(durable: "desk").confirmsCumulatively)
    }

    @Test func aNonDurableResumesAfterTheInOrderPosition() {
        let options = FollowerOptions(from: "all")
        #expect(self.text(options.subscribeOptions(isFirst: true, resumeSeq: nil)) == "from=all")
        #expect(self.text(options.subscribeOptions(isFirst: false, resumeSeq: 42)) == "from=42")
        #expect(self.text(options.subscribeOptions(isFirst: false, resumeSeq: nil)) == "from=all")
        #expect(self.text(FollowerOptions().subscribeOptions(isFirst: false, resumeSeq: nil)).isEmpty)
        #expect(!options.confirmsCumulatively)
    }

    /// A durable's settings are those of its latest `SUB`: `max_deliver=` goes with every one.
    @Test func maxDeliverGoesWithEverySubOfAnExplicitConsumer() {
        let options = FollowerOptions(durable: "desk", ack: .explicit, from: "all", maxDeliver: 50)
        #expect(
            self.text(options.subscribeOptions(isFirst: true, resumeSeq: nil))
                == "from=all durable=desk ack=explicit max_deliver=50"
        )
        #expect(
            self.text(options.subscribeOptions(isFirst: false, resumeSeq: 41))
                == "durable=desk ack=explicit max_deliver=50"
        )
        #expect(
            self.text(FollowerOptions(durable: "desk", maxDeliver: 50).subscribeOptions(isFirst: false, resumeSeq: nil))
                == "durable=desk"
        )
    }
}
