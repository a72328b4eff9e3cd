import LiaisonClient
import LiaisonCore
import LiaisonStore
import NIOPosix
import Postgres

/// Turns the errors of the layers below into one line for `liaisonctl: error: …`.
enum ErrorText {
    /// A one-line message for `error`, naming the layer it came from when that helps.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as StoreError:
            var text = error.message
            if let state = error.underlying?.sqlState {
                text += " (SQLSTATE \(state))"
            }
            return text
        case let error as PostgresError:
            return "database: \(error)"
        case let error as ServerError:
            return "server replied \(error)"
        case let error as ClientError:
            return error.message
        case let error as ProtocolError:
            return error.message
        case let error as NIOConnectionError:
            // Connecting outside ServerOptions.connect (a reconnect, say): the error names the address.
            return ConnectionErrorText.describe(error, host: error.host, port: error.port) ?? String(describing: error)
        default:
            return String(describing: error)
        }
    }
}
