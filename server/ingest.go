package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/flight/flightsql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DoPutCommandStatementIngest appends the stream's batches to an in-memory
// table. An absent table is created with the stream's schema unless the
// options say TABLE_NOT_EXIST_OPTION_FAIL; an existing one is appended to
// (TABLE_EXISTS_OPTION_APPEND or unspecified), replaced (REPLACE) or
// refused (FAIL). Appended batches must have the table's column names
// (case-insensitive) and types, else InvalidArgument names the column.
// The whole stream is read before the table changes, so a failed ingest
// appends nothing; the table is then re-registered with the engine. The
// appended batches then go, in order, to every continuous (EMIT CHANGES)
// query running over the table (see Config.StreamBuffer); replacing the
// table ends those queries.
func (s *Server) DoPutCommandStatementIngest(_ context.Context, cmd flightsql.StatementIngest, rdr flight.MessageReader) (int64, error) {
	name := cmd.GetTable()
	switch {
	case name == "":
		return 0, status.Error(codes.InvalidArgument, "ingest: empty table name")
	case len(cmd.GetTransactionId()) > 0:
		return 0, status.Error(codes.InvalidArgument, "ingest: transactions are not supported")
	case cmd.GetCatalog() != "" && cmd.GetCatalog() != Catalog:
		return 0, status.Errorf(codes.NotFound, "ingest into %q: unknown catalog %q (the catalog is %q)", name, cmd.GetCatalog(), Catalog)
	case cmd.GetSchema() != "" && cmd.GetSchema() != Schema:
		return 0, status.Errorf(codes.NotFound, "ingest into %q: unknown schema %q (the schema is %q)", name, cmd.GetSchema(), Schema)
	}
	var recs []arrow.Record
	defer func() { releaseAll(recs) }()
	var rows int64
	for rdr.Next() {
		rec := rdr.Record()
		if rec.NumRows() == 0 {
			continue
		}
		rec.Retain()
		recs = append(recs, rec)
		rows += rec.NumRows()
	}
	if err := rdr.Err(); err != nil {
		return 0, status.Errorf(codes.InvalidArgument, "ingest into %q: read batches: %s", name, err)
	}
	schema := rdr.Schema()
	if schema == nil {
		return 0, status.Errorf(codes.InvalidArgument, "ingest into %q: the stream has no schema", name)
	}
	if schema.NumFields() == 0 {
		return 0, status.Errorf(codes.InvalidArgument, "ingest into %q: the stream has no columns", name)
	}
	opts := cmd.GetTableDefinitionOptions()

	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.tables[strings.ToLower(name)]
	var all []arrow.Record
	switch {
	case old == nil:
		if opts.GetIfNotExist() == flightsql.TableDefinitionOptionsTableNotExistOptionFail {
			return 0, status.Errorf(codes.NotFound, "ingest into %q: table does not exist", name)
		}
		all = recs
	case opts.GetIfExists() == flightsql.TableDefinitionOptionsTableExistsOptionFail:
		return 0, status.Errorf(codes.AlreadyExists, "ingest into %q: table exists", name)
	case opts.GetIfExists() == flightsql.TableDefinitionOptionsTableExistsOptionReplace:
		name = old.name
		all = recs
	case old.records == nil:
		return 0, status.Errorf(codes.FailedPrecondition, "ingest into %q: the table is backed by file %s; ingest appends to in-memory tables only (replace it instead)", name, old.path)
	default:
		name, schema = old.name, old.schema
		conformed, err := conform(old.schema, recs)
		if err != nil {
			return 0, status.Errorf(codes.InvalidArgument, "ingest into %q: %s", name, err)
		}
		releaseAll(recs)
		recs = conformed
		all = append(append(make([]arrow.Record, 0, len(old.records)+len(recs)), old.records...), recs...)
	}
	if len(all) == 0 {
		recs = append(recs, emptyRecord(s.mem, schema))
		all = recs
	}
	if err := s.eng.RegisterTable(name, all); err != nil {
		return 0, status.Errorf(codes.Internal, "ingest into %q: %s", name, err)
	}
	entry := &tableEntry{name: name, schema: schema, records: all}
	if old != nil && len(all) > len(recs) {
		// Appended: the new entry takes over old's references, and the
		// continuous queries over the table get the new batches.
		old.records = nil
		key := strings.ToLower(name)
		s.tables[key] = entry
		s.fanOutLocked(key, recs)
	} else {
		s.replaceLocked(entry) // created or replaced: continuous queries over the old table end
	}
	recs = nil // owned by the entry now
	s.metrics.ingested.Add(float64(rows))
	return rows, nil
}

// conform checks recs against the table schema and returns records with
// exactly that schema (nullability and metadata may differ in the stream).
// The caller keeps its references to recs; the results carry their own.
func conform(table *arrow.Schema, recs []arrow.Record) ([]arrow.Record, error) {
	out := make([]arrow.Record, 0, len(recs))
	for _, r := range recs {
		rs := r.Schema()
		if rs.NumFields() != table.NumFields() {
			releaseAll(out)
			return nil, fmt.Errorf("the batch has %d columns, the table has %d", rs.NumFields(), table.NumFields())
		}
		for i, f := range table.Fields() {
			g := rs.Field(i)
			if !strings.EqualFold(f.Name, g.Name) {
				releaseAll(out)
				return nil, fmt.Errorf("column %d is %q in the batch, %q in the table", i+1, g.Name, f.Name)
			}
			if !arrow.TypeEqual(f.Type, g.Type) {
				releaseAll(out)
				return nil, fmt.Errorf("column %q has type %s in the batch, %s in the table", f.Name, g.Type, f.Type)
			}
		}
		if rs.Equal(table) {
			r.Retain()
			out = append(out, r)
			continue
		}
		out = append(out, array.NewRecord(table, r.Columns(), r.NumRows()))
	}
	return out, nil
}
