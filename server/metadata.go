package server

import (
	"context"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/flight/flightsql"
	"github.com/apache/arrow/go/v17/arrow/flight/flightsql/schema_ref"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Metadata results are small and built with the Go-managed default
// allocator: should v17's DoGet drop a batch it failed to send, the garbage
// collector reclaims it.

func (s *Server) registerSqlInfo() error {
	infos := []struct {
		id  flightsql.SqlInfo
		val any
	}{
		{flightsql.SqlInfoFlightSqlServerName, Name},
		{flightsql.SqlInfoFlightSqlServerVersion, Version},
		{flightsql.SqlInfoFlightSqlServerArrowVersion, "17.0.0"},
		{flightsql.SqlInfoFlightSqlServerReadOnly, false},
		{flightsql.SqlInfoFlightSqlServerSql, true},
		{flightsql.SqlInfoFlightSqlServerSubstrait, false},
		{flightsql.SqlInfoFlightSqlServerTransaction, int32(flightsql.SqlTransactionNone)},
		{flightsql.SqlInfoFlightSqlServerCancel, false},
		{flightsql.SqlInfoFlightSqlServerBulkIngestion, true},
		{flightsql.SqlInfoFlightSqlServerIngestTransactionsSupported, false},
		{flightsql.SqlInfoDDLCatalog, false},
		{flightsql.SqlInfoDDLSchema, false},
		{flightsql.SqlInfoDDLTable, false},
		{flightsql.SqlInfoIdentifierQuoteChar, `"`},
		{flightsql.SqlInfoTransactionsSupported, false},
	}
	for _, in := range infos {
		if err := s.RegisterSqlInfo(in.id, in.val); err != nil {
			return err
		}
	}
	return nil
}

// DoGetSqlInfo serves the registered SqlInfo values; the stream stops when
// the client goes away.
func (s *Server) DoGetSqlInfo(ctx context.Context, cmd flightsql.GetSqlInfo) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	schema, ch, err := s.BaseServer.DoGetSqlInfo(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	return schema, guard(ctx, ch), nil
}

// metaInfo is the FlightInfo of a metadata command: its ticket is the
// command itself.
func (s *Server) metaInfo(desc *flight.FlightDescriptor, schema *arrow.Schema) *flight.FlightInfo {
	return s.info(desc, desc.Cmd, schema)
}

// stream sends one record on a channel that gives up when ctx is done.
func stream(ctx context.Context, rec arrow.Record) <-chan flight.StreamChunk {
	ch := make(chan flight.StreamChunk, 1)
	ch <- flight.StreamChunk{Data: rec}
	close(ch)
	return guard(ctx, ch)
}

// GetFlightInfoCatalogs implements flightsql.Server.
func (s *Server) GetFlightInfoCatalogs(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.Catalogs), nil
}

// DoGetCatalogs lists the one catalog.
func (s *Server) DoGetCatalogs(ctx context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema_ref.Catalogs)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append(Catalog)
	return schema_ref.Catalogs, stream(ctx, b.NewRecord()), nil
}

// GetFlightInfoSchemas implements flightsql.Server.
func (s *Server) GetFlightInfoSchemas(_ context.Context, _ flightsql.GetDBSchemas, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.DBSchemas), nil
}

// DoGetDBSchemas lists the one database schema when it matches the filters.
func (s *Server) DoGetDBSchemas(ctx context.Context, cmd flightsql.GetDBSchemas) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema_ref.DBSchemas)
	defer b.Release()
	if catalogMatches(cmd.GetCatalog()) && like(cmd.GetDBSchemaFilterPattern(), Schema) {
		b.Field(0).(*array.StringBuilder).Append(Catalog)
		b.Field(1).(*array.StringBuilder).Append(Schema)
	}
	return schema_ref.DBSchemas, stream(ctx, b.NewRecord()), nil
}

// GetFlightInfoTables implements flightsql.Server.
func (s *Server) GetFlightInfoTables(_ context.Context, cmd flightsql.GetTables, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if cmd.GetIncludeSchema() {
		return s.metaInfo(desc, schema_ref.TablesWithIncludedSchema), nil
	}
	return s.metaInfo(desc, schema_ref.Tables), nil
}

// DoGetTables lists the tables registered through the server (sorted by
// name) that match the filters, with their Arrow schemas when asked.
func (s *Server) DoGetTables(ctx context.Context, cmd flightsql.GetTables) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	schema := schema_ref.Tables
	if cmd.GetIncludeSchema() {
		schema = schema_ref.TablesWithIncludedSchema
	}
	typeOK := len(cmd.GetTableTypes()) == 0
	for _, t := range cmd.GetTableTypes() {
		typeOK = typeOK || strings.EqualFold(t, TableType)
	}
	type row struct {
		name   string
		schema *arrow.Schema
	}
	var rows []row
	if typeOK && catalogMatches(cmd.GetCatalog()) && like(cmd.GetDBSchemaFilterPattern(), Schema) {
		s.mu.Lock()
		for _, t := range s.tables {
			if like(cmd.GetTableNameFilterPattern(), t.name) {
				rows = append(rows, row{t.name, t.schema})
			}
		}
		s.mu.Unlock()
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(Catalog)
		b.Field(1).(*array.StringBuilder).Append(Schema)
		b.Field(2).(*array.StringBuilder).Append(r.name)
		b.Field(3).(*array.StringBuilder).Append(TableType)
		if cmd.GetIncludeSchema() {
			b.Field(4).(*array.BinaryBuilder).Append(flight.SerializeSchema(r.schema, memory.DefaultAllocator))
		}
	}
	return schema, stream(ctx, b.NewRecord()), nil
}

// GetFlightInfoTableTypes implements flightsql.Server.
func (s *Server) GetFlightInfoTableTypes(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.TableTypes), nil
}

// DoGetTableTypes lists the one table type.
func (s *Server) DoGetTableTypes(ctx context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema_ref.TableTypes)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append(TableType)
	return schema_ref.TableTypes, stream(ctx, b.NewRecord()), nil
}

// catalogMatches: a nil filter matches everything, "" matches tables
// without a catalog (none), anything else must be the catalog's name.
func catalogMatches(c *string) bool { return c == nil || *c == Catalog }

// like matches s against a SQL LIKE pattern (% any run, _ one character,
// \ escapes); a nil pattern matches everything. Matching is
// case-insensitive, as table names are.
func like(pattern *string, s string) bool {
	if pattern == nil {
		return true
	}
	return likeMatch(strings.ToLower(*pattern), strings.ToLower(s))
}

func likeMatch(p, s string) bool {
	for len(p) > 0 {
		r, w := utf8.DecodeRuneInString(p)
		switch r {
		case '%':
			for p = p[w:]; len(p) > 0 && p[0] == '%'; p = p[1:] {
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); {
				if likeMatch(p, s[i:]) {
					return true
				}
				if i == len(s) {
					break
				}
				_, sw := utf8.DecodeRuneInString(s[i:])
				i += sw
			}
			return false
		case '_':
			if s == "" {
				return false
			}
			_, sw := utf8.DecodeRuneInString(s)
			p, s = p[w:], s[sw:]
		default:
			if r == '\\' && len(p) > w {
				p = p[w:]
				r, w = utf8.DecodeRuneInString(p)
			}
			sr, sw := utf8.DecodeRuneInString(s)
			if s == "" || sr != r {
				return false
			}
			p, s = p[w:], s[sw:]
		}
	}
	return s == ""
}
