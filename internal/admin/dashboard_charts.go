package admin

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/askbridge/askbridge/stats"
)

// Each chart of the dashboard is built once from the dashboard's result,
// as a table of values; the page draws the chart and its data table from
// it, and GET /stats/chart.csv?chart=ID writes the same table as CSV, so
// a download holds exactly the numbers on the page.

// Chart IDs, the values of chart.csv's chart parameter.
const (
	chartSessions   = "sessions"
	chartHeatmap    = "heatmap"
	chartRead       = "read"
	chartTags       = "tags"
	chartPages      = "pages"
	chartChannels   = "channels"
	chartQueues     = "queues"
	chartLibrarians = "librarians"
)

// chartIDs lists the charts in the order of the page.
var chartIDs = []string{chartSessions, chartHeatmap, chartRead, chartTags, chartChannels, chartPages, chartQueues, chartLibrarians}

// chart is one chart of the dashboard and its data.
type chart struct {
	ID    string
	Title string
	// Desc sums the chart up for screen readers (the SVG's <desc>).
	Desc string
	// Note explains what is counted, under the chart.
	Note string
	// Wide charts take the page's whole width.
	Wide    bool
	Columns []column
	Rows    [][]value
	// One of these draws the chart; none for a table alone.
	Column *columnChart
	Row    *rowChart
	Heat   *heatMap
	// Empty replaces the chart when there is nothing to show.
	Empty string
	// CSV is the address of the chart's numbers as CSV.
	CSV string
}

// column is a column of a chart's table: its CSV name and its heading.
type column struct {
	Name, Header string
	Num          bool
}

// valueKind says how a value is shown.
type valueKind uint8

const (
	valText    valueKind = iota // text
	valCount                    // a count: 1,234 on the page, 1234 in CSV
	valSeconds                  // a wait: "1 min 20 s" on the page, 80 in CSV; none is "—" and empty
)

// value is one cell of a chart's table.
type value struct {
	kind valueKind
	n    int64
	none bool   // a wait that does not exist
	s    string // text, as people read it
	csv  string // text in CSV, when it differs from s
}

func textValue(s string) value { return value{kind: valText, s: s} }
func countValue(n int64) value { return value{kind: valCount, n: n} }

func waitValue(p *int64) value {
	if p == nil {
		return value{kind: valSeconds, none: true}
	}
	return value{kind: valSeconds, n: *p}
}

// HTML is the value as the page shows it (html/template escapes it).
func (v value) HTML() string {
	switch v.kind {
	case valCount:
		return formatCount(v.n)
	case valSeconds:
		if v.none {
			return formatWait(nil)
		}
		return formatWait(&v.n)
	}
	return v.s
}

// CSV is the value in the chart's CSV.
func (v value) CSV() string {
	switch {
	case v.kind == valSeconds && v.none:
		return ""
	case v.kind != valText:
		return strconv.FormatInt(v.n, 10)
	case v.csv != "":
		return v.csv
	}
	return v.s
}

// Num reports whether the value is a number, aligned right.
func (v value) Num() bool { return v.kind != valText }

// writeCSV writes the chart's table as CSV.
func (c *chart) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := make([]string, len(c.Columns))
	for i, col := range c.Columns {
		head[i] = col.Name
	}
	_ = cw.Write(head)
	rec := make([]string, len(c.Columns))
	for _, row := range c.Rows {
		for i, v := range row {
			rec[i] = v.CSV()
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("admin: writing chart %s as CSV: %w", c.ID, err)
	}
	return nil
}

// countColumns are the columns of a stats.Counts, as in the reports.
var countColumns = []column{
	{Name: "sessions", Header: "Sessions", Num: true},
	{Name: "answered", Header: "Answered", Num: true},
	{Name: "questions", Header: "Questions", Num: true},
}

func countValues(c stats.Counts) []value {
	return []value{countValue(c.Sessions), countValue(c.Answered), countValue(c.Questions)}
}

// buildCharts makes every chart of res; csvQuery is the query string that
// selects the same period and zone.
func buildCharts(res *stats.DashboardResult, csvQuery url.Values) []*chart {
	charts := []*chart{sessionsChart(res), heatmapChart(res), readChart(res), tagsChart(res), channelsChart(res),
		pagesChart(res), queuesChart(res), librariansChart(res)}
	for _, c := range charts {
		v := url.Values{"chart": {c.ID}}
		for k, vs := range csvQuery {
			v[k] = vs
		}
		c.CSV = cookiePath + "chart.csv?" + v.Encode()
	}
	return charts
}

