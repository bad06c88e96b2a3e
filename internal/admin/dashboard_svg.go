package admin

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// The dashboard's charts are inline SVG drawn on the server: the functions
// here lay them out (every coordinate in viewBox units, rounded to whole
// units) and templates/charts.html writes the elements, so html/template
// escapes every label. The SVG scales to its box; its text scales with it.

// barValue is one bar of a chart: its label, its value, and the value as
// people read it.
type barValue struct {
	Label string
	// Sub is a second line under a column's label (the month under the
	// first day of it, say), or "".
	Sub   string
	Value int64
}

// columnChart is a vertical bar chart (sessions per day or month).
type columnChart struct {
	W, H        int
	Left, Right int // x of the plot's edges
	Top, Base   int // y of the plot's top and of its baseline
	Ticks       []tick
	Bars        []columnBar
	// ShowValues prints each value above its bar (when there is room).
	ShowValues bool
}

// tick is a horizontal grid line with its value.
type tick struct {
	Y     int
	Label string
}

// columnBar is one laid-out column.
type columnBar struct {
	X, Y, W, H int
	// Mid is the x of the bar's centre, for its labels.
	Mid         int
	Label, Sub  string
	ShowLabel   bool
	Value, Text string // Text is the value for people
	// Title is the bar's tooltip: its label and value.
	Title string
}

// Column charts are 1000 × 300 units.
const (
	colW, colH            = 1000, 300
	colLeft, colRight     = 60, 12
	colTop, colBottom     = 24, 46
	colMaxLabels          = 31 // columns labelled, at most
	maxValueLabelsColumns = 31
)

// newColumnChart lays out bars left to right.
func newColumnChart(bars []barValue, unit string) *columnChart {
	c := &columnChart{W: colW, H: colH, Left: colLeft, Right: colW - colRight, Top: colTop, Base: colH - colBottom,
		ShowValues: len(bars) <= maxValueLabelsColumns}
	var top int64
	for _, b := range bars {
		top = max(top, b.Value)
	}
	step, ceiling := niceScale(top)
	plotH := c.Base - c.Top
	for v := int64(0); v <= ceiling; v += step {
		c.Ticks = append(c.Ticks, tick{Y: c.Base - int(v*int64(plotH)/ceiling), Label: formatCount(v)})
	}
	if len(bars) == 0 {
		return c
	}
	slot := float64(c.Right-c.Left) / float64(len(bars))
	width := max(int(slot*0.72), 1)
	every := (len(bars) + colMaxLabels - 1) / colMaxLabels
	for i, b := range bars {
		h := int(b.Value * int64(plotH) / ceiling)
		mid := c.Left + int(slot*(float64(i)+0.5))
		c.Bars = append(c.Bars, columnBar{X: mid - width/2, Y: c.Base - h, W: width, H: h, Mid: mid,
			Label: b.Label, Sub: b.Sub, ShowLabel: i%every == 0 || b.Sub != "",
			Value: strconv.FormatInt(b.Value, 10), Text: formatCount(b.Value),
			Title: b.Label + " " + b.Sub + ": " + formatCount(b.Value) + " " + unit})
	}
	return c
}

// niceScale picks a grid step of 1, 2 or 5 times a power of ten giving
// about four lines up to a ceiling at or above top.
func niceScale(top int64) (step, ceiling int64) {
	if top <= 0 {
		return 1, 1
	}
	step = 1
	for {
		for _, m := range []int64{1, 2, 5} {
			if s := step * m; (top+s-1)/s <= 5 {
				return s, (top + s - 1) / s * s
			}
		}
		step *= 10
	}
}

// rowChart is a horizontal bar chart (READ levels, tags, Pages, queues).
type rowChart struct {
	W, H int
	// LabelX is where the labels end (right-aligned), BarX where the bars
	// start.
	LabelX, BarX int
	Rows         []chartRow
}

// chartRow is one laid-out row.
type chartRow struct {
	Y, BarY, BarW, BarH int
	TextY               int // baseline of the label and value
	ValueX              int
	Label               string // shortened to fit
	FullLabel           string
	Value, Text         string
}

// Row charts are 560 units wide, 28 per row; the labels take what the
// longest needs, up to rowMaxLabelW, at rowCharW units a character (a
// digit of 13-unit DejaVu Sans, the widest common case, is 8.3).
const (
	rowW, rowHeight, rowBar     = 560, 28, 18
	rowMinLabelW, rowMaxLabelW  = 60, 250
	rowValueW, rowCharW, rowGap = 64, 8.4, 10
)

