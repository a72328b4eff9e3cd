import Postgres
import Testing

/// Which errors mean "replace the connection"; no server needed.
@Suite
struct PostgresErrorTests {
    @Test(
        arguments: [
            (PostgresError.Code.connectionFailed, nil, true),
            (.connectionLost, nil, true),
            (.timeout, nil, true),
            (.server, "08006", true),
            (.server, "08P01", true),
            (.server, "57P01", true),
            (.server, "57P02", true),
            (.server, "57P03", true),
            (.server, "57014", false),
            (.server, "23505", false),
            (.server, "40001", false),
            (.decoding, nil, false),
            (.pipelineAborted, nil, false),
        ] as [(PostgresError.Code, String?, Bool)]
    )
    func connectionErrorsAreRecognised(code: PostgresError.Code, sqlState: String?, expected: Bool) {
        let error = PostgresError(code, "test", sqlState: sqlState)
        #expect(error.isConnectionError == expected)
    }

    @Test
    func descriptionCarriesEveryField() {
        let error = PostgresError(
            .server,
            "duplicate key value violates unique constraint \"t_pkey\"",
            sqlState: "23505",
            detail: "Key (id)=(1) already exists.",
            hint: "none"
        )
        #expect(
            error.description
                == "PostgresError.server: duplicate key value violates unique constraint \"t_pkey\" (SQLSTATE 23505)"
                + " DETAIL: Key (id)=(1) already exists. HINT: none"
        )
    }
}
