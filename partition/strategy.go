package partition

import (
	"fmt"
	"strings"
)

// Strategy is how a router assigns rows to partitions (DESIGN.md,
// Partitioning strategies).
type Strategy uint8

const (
	// Hash (AlwaysHash) routes each row by the hash of its key columns, so
	// every key lives in exactly one partition: GROUP BY, time windows,
	// ROWS windows with PARTITION BY.
	Hash Strategy = iota
	// Smart (SmartRepartition) keeps a source's own partition when the
	// source declares it is already partitioned by the same key columns,
	// and hashes otherwise.
	Smart
	// Sticky sends every batch of a source to that source's partition:
	// stateless queries; keeps the order per source partition.
	Sticky
	// RoundRobin deals whole batches over the partitions: in rotation
	// while their input queues are even, else to the first with the
	// shortest queue (so a partition that falls behind gets fewer);
	// stateless queries, or aggregation run two-phase (partial + merge).
	RoundRobin
	// FanIn sends everything to partition 0: global aggregates, the final
	// stage of ORDER BY/LIMIT.
	FanIn
	// Window routes each row by the event-time window it falls into:
	// partition ⌊t ÷ Config.WindowSize⌋ mod N (Config.EventTimeColumn;
	// rows without an event time go to partition 0). A tumbling window's
	// groups are (window, keys), so each group lives in one partition, as
	// under Hash, while a record inside one window goes whole to one
	// partition: no key hashing, no selection vectors, and each partition
	// does per row what one partition would. The planner picks it for
	// keyed tumbling windows whose windows hold a few records each (exec);
	// it is not a query setting (ParseStrategy rejects it). It is correct
	// only for a tumbling window of length WindowSize over
	// EventTimeColumn, which ValidateStrategy cannot check.
	Window
)

var strategyNames = [...]string{Hash: "hash", Smart: "smart", Sticky: "sticky", RoundRobin: "round_robin", FanIn: "fan_in", Window: "window"}

// String returns the strategy's name as written in a query setting
// ('partitioning.strategy' = 'hash'); "window" names the planner's
// internal Window strategy, which is no setting.
func (s Strategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", uint8(s))
}

// ParseStrategy parses a strategy name, case-insensitively. It accepts the
// names String returns and the long forms "always_hash" and
// "smart_repartition".
func ParseStrategy(name string) (Strategy, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "hash", "always_hash", "alwayshash":
		return Hash, nil
	case "smart", "smart_repartition", "smartrepartition":
		return Smart, nil
	case "sticky":
		return Sticky, nil
	case "round_robin", "roundrobin", "round-robin":
		return RoundRobin, nil
	case "fan_in", "fanin", "fan-in":
		return FanIn, nil
	}
	return 0, fmt.Errorf("partition: unknown partitioning strategy %q (want hash, smart, sticky, round_robin or fan_in)", name)
}

// ValidateStrategy reports whether strategy s may run a query. stateful
// means the query keeps state per key (GROUP BY, time windows, ROWS windows
// with PARTITION BY); twoPhase means that state is computed as partials per
// partition and merged afterwards, so a key may be spread over partitions.
// The error says why a choice is invalid.
func ValidateStrategy(s Strategy, stateful, twoPhase bool) error {
	switch s {
	case Hash, Smart, FanIn, Window:
		return nil
	case Sticky, RoundRobin:
		if stateful && !twoPhase {
			how := "rotates batches over the partitions"
			if s == Sticky {
				how = "routes by source partition, not by key"
			}
			return fmt.Errorf("partition: strategy %s is invalid for a single-phase stateful query (GROUP BY or window): it %s, so rows of one key reach several partitions and each would produce its own partial result; use hash, or run the aggregation two-phase (partial + merge)", s, how)
		}
		return nil
	}
	return fmt.Errorf("partition: unknown partitioning strategy %s", s)
}

// LatePolicy is what happens to a late row: one whose event time is below
// the watermark of the source it arrives on.
type LatePolicy uint8

const (
	// LateProcess processes late rows and counts them.
	LateProcess LatePolicy = iota
	// LateWarn processes late rows, counts them and logs a warning at most
	// once per second.
	LateWarn
	// LateDrop drops late rows at the router and counts them as dropped.
	LateDrop
)

var latePolicyNames = [...]string{LateProcess: "process", LateWarn: "warn", LateDrop: "drop"}

// String returns the policy's name as written in 'late.data.strategy'.
func (p LatePolicy) String() string {
	if int(p) < len(latePolicyNames) {
		return latePolicyNames[p]
	}
	return fmt.Sprintf("LatePolicy(%d)", uint8(p))
}

// ParseLatePolicy parses "drop", "warn" or "process" (case-insensitive).
func ParseLatePolicy(name string) (LatePolicy, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "process":
		return LateProcess, nil
	case "warn":
		return LateWarn, nil
	case "drop":
		return LateDrop, nil
	}
	return 0, fmt.Errorf("partition: unknown late data strategy %q (want drop, warn or process)", name)
}
