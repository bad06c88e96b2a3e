package admin

import (
	"fmt"
	"testing"
)

func TestNiceScale(t *testing.T) {
	for _, tc := range []struct{ top, step, ceiling int64 }{
		{0, 1, 1}, {1, 1, 1}, {4, 1, 4}, {5, 1, 5}, {6, 2, 6}, {42, 10, 50}, {50, 10, 50}, {51, 20, 60},
		{999, 200, 1000}, {12345, 5000, 15000},
	} {
		if step, ceiling := niceScale(tc.top); step != tc.step || ceiling != tc.ceiling {
			t.Errorf("%d: step %d up to %d, want %d up to %d", tc.top, step, ceiling, tc.step, tc.ceiling)
		}
	}
}

func TestHeatMapLevels(t *testing.T) {
	var counts [7][24]int64
	counts[0][9], counts[1][10], counts[6][23] = 1, 10, 5
	m := newHeatMap(&counts)
	if len(m.Cells) != 7*24 {
		t.Fatalf("%d cells", len(m.Cells))
	}
	if c := m.Cells[9]; c.Fill != heatFills[1] || c.Dark {
		t.Errorf("1 of 10: %+v", c)
	}
	if c := m.Cells[24+10]; c.Fill != heatFills[5] || !c.Dark {
		t.Errorf("10 of 10: %+v", c)
	}
	if c := m.Cells[6*24+23]; c.Fill != heatFills[3] || c.Title != "Sunday 23:00–23:59: 5 sessions" {
		t.Errorf("5 of 10: %+v", c)
	}
	var labels []string
	for _, l := range m.Legend {
		labels = append(labels, l.Label)
	}
	if got := fmt.Sprint(labels); got != "[0 1–2 3–4 5–6 7–8 9–10]" {
		t.Errorf("legend %s", got)
	}
	// A busiest hour of 3 sessions has no empty fifths in its legend.
	counts = [7][24]int64{}
	counts[2][12] = 3
	labels = nil
	for _, l := range newHeatMap(&counts).Legend {
		labels = append(labels, l.Label)
	}
	if got := fmt.Sprint(labels); got != "[0 1 2 3]" {
		t.Errorf("legend of 3: %s", got)
	}
}

func TestRowChartLabels(t *testing.T) {
	c := newRowChart([]barValue{{Label: "Central Library", Value: 10}, {Label: "branches@chat.libraryh3lp.com and more", Value: 0}})
	if c.Rows[0].Label != "Central Library" || c.Rows[0].BarW != rowW-c.BarX-rowValueW || c.Rows[1].BarW != 0 {
		t.Errorf("rows %+v", c.Rows)
	}
	if got := c.Rows[1].Label; got != "branches@chat.libraryh3lp.c…" || c.Rows[1].FullLabel != "branches@chat.libraryh3lp.com and more" {
		t.Errorf("long label %q", got)
	}
	short := newRowChart([]barValue{{Label: "Level 1", Value: 3}})
	if short.BarX != 69 { // ⌈7 × 8.4⌉ + 10
		t.Errorf("label room %d for 7 characters", short.BarX)
	}
	if tiny := newRowChart([]barValue{{Label: "a", Value: 3}}); tiny.BarX != rowMinLabelW {
		t.Errorf("label room %d for 1 character", tiny.BarX)
	}
}