// chartByID returns the chart with that ID, or nil.
func chartByID(charts []*chart, id string) *chart {
	for _, c := range charts {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func sessionsChart(res *stats.DashboardResult) *chart {
	c := &chart{ID: chartSessions, Wide: true, Title: "Sessions per " + res.Unit,
		Note:    "Every finished session, whatever its status, counted on the " + res.Unit + " it started.",
		Columns: append([]column{{Name: res.Unit, Header: capitalize(res.Unit)}}, countColumns...)}
	bars := make([]barValue, len(res.Periods))
	busiest := -1
	for i, p := range res.Periods {
		c.Rows = append(c.Rows, append([]value{textValue(p.Label)}, countValues(p.Counts)...))
		bars[i] = periodBar(res.Unit, p, i == 0)
		if busiest < 0 || p.Sessions > res.Periods[busiest].Sessions {
			busiest = i
		}
	}
	c.Column = newColumnChart(bars, "sessions")
	c.Desc = fmt.Sprintf("Bar chart of the sessions per %s from %s to %s.", res.Unit, res.From, res.To)
	if busiest >= 0 && res.Periods[busiest].Sessions > 0 {
		p := res.Periods[busiest]
		c.Desc += fmt.Sprintf(" The busiest %s was %s, with %s sessions.", res.Unit, p.Label, formatCount(p.Sessions))
	}
	return c
}

// periodBar labels a period's column: the day of the month (the month
// under the first day of each), the month (the year under January), or
// the year.
func periodBar(unit string, p stats.DashboardPeriod, first bool) barValue {
	t := p.Start
	b := barValue{Value: p.Sessions}
	switch unit {
	case stats.UnitDay:
		b.Label = strconv.Itoa(t.Day())
		if first || t.Day() == 1 {
			b.Sub = t.Format("Jan")
		}
	case stats.UnitMonth:
		b.Label = t.Format("Jan")
		if first || t.Month() == time.January {
			b.Sub = strconv.Itoa(t.Year())
		}
	default:
		b.Label = strconv.Itoa(t.Year())
	}
	return b
}

func heatmapChart(res *stats.DashboardResult) *chart {
	c := &chart{ID: chartHeatmap, Wide: true, Title: "Sessions by weekday and hour",
		Note:    "Each square counts the sessions that started in that hour, on the clock of " + res.Location.String() + ". Darker is busier.",
		Columns: []column{{Name: "weekday", Header: "Weekday"}}}
	for h := range 24 {
		c.Columns = append(c.Columns, column{Name: strconv.Itoa(h), Header: hourLabel(h), Num: true})
	}
	c.Columns = append(c.Columns, column{Name: "total", Header: "Total", Num: true})
	bd, bh := -1, -1
	for d, hours := range res.Heatmap {
		row := []value{textValue(weekdays[d])}
		var total int64
		for h, n := range hours {
			row = append(row, countValue(n))
			total += n
			if n > 0 && (bd < 0 || n > res.Heatmap[bd][bh]) {
				bd, bh = d, h
			}
		}
		c.Rows = append(c.Rows, append(row, countValue(total)))
	}
	c.Heat = newHeatMap(&res.Heatmap)
	c.Desc = "Heat map of the sessions by weekday (rows, Monday first) and hour of the day (columns, 00 to 23)."
	if bd >= 0 {
		c.Desc += fmt.Sprintf(" The busiest hour was %s %s:00, with %s sessions.", weekdays[bd], hourLabel(bh), formatCount(res.Heatmap[bd][bh]))
	}
	return c
}

func readChart(res *stats.DashboardResult) *chart {
	c := &chart{ID: chartRead, Title: "Questions by READ level",
		Note: "Questions of answered sessions by the READ level the librarian recorded (!read N). " +
			"Levels 1–2 are directional; reference transactions are the questions at levels 3–6 and those not classified.",
		Columns: append([]column{{Name: "level", Header: "READ level"}}, countColumns...)}
	var bars []barValue
	for _, g := range res.ReadLevels {
		label := "Level " + g.Label
		if g.Key == "not_classified" {
			label = "Not classified"
		}
		c.Rows = append(c.Rows, append([]value{{kind: valText, s: label, csv: g.Key}}, countValues(g.Counts)...))
		bars = append(bars, barValue{Label: label, Value: g.Questions})
	}
	c.Row = newRowChart(bars)
	c.Desc = "Bar chart of the questions at each READ level, 1 to 6, and of those not classified."
	return c
}

func tagsChart(res *stats.DashboardResult) *chart {
	c := &chart{ID: chartTags, Title: "Top tags",
		Columns: append([]column{{Name: "tag", Header: "Tag"}}, countColumns...)}
	c.Note = "Sessions per tag (!tag), the " + strconv.Itoa(stats.DashboardTopTags) + " most used; a session counts once in each of its tags."
	if res.OtherTags > 0 {
		c.Note += fmt.Sprintf(" %s more tags are not shown.", formatCount(int64(res.OtherTags)))
	}
	c.Note += fmt.Sprintf(" Sessions without a tag: %s.", formatCount(res.Untagged.Sessions))
	var bars []barValue
	for _, g := range res.Tags {
		c.Rows = append(c.Rows, append([]value{textValue(g.Label)}, countValues(g.Counts)...))
		bars = append(bars, barValue{Label: g.Label, Value: g.Sessions})
	}
	c.Row = newRowChart(bars)
	c.Desc = "Bar chart of the sessions per tag, the most used first."
	if len(res.Tags) == 0 {
		c.Empty = "No session of this period has a tag."
	}
	return c
}

func pagesChart(res *stats.DashboardResult) *chart {
	c := groupChart(res.Pages, column{Name: "page", Header: "Page"}, column{Name: "page_id", Header: "Page ID", Num: true})
	c.ID, c.Title, c.Desc = chartPages, "Sessions per Facebook Page", "Bar chart of the sessions per Facebook Page."
	c.Note = "Every finished session, by the Page the patron wrote to."
	if len(res.Pages) == 0 {
		c.Empty = "No sessions in this period."
	}
	return c
}

func channelsChart(res *stats.DashboardResult) *chart {
	c := groupChart(res.Channels, column{Name: "channel", Header: "Channel"}, column{Name: "protocol", Header: "Protocol column of the exports"})
	c.ID, c.Title, c.Desc = chartChannels, "Sessions per channel", "Bar chart of the sessions per channel, Messenger and Instagram."
	c.Note = "Every finished session, by where the patron wrote: Facebook Messenger or Instagram Direct."
	return c
}

// groupChart is a bar chart of groups with a column for each group's
// label and one for its key, then the counts.
func groupChart(groups []stats.DashboardGroup, label, key column) *chart {
	c := &chart{Columns: append([]column{label, key}, countColumns...)}
	var bars []barValue
	for _, g := range groups {
		c.Rows = append(c.Rows, append([]value{textValue(g.Label), textValue(g.Key)}, countValues(g.Counts)...))
		bars = append(bars, barValue{Label: g.Label, Value: g.Sessions})
	}
	c.Row = newRowChart(bars)
	return c
}

func queuesChart(res *stats.DashboardResult) *chart {
	c := &chart{ID: chartQueues, Title: "Sessions per queue",
		Note: "Every finished session, by the queue it was routed to; the median wait is of its answered sessions.",
		Columns: append(append([]column{{Name: "queue", Header: "Queue"}}, countColumns...),
			column{Name: "median_wait", Header: "Median wait", Num: true})}
	var bars []barValue
	for _, g := range res.Queues {
		c.Rows = append(c.Rows, append(append([]value{textValue(g.Label)}, countValues(g.Counts)...), waitValue(g.MedianWait)))
		bars = append(bars, barValue{Label: g.Label, Value: g.Sessions})
	}
	c.Row = newRowChart(bars)
	c.Desc = "Bar chart of the sessions per queue."
	if len(res.Queues) == 0 {
		c.Empty = "No sessions in this period."
	}
	return c
}

func librariansChart(res *stats.DashboardResult) *chart {
	c := &chart{ID: chartLibrarians, Wide: true, Title: "Librarians",
		Note: "Answered sessions by the librarian who replied first, and how long patrons waited for that reply.",
		Columns: []column{{Name: "operator", Header: "Librarian"}, {Name: "answered", Header: "Answered sessions", Num: true},
			{Name: "median_wait", Header: "Median wait", Num: true}}}
	for _, o := range res.Operators {
		name := o.Operator
		if name == "" {
			name = "(not recorded)"
		}
		c.Rows = append(c.Rows, []value{textValue(name), countValue(o.Answered), waitValue(o.MedianWait)})
	}
	if len(res.Operators) == 0 {
		c.Empty = "No session of this period was answered."
	}
	return c
}

// capitalize upper-cases the first letter of an ASCII word.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
