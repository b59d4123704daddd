package sqlfront

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Setting keys accepted in WITH ('key' = 'value', ...).
const (
	SettingMaxOutOfOrderness    = "watermark.max_out_of_orderness"
	SettingLateDataStrategy     = "late.data.strategy"
	SettingPartitions           = "partitions"
	SettingPartitioningStrategy = "partitioning.strategy"
	SettingAllowedLateness      = "allowed.lateness"
	SettingChannelCapacity      = "channel.capacity"
)

// Settings are a query's validated WITH settings. The zero value means
// "nothing set": the engine's defaults apply.
type Settings struct {
	// Values holds every setting as written, keyed by lower-case key.
	Values map[string]string
	// MaxOutOfOrdernessMs is watermark.max_out_of_orderness in milliseconds,
	// valid when HasMaxOutOfOrderness.
	MaxOutOfOrdernessMs  int64
	HasMaxOutOfOrderness bool
	// AllowedLatenessMs is allowed.lateness in milliseconds, valid when
	// HasAllowedLateness.
	AllowedLatenessMs  int64
	HasAllowedLateness bool
	// LateDataStrategy is drop, warn or process; "" when unset.
	LateDataStrategy string
	// Partitions is the partition count; 0 when unset.
	Partitions int
	// PartitioningStrategy is hash, smart, sticky, round_robin or fan_in; ""
	// when unset.
	PartitioningStrategy string
	// ChannelCapacity is the per-partition channel capacity in batches; 0
	// when unset.
	ChannelCapacity int
}

var settingKeys = []string{SettingMaxOutOfOrderness, SettingLateDataStrategy, SettingPartitions,
	SettingPartitioningStrategy, SettingAllowedLateness, SettingChannelCapacity}

var lateStrategies = []string{"drop", "warn", "process"}
var partitioningStrategies = []string{"hash", "smart", "sticky", "round_robin", "fan_in"}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func positiveInt(key, v string, limit int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 || n > limit {
		return 0, fmt.Errorf("setting %q must be an integer in [1, %d], got %s", key, limit, quoteString(v))
	}
	return n, nil
}

// bindSettings validates the WITH clause.
func bindSettings(list []Setting) (Settings, error) {
	var s Settings
	if len(list) == 0 {
		return s, nil
	}
	s.Values = map[string]string{}
	for _, st := range list {
		key := strings.ToLower(strings.TrimSpace(st.Key))
		if _, dup := s.Values[key]; dup {
			return s, errAt(st.P, "setting %q given twice", key)
		}
		v := strings.TrimSpace(st.Value)
		var err error
		switch key {
		case SettingMaxOutOfOrderness, SettingAllowedLateness:
			var ms int64
			if ms, err = ParseDuration(v); err == nil {
				if key == SettingMaxOutOfOrderness {
					s.MaxOutOfOrdernessMs, s.HasMaxOutOfOrderness = ms, true
				} else {
					s.AllowedLatenessMs, s.HasAllowedLateness = ms, true
				}
			} else {
				err = fmt.Errorf("setting %q: %w", key, err)
			}
		case SettingLateDataStrategy:
			v = strings.ToLower(v)
			if !oneOf(v, lateStrategies) {
				err = fmt.Errorf("setting %q must be one of %s, got %s%s", key, strings.Join(lateStrategies, ", "), quoteString(st.Value), suggest(v, lateStrategies))
			}
			s.LateDataStrategy = v
		case SettingPartitions:
			s.Partitions, err = positiveInt(key, v, 4096)
		case SettingPartitioningStrategy:
			v = strings.ToLower(v)
			if !oneOf(v, partitioningStrategies) {
				err = fmt.Errorf("setting %q must be one of %s, got %s%s", key, strings.Join(partitioningStrategies, ", "), quoteString(st.Value), suggest(v, partitioningStrategies))
			}
			s.PartitioningStrategy = v
		case SettingChannelCapacity:
			s.ChannelCapacity, err = positiveInt(key, v, 1<<20)
		default:
			keys := append([]string(nil), settingKeys...)
			sort.Strings(keys)
			err = fmt.Errorf("unknown setting %q%s; known settings: %s", key, suggest(key, keys), strings.Join(keys, ", "))
		}
		if err != nil {
			return s, wrapAt(st.P, err, "%v", err)
		}
		s.Values[key] = v
	}
	return s, nil
}
