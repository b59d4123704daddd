package bench

import (
	"fmt"
	"strings"
)

// Scenario is one benchmark query of BENCH.md over the market_data table.
type Scenario struct {
	// ID is the short name used on the command line: S0, S1, S2, S2h, S3a, S3b.
	ID string
	// Title says what the scenario stresses.
	Title string
	// SQL is the exact query of BENCH.md.
	SQL string
}

// The SQL of the six scenarios, verbatim from BENCH.md.
const (
	SQLS0  = "SELECT symbol, price, quantity, price * quantity AS notional FROM market_data WHERE price > 100.0"
	SQLS1  = "SELECT symbol, trade_time, price, AVG(price) OVER w AS ma100, MIN(price) OVER w AS min100, MAX(price) OVER w AS max100 FROM market_data WINDOW w AS (PARTITION BY symbol ORDER BY trade_time ROWS BETWEEN 99 PRECEDING AND CURRENT ROW)"
	SQLS2  = "SELECT symbol, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS min_price, MAX(price) AS max_price, SUM(quantity) AS total_quantity FROM market_data GROUP BY symbol"
	SQLS2h = "SELECT trader_id, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS min_price, MAX(price) AS max_price, SUM(quantity) AS total_quantity FROM market_data GROUP BY trader_id"
	SQLS3a = "SELECT symbol, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high, SUM(quantity) AS total_quantity, SUM(price * quantity) AS total_value FROM market_data GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE) EMIT FINAL"
	SQLS3b = "SELECT symbol, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high, SUM(quantity) AS total_quantity, SUM(price * quantity) AS total_value FROM market_data GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE) EMIT CHANGES"
)

var scenarios = []Scenario{
	{ID: "S0", Title: "filter + projection", SQL: SQLS0},
	{ID: "S1", Title: "ROWS window, 100 rows per symbol", SQL: SQLS1},
	{ID: "S2", Title: "GROUP BY, 1,000 groups", SQL: SQLS2},
	{ID: "S2h", Title: "GROUP BY, 100,000 groups", SQL: SQLS2h},
	{ID: "S3a", Title: "1-minute bars per symbol, EMIT FINAL", SQL: SQLS3a},
	{ID: "S3b", Title: "1-minute bars per symbol, EMIT CHANGES", SQL: SQLS3b},
}

// Scenarios returns every scenario of BENCH.md in order (a fresh slice).
func Scenarios() []Scenario { return append([]Scenario(nil), scenarios...) }

// ScenarioIDs returns the scenario IDs in order.
func ScenarioIDs() []string {
	ids := make([]string, len(scenarios))
	for i, s := range scenarios {
		ids[i] = s.ID
	}
	return ids
}

// LookupScenario returns the scenario with the given ID (case-insensitive).
func LookupScenario(id string) (Scenario, error) {
	for _, s := range scenarios {
		if strings.EqualFold(s.ID, id) {
			return s, nil
		}
	}
	return Scenario{}, fmt.Errorf("bench: unknown scenario %q (available: %s)", id, strings.Join(ScenarioIDs(), ", "))
}
