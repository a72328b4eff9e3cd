import LiaisonClient
import Testing

@Suite struct ServerFrameDecoderTests {}
