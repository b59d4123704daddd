package sqlfront

// benchQueries are the BENCH.md scenario queries, verbatim.
var benchQueries = []struct{ name, sql string }{
	{"S0", "SELECT symbol, price, quantity, price * quantity AS notional FROM market_data WHERE price > 100.0"},
	{"S1", "SELECT symbol, trade_time, price, AVG(price) OVER w AS ma100, MIN(price) OVER w AS min100, MAX(price) OVER w AS max100 FROM market_data WINDOW w AS (PARTITION BY symbol ORDER BY trade_time ROWS BETWEEN 99 PRECEDING AND CURRENT ROW)"},
	{"S2", "SELECT symbol, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS min_price, MAX(price) AS max_price, SUM(quantity) AS total_quantity FROM market_data GROUP BY symbol"},
	{"S2h", "SELECT trader_id, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS min_price, MAX(price) AS max_price, SUM(quantity) AS total_quantity FROM market_data GROUP BY trader_id"},
	{"S3a", "SELECT symbol, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high, SUM(quantity) AS total_quantity, SUM(price * quantity) AS total_value FROM market_data GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE) EMIT FINAL"},
	{"S3b", "SELECT symbol, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high, SUM(quantity) AS total_quantity, SUM(price * quantity) AS total_value FROM market_data GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE) EMIT CHANGES"},
}
