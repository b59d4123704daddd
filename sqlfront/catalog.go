package sqlfront

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// Catalog resolves table names to Arrow schemas. Lookups should be
// case-insensitive. A schema may declare its event-time column with field
// metadata EventTimeKey = "true" (columnar.EventTimeField does); time windows
// without an explicit time column use it.
type Catalog interface {
	Table(name string) (*arrow.Schema, error)
}

// TableLister is implemented by catalogs that can enumerate their tables;
// the binder then suggests the nearest name for an unknown table.
type TableLister interface {
	TableNames() []string
}

// EventTimeKey is the field metadata key declaring a schema's event-time
// column (the same key as columnar.EventTimeKey).
const EventTimeKey = "velo.event_time"

// ErrUnknownTable is returned (wrapped) by MapCatalog for a missing table.
var ErrUnknownTable = errors.New("unknown table")

// MapCatalog is a Catalog over a map from table name to schema, looked up
// case-insensitively.
type MapCatalog map[string]*arrow.Schema

// Table implements Catalog.
func (m MapCatalog) Table(name string) (*arrow.Schema, error) {
	if s, ok := m[name]; ok {
		return s, nil
	}
	for k, s := range m {
		if strings.EqualFold(k, name) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("table %q: %w", name, ErrUnknownTable)
}

// TableNames implements TableLister, sorted.
func (m MapCatalog) TableNames() []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// eventTimeIndex returns the index of the declared event-time column, -1 if
// none, or an error if several are declared.
func eventTimeIndex(s *arrow.Schema) (int, error) {
	found := -1
	for i, f := range s.Fields() {
		if v, ok := f.Metadata.GetValue(EventTimeKey); ok && v == "true" {
			if found >= 0 {
				return -1, fmt.Errorf("schema declares two event-time columns, %q and %q", s.Field(found).Name, f.Name)
			}
			found = i
		}
	}
	return found, nil
}
