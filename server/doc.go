// Package server serves a velo.Engine over Arrow Flight SQL, so any Flight
// SQL client (Arrow's Go client and database/sql driver, the JDBC Flight SQL
// driver, ADBC, DBeaver) can query it, and exports server metrics for
// Prometheus.
//
// A statement's FlightInfo carries one endpoint whose ticket holds the query
// text (the "handle"): tickets are self-contained, so nothing is kept between
// GetFlightInfo and DoGet and an abandoned ticket costs nothing. DoGet runs
// the query with Engine.Execute and streams its result batch by batch; a
// client that goes away cancels the query through the stream's context.
//
// Prepared statements keep their SQL text and the bound parameters on the
// server under a random handle until ClosePreparedStatement. Parameters ("?"
// outside string literals, quoted identifiers and comments) are substituted
// as typed SQL literals (strings quoted and escaped, numbers, booleans,
// NULL); executing a prepared statement snapshots the bound text into a
// statement ticket.
//
// Bulk ingest (DoPutCommandStatementIngest) appends Arrow batches to an
// in-memory table. The engine has no append API, so the server keeps each
// ingest table's batches and re-registers the table (RegisterTable with
// []arrow.Record) under a lock after every ingest stream: queries already
// running keep reading the batches they started with. Register tables
// through Server.RegisterTable, not on the engine directly: GetTables lists
// and ingest appends to the server's tables only.
//
// Continuous queries: a DoGet on an EMIT CHANGES query (a statement or a
// prepared statement) starts it with Engine.Start over its table and
// streams result batches as they are produced, until the client cancels.
// The query first reads the rows already in the table, then every batch
// ingested into it afterwards, in ingest order — like a consumer reading a
// topic from its earliest offset: the latest change per group is always
// the batch GROUP BY over the table so far. The schema is sent at once,
// so the client's DoGet returns before the first change. Backpressure:
// ingest never waits for a continuous query; each stream buffers at most
// Config.StreamBuffer ingested batches (and as many result batches), and
// a stream whose client reads too slowly for that fails with
// ResourceExhausted (re-running it restarts from the table's first row),
// so one slow client can neither stall ingest and the other streams nor
// make the server buffer without bound. Replacing the table and Shutdown
// end the continuous queries: each takes no more input, closes, and its
// stream finishes without error once the changes produced are sent.
//
// Results go out with plain column types: dictionary columns (which the
// engine passes through projections) are decoded first, since the v17
// database/sql driver cannot scan them.
//
// Errors become gRPC status codes carrying the SQL error text:
// InvalidArgument for parse, bind and parameter errors, NotFound for unknown
// tables, Unauthenticated for a missing or wrong bearer token,
// ResourceExhausted for a continuous stream that fell behind, Internal for
// a panic inside a handler (recovered; the server keeps serving).
package server
