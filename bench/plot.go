package bench

import (
	"fmt"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// PlotSeries is one bar series of a throughput plot: a label (an engine and
// partition count) and median rows/s per scenario ID (absent: no bar).
type PlotSeries struct {
	Label  string
	Values map[string]float64
}

// SeriesFromResults turns measured results into one series per partition
// count ("Velo ×N"); unmeasured results are left out.
func SeriesFromResults(rs []Result) []PlotSeries {
	var out []PlotSeries
	for _, p := range sortedPartitions(rs) {
		s := PlotSeries{Label: fmt.Sprintf("Velo ×%d", p), Values: map[string]float64{}}
		for _, r := range rs {
			if r.Partitions == p && r.RowsPerSec != nil {
				s.Values[r.Scenario] = *r.RowsPerSec
			}
		}
		out = append(out, s)
	}
	return out
}

// WritePlot draws grouped bars of M input rows/s per scenario, one bar per
// series, into path (.png or .svg).
func WritePlot(path, title string, scenarioIDs []string, series []PlotSeries) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".svg" {
		return fmt.Errorf("bench: plot %s: want a .png or .svg file", path)
	}
	if len(series) == 0 || len(scenarioIDs) == 0 {
		return fmt.Errorf("bench: plot %s: nothing to draw", path)
	}
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = "M input rows/s (median)"
	p.Y.Min = 0
	width := vg.Points(60 / float64(len(series)))
	for i, s := range series {
		vals := make(plotter.Values, len(scenarioIDs))
		for j, id := range scenarioIDs {
			vals[j] = s.Values[id] / 1e6
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return fmt.Errorf("bench: plot %s: series %s: %w", path, s.Label, err)
		}
		bars.LineStyle.Width = vg.Length(0)
		bars.Color = plotutil.Color(i)
		bars.Offset = width * vg.Length(float64(i)-float64(len(series)-1)/2)
		p.Add(bars)
		p.Legend.Add(s.Label, bars)
	}
	p.Legend.Top = true
	p.NominalX(scenarioIDs...)
	if err := p.Save(8*vg.Inch, 4.5*vg.Inch, path); err != nil {
		return fmt.Errorf("bench: plot %s: %w", path, err)
	}
	return nil
}
