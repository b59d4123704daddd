// Package sqlfront is Velo's SQL front end: it turns query text into a typed
// logical plan that exec/ compiles into partition pipelines. It runs before
// any data flows: Tokenize → Parse (syntax tree, printable back to SQL) →
// Bind/Plan (names, types, the logical plan) → Explain. It imports nothing of
// Velo's other packages; types are Arrow data types.
//
// The entry point for an executor is Plan(sql, catalog), which returns a
// *Query whose Root is a tree of plan nodes (Scan, Filter, Aggregate, Window,
// Project, Distinct, Sort, Limit) over bound expressions (ColRef, Const,
// Unary, Binary, ...), each typed with its Arrow data type and nullability.
//
// # Grammar
//
// Keywords are case-insensitive. Reserved keywords (SELECT FROM WHERE GROUP
// BY HAVING ORDER LIMIT OFFSET AS AND OR NOT IN BETWEEN LIKE IS NULL TRUE
// FALSE CASE WHEN THEN ELSE END CAST DISTINCT WINDOW EMIT WITH OVER EXPLAIN
// ASC DESC ALL) must be "quoted" to be used as names; every other word of the
// grammar (TUMBLING, ROWS, INTERVAL, FIRST, PARTITION, ...) is contextual and
// remains a valid column name. Unquoted identifiers fold to lower case;
// "quoted" ones keep their case; lookups are case-insensitive (as DuckDB).
// Comments are -- to end of line and /* ... */. Positions are line:column,
// 1-based, columns counting code points.
//
//	query        = [ "EXPLAIN" ] select [ ";" ] .
//	select       = "SELECT" [ "DISTINCT" | "ALL" ] item { "," item }
//	               "FROM" ident [ [ "AS" ] ident ] { clause } .
//	item         = "*" | ident "." "*" | expr [ [ "AS" ] ident ] .
//	clause       = "WHERE" expr
//	             | "GROUP" "BY" expr { "," expr }
//	             | "HAVING" expr
//	             | "WINDOW" ident "AS" window_spec { "," ident "AS" window_spec }
//	             | "ORDER" "BY" order_item { "," order_item }
//	             | "LIMIT" int | "OFFSET" int
//	             | time_window | emit | settings .
//	time_window  = "WINDOW" ( "TUMBLING" "(" [ expr "," ] duration ")"
//	                        | "SLIDING" "(" [ expr "," ] duration "," duration ")"
//	                        | "SESSION" "(" [ expr "," ] duration ")" ) .
//	emit         = "EMIT" ( "CHANGES" | "FINAL" ) .
//	settings     = "WITH" "(" string "=" value { "," string "=" value } ")" .
//	value        = string | int | number | duration_tok | ident .
//	order_item   = expr [ "ASC" | "DESC" ] [ "NULLS" ( "FIRST" | "LAST" ) ] .
//	window_spec  = "(" [ buffer ] [ "PARTITION" "BY" expr { "," expr } ]
//	               [ "ORDER" "BY" order_item { "," order_item } ] [ frame | buffer ] ")" .
//	buffer       = "ROWS" "WINDOW" "BUFFER" int "ROWS" .
//	frame        = "ROWS" ( bound | "BETWEEN" bound "AND" bound ) .
//	bound        = "UNBOUNDED" "PRECEDING" | int "PRECEDING" | "CURRENT" "ROW"
//	             | int "FOLLOWING" | "UNBOUNDED" "FOLLOWING" .
//	expr         = expr "OR" expr | expr "AND" expr | "NOT" expr
//	             | expr cmp_op expr | expr "IS" [ "NOT" ] "NULL"
//	             | expr [ "NOT" ] "IN" "(" expr { "," expr } ")"
//	             | expr [ "NOT" ] "BETWEEN" expr "AND" expr
//	             | expr [ "NOT" ] "LIKE" expr
//	             | expr "||" expr | expr ( "+" | "-" ) expr | expr ( "*" | "/" | "//" | "%" ) expr
//	             | ( "-" | "+" ) expr | expr "::" type | primary .
//	cmp_op       = "=" | "<>" | "!=" | "<" | "<=" | ">" | ">=" .
//	primary      = int | number | string | duration_tok | "TRUE" | "FALSE" | "NULL"
//	             | ( "TIMESTAMP" | "DATE" ) string | interval
//	             | ident [ "." ident ] | call | case | cast | "(" expr ")" .
//	interval     = "INTERVAL" ( string [ unit ] | int unit ) .
//	unit         = "MILLISECOND" | "SECOND" | "MINUTE" | "HOUR" | "DAY" (plural forms too) .
//	duration     = interval | duration_tok .
//	duration_tok = int ( "ms" | "s" | "m" | "h" | "d" ) .  (no space: 500ms, 1m)
//	call         = ident "(" [ "*" | [ "DISTINCT" | "ALL" ] expr { "," expr } ] ")"
//	               [ "OVER" ( ident | window_spec ) ] .
//	case         = "CASE" [ expr ] "WHEN" expr "THEN" expr { "WHEN" expr "THEN" expr }
//	               [ "ELSE" expr ] "END" .
//	cast         = "CAST" "(" expr "AS" type ")" .
//	type         = ident [ "PRECISION" ] [ "(" int { "," int } ")" ] .
//
// Operator precedence, loosest first: OR < AND < NOT < comparison, IS, IN,
// BETWEEN, LIKE < || < + - < * / // % < unary - + < ::. Binary operators
// associate to the left. The bounds of BETWEEN and the LIKE pattern bind
// tighter than comparison, so "a BETWEEN 1 AND 2 AND b" is
// "(a BETWEEN 1 AND 2) AND b".
//
// Clause order: the standard clauses keep their SQL order (WHERE, GROUP BY,
// HAVING, WINDOW name AS, ORDER BY, LIMIT, OFFSET); the streaming clauses
// (WINDOW TUMBLING/SLIDING/SESSION, EMIT, WITH) may stand at any clause
// boundary after FROM, each at most once: every clause starts with a
// reserved keyword, so this is unambiguous. The printer writes them in the
// order of the select rule above.
//
// # Streaming syntax
//
// Two families express event-time windows and both bind to the same
// Aggregate.Window:
//
//   - Velostream: GROUP BY k WINDOW TUMBLING(ts, INTERVAL '1' MINUTE),
//     SLIDING([ts,] size, slide), SESSION([ts,] gap). Without the time column
//     the table's event-time column is used (the schema field whose metadata
//     has velo.event_time = "true", as columnar.EventTimeField declares it).
//   - Flink/Calcite: GROUP BY k, TUMBLE(ts, size), HOP(ts, slide, size),
//     SESSION(ts, gap). Note Flink's HOP takes the slide BEFORE the size,
//     unlike SLIDING(size, slide). TUMBLE_START/HOP_START/SESSION_START(...)
//     and the _END forms in the select list mean window_start / window_end.
//
// In both, window_start and window_end are columns of the grouped result
// (same type as the time column). Durations are INTERVAL '1' MINUTE,
// INTERVAL '1 minute', or 1m / 500ms; they bind to milliseconds.
//
// Analytic windows: f(args) OVER (PARTITION BY ... ORDER BY ... ROWS BETWEEN
// n PRECEDING AND CURRENT ROW), Velostream's OVER (ROWS WINDOW BUFFER n ROWS
// PARTITION BY ... ORDER BY ...) which means ROWS BETWEEN n-1 PRECEDING AND
// CURRENT ROW, and named windows (OVER w ... WINDOW w AS (...)).
//
// # Types
//
// The binder follows DuckDB: integer arithmetic yields int64 (Velo computes
// all integer arithmetic in int64; DuckDB would keep INTEGER + INTEGER as
// INTEGER), any float operand makes the result float64, and "/" is
// floating-point division: int / int is float64, as in DuckDB since 0.8
// (integer_division = false). Division by zero follows DuckDB 1.1+ (its
// default ieee_floating_point_ops): "/" gives ±inf or NaN as IEEE 754 says,
// integer "%" by zero gives NULL (so integer "%" is nullable), float "%" NaN.
// "//" is DuckDB's integer division (integers only, NULL for a zero divisor).
// Integer overflow is a run-time error, never a wrap. Implicit conversions
// are made explicit as Cast nodes (int32 → int64, integers → float64, NULL →
// the other operand's type, string literals → timestamp/date next to a
// temporal operand), so an executor sees operands of one type.
//
// Aggregate result types are DuckDB's: COUNT → int64, SUM(float) → float64,
// AVG → float64, MIN/MAX/FIRST/LAST → the input type, STDDEV_*/VAR_* →
// float64, APPROX_COUNT_DISTINCT → int64; SUM(integer) → int64 (DuckDB
// widens it to HUGEINT; Velo keeps int64 and makes overflow a run-time
// error).
//
// Numeric literals with a decimal point or exponent are float64 (DuckDB
// would make 100.0 a DECIMAL; Velo has no decimal type). Scalar functions
// on integers return int64 and on floats float64 (ABS, ROUND, FLOOR, CEIL);
// TIME_BUCKET(width, t) (DuckDB's argument order) and DATE_TRUNC('unit', t)
// keep t's type (int64 milliseconds or timestamp) and accept fixed-width
// units only (millisecond to day). CAST(x AS TIMESTAMP) is microseconds as in
// DuckDB; TIMESTAMP_S/_MS/_NS pick another unit. Comparisons and IN/BETWEEN
// lists bring operands to a common type; a constant adapts to the column
// when it converts exactly (id = 1 keeps an int32 column uncast; a string
// literal next to a timestamp is parsed as one). A string never converts to
// a number implicitly: 'abc' + 1 and symbol = 1 are bind errors.
//
// # Binding rules
//
//   - Names: tables and columns are matched case-insensitively (an exact-case
//     match wins when a schema has names differing only in case; otherwise
//     the reference is ambiguous). Unknown names are errors that suggest the
//     nearest name by edit distance.
//   - GROUP BY accepts expressions, select-list ordinals (GROUP BY 1) and
//     select aliases (a table column of the same name wins, as in DuckDB).
//     In a grouped query every select, HAVING and ORDER BY expression must
//     be a group key, built from group keys, or inside an aggregate.
//     HAVING without GROUP BY makes a global aggregate.
//   - ORDER BY accepts ordinals, select aliases (they win over columns) and
//     expressions; an expression not in the select list is computed as a
//     hidden column and dropped after the sort (not allowed with DISTINCT).
//     NULLs sort last in both directions unless NULLS FIRST is given
//     (DuckDB's default).
//   - WHERE and HAVING may name a select alias that is not a table column
//     (DuckDB allows this too); WHERE admits no aggregates and no window
//     functions, HAVING no window functions.
//   - Aggregates: DISTINCT only in COUNT. Window functions may take
//     aggregates as arguments (RANK() OVER (ORDER BY SUM(x))).
//   - OVER: ROWS frames only (RANGE/GROUPS are errors). Without a frame, an
//     ordered window runs from the partition start to the current row (as
//     ROWS, so peers with equal ORDER BY keys are not grouped as RANGE
//     would), an unordered one spans the partition. COUNT, SUM, AVG, MIN, MAX
//     are moving aggregates; LAG/LEAD take a constant offset (default 1) and
//     a default value.
//   - Time windows: the time column must be int64 milliseconds or a
//     timestamp; durations are positive milliseconds. EMIT defaults to
//     FINAL. window_start/window_end exist only in windowed queries.
//   - WITH settings are validated: watermark.max_out_of_orderness and
//     allowed.lateness (durations: 5s, 500ms, '10 seconds', or integer ms),
//     late.data.strategy (drop|warn|process), partitions (1..4096),
//     partitioning.strategy (hash|smart|sticky|round_robin|fan_in),
//     channel.capacity (batches). Unknown keys are errors suggesting the
//     nearest key. A strategy that cannot run the query is an error saying
//     why: hash without a GROUP BY/PARTITION BY key, sticky with state,
//     round_robin with OVER windows.
//
// # Plan shape
//
// Plan builds, bottom-up: Scan (only the mentioned columns, in table order)
// → Filter (WHERE) → Aggregate (group keys, then window_start/window_end,
// then aggregates) → Filter (HAVING) → Window (input columns, then one
// column per analytic call) → Project (select list, plus hidden ORDER BY
// columns) → Distinct → Sort → Project (dropping hidden columns) → Limit.
// Each node is present only when needed. Every BoundExpr's column indices
// refer to its node's input schema.
package sqlfront
