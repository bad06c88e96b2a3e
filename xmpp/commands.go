package xmpp

import (
	"context"
	"encoding/xml"
	"time"

	"go.uber.org/zap"
)

// Command is an XEP-0050 ad-hoc command a CommandHandler offers: Node
// identifies it (e.g. "close"), Name is what clients show (e.g. "Close
// the conversation").
type Command struct {
	Node string
	Name string
}

// CommandRequest is one call of an ad-hoc command.
type CommandRequest struct {
	// Node is the command's node, one of those Commands(from) lists.
	Node string
	// SessionID identifies the command session: made up by the component
	// on the first call and the same on the calls that continue it. A
	// session waiting for its form lives at most 30 minutes and ends with
	// the link.
	SessionID string
	// Action is "execute", "complete" or "cancel". Clients send
	// "execute" on the first call and usually "complete" with the filled
	// form, but some send "execute" there too: Values tells.
	Action string
	// Values are the fields of the submitted XEP-0004 form by name; nil
	// when no form was submitted (as on the first call).
	Values map[string][]string
}

// CommandResponse is a CommandHandler's answer to a CommandRequest.
type CommandResponse struct {
	// Status is "completed", "executing" (a Form to fill follows) or
	// "canceled". If empty it is "executing" with a Form, else
	// "completed".
	Status string
	// Note is text shown to the user: an info note, or with Error the
	// error's text when Error.Text is empty.
	Note string
	// Form is a form to fill, with Status "executing"; nil otherwise.
	Form *Form
	// Error, if set, answers the call with an IQ error such as
	// {Type: "auth", Condition: "forbidden"} or {Type: "modify",
	// Condition: "bad-request"}, and ends the session.
	Error *StanzaError
}

// Limits of the command sessions one link keeps (the multi-stage ones that
// wait for a form).
const (
	commandSessionTTL  = 30 * time.Minute
	maxCommandSessions = 256
)

// commandSession is a multi-stage command waiting for its next call.
type commandSession struct {
	from, node string
	started    time.Time
}

// Application conditions of XEP-0050 §4.6.
func commandCondition(name string) []xml.Token {
	return emptyElem(xml.Name{Space: nsCommands, Local: name})
}

// handleCommand runs an XEP-0050 command request x (with payload p) sent
// to the domain, on a Handler that is a CommandHandler.
func (l *link) handleCommand(ctx context.Context, x *iqXML, p *iqPayloadXML) {
	from := x.From
	cmd, ok := findCommand(l.c.commands.Commands(from), p.Node)
	if !ok {
		l.answerError(x, *errItemNotFound)
		return
	}
	badRequest := func(cond string) {
		_ = l.write(wrap(iqErrorStart(x), errorElem(StanzaError{Type: "modify", Condition: "bad-request"}, commandCondition(cond))))
	}
	action := p.Action
	var values map[string][]string
	if len(p.Forms) > 0 {
		switch p.Forms[0].Type {
		case "cancel":
			action = "cancel"
		case "submit", "":
			values = p.Forms[0].values()
		}
	}
	switch action {
	case "", "execute":
		action = "execute"
	case "complete", "cancel":
	case "next", "prev":
		badRequest("bad-action") // every form is a single page
		return
	default:
		badRequest("malformed-action")
		return
	}

	l.expireCommandSessions()
	sid := p.SessionID
	if sid == "" {
		if action == "cancel" {
			badRequest("bad-sessionid")
			return
		}
		if len(l.cmdSessions) >= maxCommandSessions {
			l.answerError(x, StanzaError{Type: "wait", Condition: "resource-constraint", Text: "too many command sessions"})
			return
		}
		sid = newID("cmd-")
	} else if s, ok := l.cmdSessions[sid]; !ok || s.from != from || s.node != cmd.Node {
		badRequest("bad-sessionid")
		return
	}

	resp := l.c.commands.RunCommand(ctx, from, CommandRequest{Node: cmd.Node, SessionID: sid, Action: action, Values: values})
	if resp.Error != nil {
		delete(l.cmdSessions, sid)
		e := *resp.Error
		if e.Text == "" {
			e.Text = resp.Note
		}
		l.answerError(x, e)
		return
	}
	status := resp.Status
	switch {
	case action == "cancel":
		status = "canceled"
	case status == "executing" || status == "completed" || status == "canceled":
	case resp.Form != nil:
		status = "executing"
	default:
		if status != "" {
			l.c.log.Warn("command answered with an unknown status; completed instead",
				zap.String("node", cmd.Node), zap.String("status", status))
		}
		status = "completed"
	}
	if status == "executing" {
		if l.cmdSessions == nil {
			l.cmdSessions = make(map[string]commandSession)
		}
		if _, ok := l.cmdSessions[sid]; !ok {
			l.cmdSessions[sid] = commandSession{from: from, node: cmd.Node, started: time.Now()}
		}
	} else {
		delete(l.cmdSessions, sid)
	}
	l.answer(x, encodeCommandResponse(cmd.Node, sid, status, resp))
}

// expireCommandSessions forgets sessions older than commandSessionTTL.
func (l *link) expireCommandSessions() {
	for id, s := range l.cmdSessions {
		if time.Since(s.started) > commandSessionTTL {
			delete(l.cmdSessions, id)
		}
	}
}

// encodeCommandResponse is the <command/> of a command's result.
func encodeCommandResponse(node, sid, status string, resp CommandResponse) []xml.Token {
	var inner [][]xml.Token
	if status == "executing" && resp.Form != nil {
		inner = append(inner, wrap(xml.StartElement{Name: xml.Name{Local: "actions"}, Attr: []xml.Attr{attr("execute", "complete")}},
			emptyElem(xml.Name{Local: "complete"})))
	}
	if note := sanitize(resp.Note); note != "" {
		inner = append(inner, wrap(xml.StartElement{Name: xml.Name{Local: "note"}, Attr: []xml.Attr{attr("type", "info")}},
			[]xml.Token{xml.CharData(note)}))
	}
	if status == "executing" && resp.Form != nil {
		inner = append(inner, encodeForm(resp.Form))
	}
	start := xml.StartElement{Name: nameCommand, Attr: []xml.Attr{
		attr("node", node), attr("sessionid", sid), attr("status", status),
	}}
	return wrap(start, inner...)
}

// iqErrorStart is the start of the error answer to x.
func iqErrorStart(x *iqXML) xml.StartElement {
	return xml.StartElement{Name: xml.Name{Local: "iq"}, Attr: []xml.Attr{
		attr("type", "error"), attr("id", x.ID), attr("from", x.To), attr("to", x.From),
	}}
}

// findCommand finds the command with node in cmds.
func findCommand(cmds []Command, node string) (Command, bool) {
	if node == "" {
		return Command{}, false
	}
	for _, c := range cmds {
		if c.Node == node {
			return c, true
		}
	}
	return Command{}, false
}
