package bridge

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/stats"
	"github.com/askbridge/askbridge/xmpp"

	"github.com/askbridge/askbridge/bridge/store"
)

// Ad-hoc commands (XEP-0050) at the component's domain give operators the
// in-chat commands as forms, plus an overview of open conversations and of
// today's numbers, in clients with a commands menu (Gajim, Psi, …).
const (
	nodeOpen     = "askbridge/open"
	nodeToday    = "askbridge/today"
	nodeClassify = "askbridge/classify"
	nodeTransfer = "askbridge/transfer"
)

var _ xmpp.CommandHandler = (*Bridge)(nil)

var _ xmpp.ProfileHandler = (*Bridge)(nil)

// Commands lists the ad-hoc commands for operators; others get none.
func (b *Bridge) Commands(from jid.JID) []xmpp.Command {
	if !mayAnswer(b.config(), from, "") {
		return nil
	}
	return []xmpp.Command{
		{Node: nodeOpen, Name: "Open Facebook conversations"},
		{Node: nodeToday, Name: "Today's Facebook statistics"},
		{Node: nodeClassify, Name: "Classify or close a conversation"},
		{Node: nodeTransfer, Name: "Transfer a conversation"},
	}
}

// RunCommand runs an ad-hoc command.
func (b *Bridge) RunCommand(ctx context.Context, from jid.JID, req xmpp.CommandRequest) xmpp.CommandResponse {
	if !mayAnswer(b.config(), from, "") {
		return xmpp.CommandResponse{Error: &xmpp.StanzaError{Type: "auth", Condition: "forbidden"}}
	}
	var resp xmpp.CommandResponse
	var err error
	switch req.Node {
	case nodeOpen:
		resp, err = b.openConversations()
	case nodeToday:
		resp, err = b.todayStats()
	case nodeClassify, nodeTransfer:
		resp, err = b.formCommand(from, req)
	default:
		return xmpp.CommandResponse{Error: &xmpp.StanzaError{Type: "cancel", Condition: "item-not-found"}}
	}
	if err != nil {
		b.log.Error("ad-hoc command", zap.String("node", req.Node), zap.Error(err))
		return xmpp.CommandResponse{Error: &xmpp.StanzaError{Type: "wait", Condition: "internal-server-error", Text: "The bridge could not read its store."}}
	}
	return resp
}

// openItem is one open conversation as operators see it.
type openItem struct {
	psid, label string
	started     time.Time
}

// openSessions lists the open conversations, oldest first.
func (b *Bridge) openSessions() ([]openItem, error) {
	cfg := b.config()
	loc := location(cfg)
	var items []openItem
	err := b.store.view(func(tx *store.Tx) error {
		for _, psid := range tx.Sessions().OpenPSIDs() {
			conv, err := getConversation(tx, psid)
			if err != nil {
				return err
			}
			if conv == nil {
				continue
			}
			s, _, err := getSession(tx, conv.Session)
			if err != nil {
				return err
			}
			if s == nil {
				continue
			}
			who := "waiting"
			if conv.Owner != "" {
				who = "with " + conv.Owner
			}
			page := conv.Page
			if p, ok := cfg.Page(conv.Page); ok && p.Name != "" {
				page = p.Name
			}
			items = append(items, openItem{psid: conv.PSID, started: s.Started,
				label: fmt.Sprintf("%s (%s), since %s, %s — %s", nickOf(conv), page,
					s.Started.In(loc).Format("15:04"), who, patronJID(conv.PSID, cfg.XMPP.Domain))})
		}
		return nil
	})
	sort.Slice(items, func(i, j int) bool { return items[i].started.Before(items[j].started) })
	return items, err
}

func (b *Bridge) openConversations() (xmpp.CommandResponse, error) {
	items, err := b.openSessions()
	if err != nil {
		return xmpp.CommandResponse{}, err
	}
	if len(items) == 0 {
		return xmpp.CommandResponse{Status: "completed", Note: "No Facebook conversation is open."}, nil
	}
	lines := make([]string, len(items))
	for i, it := range items {
		lines[i] = it.label
	}
	return xmpp.CommandResponse{Status: "completed", Note: fmt.Sprintf("%d open:\n%s", len(items), strings.Join(lines, "\n"))}, nil
}

// todayStats answers "Today's Facebook statistics" with the summary
// figures of today in sessions.timezone, from stats.Totals like every
// other view, so it agrees with the export and /stats/ for the same day.
func (b *Bridge) todayStats() (xmpp.CommandResponse, error) {
	cfg := b.config()
	loc := location(cfg)
	now := b.now().In(loc)
	day := stats.DayStart(now.Year(), now.Month(), now.Day(), loc)
	var totals stats.Totals
	open := 0
	err := b.store.ForEachSession(day, stats.DayStart(now.Year(), now.Month(), now.Day()+1, loc), func(s *stats.Session) error {
		if s.Open() {
			open++
		}
		totals.Add(s)
		return nil
	})
	if err != nil {
		return xmpp.CommandResponse{}, err
	}
	return xmpp.CommandResponse{Status: "completed", Note: todayNote(day, totals.Summary(), open)}, nil
}