// newRowChart lays out bars top to bottom.
func newRowChart(bars []barValue) *rowChart {
	longest := 0
	for _, b := range bars {
		longest = max(longest, utf8.RuneCountInString(b.Label))
	}
	labelW := min(max(int(math.Ceil(float64(longest)*rowCharW))+rowGap, rowMinLabelW), rowMaxLabelW)
	fits := int(math.Floor(float64(labelW-rowGap)/rowCharW + 1e-9))
	c := &rowChart{W: rowW, H: len(bars)*rowHeight + 8, LabelX: labelW - rowGap, BarX: labelW}
	var top int64
	for _, b := range bars {
		top = max(top, b.Value)
	}
	room := rowW - labelW - rowValueW
	for i, b := range bars {
		w := 0
		if top > 0 {
			w = int(b.Value * int64(room) / top)
		}
		if b.Value > 0 {
			w = max(w, 2)
		}
		y := 4 + i*rowHeight
		barY := y + (rowHeight-rowBar)/2
		c.Rows = append(c.Rows, chartRow{Y: y, BarY: barY, BarW: w, BarH: rowBar, TextY: barY + rowBar - 5,
			ValueX: labelW + w + 6, Label: shorten(b.Label, fits), FullLabel: b.Label,
			Value: strconv.FormatInt(b.Value, 10), Text: formatCount(b.Value)})
	}
	return c
}

// shorten cuts s to n characters, ending with an ellipsis when cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// heatMap is the weekday × hour chart.
type heatMap struct {
	W, H       int
	Hours      []heatLabel // column headings
	Days       []heatLabel // row headings
	Cells      []heatCell
	Legend     []heatLegend
	LegendY    int
	LegendText int // baseline of the legend's labels
}

// heatLabel is a heading at (X, Y).
type heatLabel struct {
	X, Y  int
	Label string
}

// heatCell is one hour of one weekday.
type heatCell struct {
	X, Y, W, H int
	TX, TY     int // where its number goes
	Fill       string
	// Dark says the cell is dark: its number is written in white.
	Dark        bool
	Value, Text string
	Title       string
}

// heatLegend is one swatch of the legend and the counts it stands for.
type heatLegend struct {
	X, W  int
	Fill  string
	Label string
}

// heatFills are the colours for no sessions, then for the five fifths of
// the busiest hour (ColorBrewer's sequential blues); from darkLevel on,
// numbers are written in white.
var heatFills = []string{"#f3f4f6", "#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"}

const darkLevel = 4

// Heat maps are 1000 units wide: weekday names, then 24 columns.
const (
	heatW, heatLeft, heatTop = 1000, 100, 30
	heatCellW, heatCellH     = 37, 32
)

// weekdays are the heat map's rows, Monday first, as in the reports.
var weekdays = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// newHeatMap lays out counts[weekday][hour].
func newHeatMap(counts *[7][24]int64) *heatMap {
	m := &heatMap{W: heatW}
	var top int64
	for d := range counts {
		for _, n := range counts[d] {
			top = max(top, n)
		}
	}
	for h := range 24 {
		m.Hours = append(m.Hours, heatLabel{X: heatLeft + h*heatCellW + heatCellW/2, Y: heatTop - 10, Label: hourLabel(h)})
	}
	for d, name := range weekdays {
		y := heatTop + d*heatCellH
		m.Days = append(m.Days, heatLabel{X: heatLeft - 10, Y: y + heatCellH/2 + 5, Label: name})
		for h, n := range counts[d] {
			level := heatLevel(n, top)
			x := heatLeft + h*heatCellW
			m.Cells = append(m.Cells, heatCell{X: x + 1, Y: y + 1, W: heatCellW - 2, H: heatCellH - 2,
				TX: x + heatCellW/2, TY: y + heatCellH/2 + 4, Fill: heatFills[level], Dark: level >= darkLevel,
				Value: strconv.FormatInt(n, 10), Text: formatCount(n),
				Title: name + " " + hourLabel(h) + ":00–" + hourLabel(h) + ":59: " + formatCount(n) + " sessions"})
		}
	}
	m.LegendY = heatTop + 7*heatCellH + 14
	m.LegendText = m.LegendY + 34
	m.H = m.LegendText + 8
	x := heatLeft
	add := func(level int, label string) {
		m.Legend = append(m.Legend, heatLegend{X: x, W: 90, Fill: heatFills[level], Label: label})
		x += 96
	}
	add(0, "0")
	for l := 1; l <= 5; l++ {
		lo, hi := top*int64(l-1)/5+1, top*int64(l)/5
		switch {
		case lo > hi:
			continue
		case lo == hi:
			add(l, formatCount(lo))
		default:
			add(l, formatCount(lo)+"–"+formatCount(hi))
		}
	}
	return m
}

// heatLevel is n's colour: 0 for none, else which fifth of top it is in.
func heatLevel(n, top int64) int {
	if n <= 0 || top <= 0 {
		return 0
	}
	return int((n*5 + top - 1) / top)
}

// hourLabel is "00" … "23".
func hourLabel(h int) string {
	if h < 10 {
		return "0" + strconv.Itoa(h)
	}
	return strconv.Itoa(h)
}
