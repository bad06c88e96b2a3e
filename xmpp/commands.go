package xmpp

import (
	"context"

	"go.uber.org/zap"
	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/xmpp/adhoc"
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
	// session waiting for its form lives at most adhoc.SessionTTL (30
	// minutes) and ends with the link.
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

// commandRunner offers a CommandHandler's commands through the XEP-0050
// responder (package adhoc), sanitizing what reaches the stream.
type commandRunner struct {
	h   CommandHandler
	log *zap.Logger
}

var _ adhoc.Runner = commandRunner{}

// Commands implements adhoc.Runner: the commands offered to from, with
// their node and name sanitized; a node left empty is left out.
func (r commandRunner) Commands(from jid.JID) []adhoc.Command {
	var cmds []adhoc.Command
	for _, c := range r.h.Commands(from) {
		if node := sanitize(c.Node); node != "" {
			cmds = append(cmds, adhoc.Command{Node: node, Name: sanitize(c.Name)})
		}
	}
	return cmds
}

// Run implements adhoc.Runner.
func (r commandRunner) Run(ctx context.Context, from jid.JID, req adhoc.Request) adhoc.Response {
	resp := r.h.RunCommand(ctx, from, CommandRequest{
		Node: req.Node, SessionID: req.SessionID, Action: string(req.Action), Values: req.Values,
	})
	out := adhoc.Response{Note: sanitize(resp.Note)}
	if resp.Error != nil {
		e := *resp.Error
		if e.Text == "" {
			e.Text = resp.Note
		}
		se := e.stanza()
		out.Error = &se
		return out
	}
	if resp.Form != nil {
		out.Form = resp.Form.data()
	}
	switch resp.Status {
	case "executing", "completed", "canceled":
		out.Status = adhoc.Status(resp.Status)
	case "":
	default:
		if resp.Form == nil && req.Action != adhoc.Cancel {
			r.log.Warn("command answered with an unknown status; completed instead",
				zap.String("node", req.Node), zap.String("status", resp.Status))
		}
	}
	return out
}
