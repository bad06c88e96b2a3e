package stats

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// DashboardTopTags is how many tags the dashboard lists, the most used
// first.
const DashboardTopTags = 10

// dailyLimit is the longest period, in days, whose sessions the dashboard
// counts per day; longer ones are counted per month, and periods of more
// than yearlyAfter months per year.
const (
	dailyLimit  = 62
	yearlyAfter = 240
)

// Period units of DashboardResult.Unit.
const (
	UnitDay   = "day"
	UnitMonth = "month"
	UnitYear  = "year"
)

// A Dashboard accumulates, in one pass over a period's sessions, every
// figure of the /stats/ dashboard. Its headline figures come from Totals,
// so they are those of the summary report for the same period and zone.
// Like the summary, it counts every finished session of the query's
// channel (Query.Protocol; both when empty) that started within the
// query's range, whatever the query's status and duration filters.
//
// Add the sessions in any order, then call Result once. A Dashboard is
// not safe for concurrent use.
type Dashboard struct {
	q          Query
	loc        *time.Location
	start, end time.Time
	totals     Totals
	unit       string
	first      int // number of the first period (civil day, month or year)
	periods    []tally
	heatmap    [7][24]int64
	tags       map[string]*tally
	untagged   tally
	pages      map[string]*tally
	channels   map[string]*tally
	queues     map[string]*queueTally
	operators  map[string]*operatorTally
}

// NewDashboard checks the query's dates and channel (an error matches
// ErrInvalidQuery; its report, format and filters do not matter) and
// returns an empty Dashboard for its range, zone and channel.
func NewDashboard(q Query) (*Dashboard, error) {
	check := q
	check.Report, check.Format, check.MinDuration = "", "", 0 // unused here
	if err := check.Validate(); err != nil {
		return nil, err
	}
	d := &Dashboard{q: q, loc: q.location(), tags: map[string]*tally{}, pages: map[string]*tally{},
		channels: map[string]*tally{ProtocolFacebook: {}, ProtocolInstagram: {}},
		queues:   map[string]*queueTally{}, operators: map[string]*operatorTally{}}
	d.start, d.end = q.Range()
	from, _ := time.Parse(dateLayout, q.From)
	to, _ := time.Parse(dateLayout, q.To)
	var last int
	switch days := civilDay(to) - civilDay(from) + 1; {
	case days <= dailyLimit:
		d.unit, d.first, last = UnitDay, civilDay(from), civilDay(to)
	case monthNumber(to)-monthNumber(from) < yearlyAfter:
		d.unit, d.first, last = UnitMonth, monthNumber(from), monthNumber(to)
	default:
		d.unit, d.first, last = UnitYear, from.Year(), to.Year()
	}
	d.periods = make([]tally, last-d.first+1)
	return d, nil
}