// todayNote words the day's figures for a librarian.
func todayNote(day time.Time, sum stats.Summary, open int) string {
	note := fmt.Sprintf("Today (%s), finished sessions: %d — %d answered, %d missed, %d after hours, %d undelivered, %d automatic only",
		day.Format("Mon 2 Jan"), sum.Sessions, sum.Answered, sum.Missed, sum.AfterHours, sum.Undelivered, sum.AutoOnly)
	if sum.Other > 0 {
		note += fmt.Sprintf(", %d other", sum.Other)
	}
	note += fmt.Sprintf("; %d open. Reference transactions: %d (of %d questions, %d directional).",
		open, sum.ReferenceTransactions, sum.Questions, sum.Directional)
	if sum.MedianWait != nil {
		note += fmt.Sprintf(" Median wait: %s.", humanDuration(time.Duration(*sum.MedianWait)*time.Second))
	}
	return note
}

// formCommand shows the classify or transfer form, then applies it by
// running the equivalent in-chat commands.
func (b *Bridge) formCommand(from jid.JID, req xmpp.CommandRequest) (xmpp.CommandResponse, error) {
	if req.Action == "cancel" {
		return xmpp.CommandResponse{Status: "canceled"}, nil
	}
	if req.Values == nil {
		items, err := b.openSessions()
		if err != nil {
			return xmpp.CommandResponse{}, err
		}
		if len(items) == 0 {
			return xmpp.CommandResponse{Status: "completed", Note: "No Facebook conversation is open."}, nil
		}
		conv := xmpp.FormField{Var: "conversation", Label: "Conversation", Type: "list-single", Required: true}
		for _, it := range items {
			conv.Options = append(conv.Options, xmpp.FormOption{Label: it.label, Value: it.psid})
		}
		conv.Value = []string{items[0].psid}
		form := &xmpp.Form{Fields: []xmpp.FormField{conv}}
		if req.Node == nodeTransfer {
			form.Title = "Transfer a Facebook conversation"
			form.Fields = append(form.Fields, xmpp.FormField{Var: "to", Label: "To (queue or librarian JID)", Type: "jid-single", Required: true})
		} else {
			form.Title = "Classify a Facebook conversation"
			read := xmpp.FormField{Var: "read", Label: "READ level", Type: "list-single"}
			read.Options = append(read.Options, xmpp.FormOption{Label: "(not recorded)", Value: ""})
			for n := 1; n <= 6; n++ {
				read.Options = append(read.Options, xmpp.FormOption{Label: fmt.Sprint(n), Value: fmt.Sprint(n)})
			}
			form.Fields = append(form.Fields, read,
				xmpp.FormField{Var: "tags", Label: "Tags (words separated by spaces)", Type: "text-single"},
				xmpp.FormField{Var: "questions", Label: "Questions answered", Type: "text-single"},
				xmpp.FormField{Var: "close", Label: "Close the session", Type: "boolean", Value: []string{"0"}})
		}
		return xmpp.CommandResponse{Status: "executing", Form: form}, nil
	}
	first := func(k string) string {
		if v := req.Values[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	var cmds []string
	if req.Node == nodeTransfer {
		cmds = append(cmds, "!transfer "+first("to"))
	} else {
		if r := first("read"); r != "" {
			cmds = append(cmds, "!read "+r)
		}
		if t := first("tags"); t != "" {
			cmds = append(cmds, "!tag "+t)
		}
		if q := first("questions"); q != "" {
			cmds = append(cmds, "!questions "+q)
		}
		if c := first("close"); c == "1" || c == "true" {
			cmds = append(cmds, "!close")
		}
	}
	if len(cmds) == 0 {
		return xmpp.CommandResponse{Status: "completed", Note: "Nothing to record."}, nil
	}
	answers, err := b.runCommands(from, first("conversation"), cmds)
	if err != nil {
		return xmpp.CommandResponse{}, err
	}
	return xmpp.CommandResponse{Status: "completed", Note: strings.Join(answers, "\n")}, nil
}

// runCommands runs in-chat commands on a conversation, as sender.
func (b *Bridge) runCommands(sender jid.JID, psid string, cmds []string) ([]string, error) {
	cfg := b.config()
	var answers []string
	err := b.store.update(func(tx *store.Tx) error {
		answers = answers[:0]
		conv, err := getConversation(tx, psid)
		if err != nil {
			return err
		}
		if conv == nil {
			answers = append(answers, "That conversation is no longer known.")
			return nil
		}
		for _, c := range cmds {
			a, err := b.command(tx, cfg, conv, sender, c)
			if err != nil {
				return err
			}
			answers = append(answers, strings.SplitN(a, "\n", 2)[0])
		}
		return putConversation(tx, conv)
	})
	signal(b.xmppReady)
	return answers, err
}