// civilDay numbers the calendar date of t (its year, month and day in
// t's own zone), so consecutive dates differ by 1.
func civilDay(t time.Time) int {
	y, m, day := t.Date()
	return int(time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Add counts s if it has ended, started within the query's range and is
// of the query's channel; other sessions are skipped. Add only reads s and does not keep it or
// its Tags slice (it may keep its strings).
func (d *Dashboard) Add(s *Session) {
	if s.Open() || s.Started.Before(d.start) || !s.Started.Before(d.end) || !d.q.ofProtocol(s) {
		return
	}
	d.totals.Add(s)
	t := s.Started.In(d.loc)
	var p int
	switch d.unit {
	case UnitDay:
		p = civilDay(t)
	case UnitMonth:
		p = monthNumber(t)
	default:
		p = t.Year()
	}
	if i := p - d.first; i >= 0 && i < len(d.periods) {
		d.periods[i].add(s)
	}
	d.heatmap[weekdayIndex(t)][t.Hour()]++
	if len(s.Tags) == 0 {
		d.untagged.add(s)
	}
	for i, tag := range s.Tags {
		if !slices.Contains(s.Tags[:i], tag) {
			tallyOf(d.tags, tag).add(s)
		}
	}
	tallyOf(d.pages, s.Page).add(s)
	tallyOf(d.channels, s.Channel()).add(s)
	q := d.queues[s.Queue]
	if q == nil {
		q = &queueTally{}
		d.queues[s.Queue] = q
	}
	q.add(s)
	if s.answered() {
		q.waits.addWait(s)
		op := d.operators[s.Operator]
		if op == nil {
			op = &operatorTally{}
			d.operators[s.Operator] = op
		}
		op.n++
		op.waits.addWait(s)
	}
}

// tallyOf is m[key], added if missing.
func tallyOf(m map[string]*tally, key string) *tally {
	t := m[key]
	if t == nil {
		t = &tally{}
		m[key] = t
	}
	return t
}

// Counts are a group's sessions, its answered sessions and their
// questions (1 each unless an operator recorded more), as in the reports'
// sessions, answered and questions columns.
type Counts struct {
	Sessions, Answered, Questions int64
}

func (t tally) counts() Counts {
	return Counts{Sessions: t.sessions, Answered: t.answered, Questions: t.questions}
}

// DashboardPeriod is one bar of the sessions-over-time chart: a day, a
// month or a year of the range.
type DashboardPeriod struct {
	// Label is YYYY-MM-DD, YYYY-MM or YYYY.
	Label string
	// Start is the period's first instant in the query's zone.
	Start time.Time
	Counts
}

// DashboardGroup is one row of a grouped chart: a READ level, a tag, a
// Page or a queue.
type DashboardGroup struct {
	// Key identifies the group: the level ("1" … "6", or "not_classified"),
	// the tag, the Page ID or the queue's JID.
	Key string
	// Label names it for people: the Page's name from Query.PageNames
	// (its ID when unknown), "not classified" for the READ level not
	// recorded; the key for the others.
	Label string
	Counts
	// MedianWait is the median wait of the group's answered sessions in
	// whole seconds (the summary's rule), for queues; nil otherwise or
	// when none was answered.
	MedianWait *int64
}

// DashboardOperator is a librarian's row: the answered sessions whose
// first human answerer they were.
type DashboardOperator struct {
	// Operator is the librarian's bare JID ("" if none was recorded).
	Operator string
	// Answered counts the answered sessions.
	Answered int64
	// MedianWait and MeanWait are of those sessions' waits, in whole
	// seconds, by the summary's rules.
	MedianWait, MeanWait *int64
}

// DashboardResult is what the dashboard shows for a period.
type DashboardResult struct {
	// From, To and Location are the query's.
	From, To string
	Location *time.Location
	// Summary holds the headline figures, those of the summary report.
	Summary Summary
	// Unit is UnitDay for periods of up to 62 days, UnitYear for periods
	// of more than 240 months, UnitMonth otherwise.
	Unit string
	// Periods counts sessions per Unit, every one of the range in order,
	// empty ones included.
	Periods []DashboardPeriod
	// Heatmap counts sessions by weekday (0 is Monday) and hour of the
	// start, on the zone's wall clock, as the weekday-hour report does.
	Heatmap [7][24]int64
	// ReadLevels are the READ levels 1–6, then not_classified (sessions
	// with no level recorded), as the read report counts them.
	ReadLevels []DashboardGroup
	// Tags are the DashboardTopTags tags of the most sessions (ties by
	// name); a session counts once in each of its tags. OtherTags is how
	// many more tags there are; Untagged counts the sessions without a
	// tag.
	Tags      []DashboardGroup
	OtherTags int
	Untagged  Counts
	// Pages and Queues count sessions per Facebook Page and per queue,
	// the most sessions first (ties by label).
	Pages, Queues []DashboardGroup
	// Channels count sessions per channel: Key "facebook" (Label
	// "Messenger") and "instagram" always, in that order, then any other.
	Channels []DashboardGroup
	// Operators are the librarians who answered sessions, the most
	// answered first (ties by JID).
	Operators []DashboardOperator
}

// Result returns the figures of the sessions added so far. It sorts the
// waits it kept, so call it once, after the last Add.
func (d *Dashboard) Result() DashboardResult {
	res := DashboardResult{From: d.q.From, To: d.q.To, Location: d.loc, Summary: d.totals.Summary(),
		Unit: d.unit, Heatmap: d.heatmap, Untagged: d.untagged.counts()}
	res.Periods = make([]DashboardPeriod, len(d.periods))
	for i, t := range d.periods {
		res.Periods[i] = d.period(d.first+i, t)
	}
	levels := &d.totals.levels
	for l := 1; l <= 6; l++ {
		k := strconv.Itoa(l)
		res.ReadLevels = append(res.ReadLevels, DashboardGroup{Key: k, Label: k, Counts: levels[l].counts()})
	}
	res.ReadLevels = append(res.ReadLevels, DashboardGroup{Key: "not_classified", Label: "not classified", Counts: levels[0].counts()})

	res.Tags = groups(d.tags, func(k string) string { return k })
	if len(res.Tags) > DashboardTopTags {
		res.OtherTags = len(res.Tags) - DashboardTopTags
		res.Tags = res.Tags[:DashboardTopTags]
	}
	res.Pages = groups(d.pages, func(id string) string {
		if name := d.q.PageNames[id]; name != "" {
			return name
		}
		return id
	})
	channelNames := map[string]string{ProtocolFacebook: "Messenger", ProtocolInstagram: "Instagram"}
	for _, p := range []string{ProtocolFacebook, ProtocolInstagram} {
		res.Channels = append(res.Channels, DashboardGroup{Key: p, Label: channelNames[p], Counts: d.channels[p].counts()})
	}
	for _, p := range slices.Sorted(maps.Keys(d.channels)) {
		if channelNames[p] == "" {
			res.Channels = append(res.Channels, DashboardGroup{Key: p, Label: p, Counts: d.channels[p].counts()})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.queues)) {
		q := d.queues[name]
		res.Queues = append(res.Queues, DashboardGroup{Key: name, Label: name, Counts: q.counts(), MedianWait: q.waits.median().ptr()})
	}
	sortGroups(res.Queues)
	for op, t := range d.operators {
		res.Operators = append(res.Operators, DashboardOperator{Operator: op, Answered: t.n,
			MedianWait: t.waits.median().ptr(), MeanWait: t.waits.mean().ptr()})
	}
	slices.SortFunc(res.Operators, func(a, b DashboardOperator) int {
		return cmp.Or(cmp.Compare(b.Answered, a.Answered), cmp.Compare(a.Operator, b.Operator))
	})
	return res
}

// period describes period number p of the dashboard's unit.
func (d *Dashboard) period(p int, t tally) DashboardPeriod {
	var y, day int
	var m time.Month = 1
	var label string
	switch d.unit {
	case UnitDay:
		date := time.Unix(int64(p)*86400, 0).UTC()
		y, m, day = date.Date()
		label = date.Format(dateLayout)
	case UnitMonth:
		y, m, day = p/12, time.Month(p%12+1), 1
		label = fmt.Sprintf("%04d-%02d", y, int(m))
	default:
		y, day = p, 1
		label = fmt.Sprintf("%04d", y)
	}
	start := DayStart(y, m, day, d.loc)
	if start.Before(d.start) {
		start = d.start
	}
	return DashboardPeriod{Label: label, Start: start, Counts: t.counts()}
}

// groups turns a map of tallies into rows, the most sessions first.
func groups(m map[string]*tally, label func(string) string) []DashboardGroup {
	out := make([]DashboardGroup, 0, len(m))
	for k, t := range m {
		out = append(out, DashboardGroup{Key: k, Label: label(k), Counts: t.counts()})
	}
	sortGroups(out)
	return out
}

// sortGroups orders rows by sessions, most first, then by label and key.
func sortGroups(g []DashboardGroup) {
	slices.SortFunc(g, func(a, b DashboardGroup) int {
		return cmp.Or(cmp.Compare(b.Sessions, a.Sessions), cmp.Compare(a.Label, b.Label), cmp.Compare(a.Key, b.Key))
	})
}
