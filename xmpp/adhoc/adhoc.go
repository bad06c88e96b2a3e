// Package adhoc answers XEP-0050 ad-hoc command requests: the responder
// side that mellium.im/xmpp/commands (which runs commands offered by
// others) lacks. A [Responder] is a mellium mux IQ handler for
// <command/> sets; a [Runner] lists the commands offered to each
// requester and runs them. Forms are mellium's XEP-0004 [form.Data].
//
// Every command is one page: the only action offered with a form is
// "complete", and "next" and "prev" are refused with <bad-action/>.
// Multi-stage commands live in sessions the Responder keeps (at most
// MaxSessions, each at most SessionTTL).
package adhoc

import (
	"context"

	"mellium.im/xmpp/commands"
	"mellium.im/xmpp/form"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// NS is the XEP-0050 namespace.
const NS = commands.NS

// Command is a command a Runner offers: Node identifies it (e.g. "close"),
// Name is what clients show (e.g. "Close the conversation"). Both are
// written as given: XML must be able to carry them.
type Command struct {
	Node string
	Name string
}

// Action is what a request asks of a command.
type Action string

// The actions a Runner sees. A request without an action executes; "next"
// and "prev" never reach the Runner.
const (
	Execute  Action = "execute"
	Complete Action = "complete"
	Cancel   Action = "cancel"
)

// Status is the state of a command after a call.
type Status string

// The statuses of XEP-0050 §4.
const (
	Executing Status = "executing"
	Completed Status = "completed"
	Canceled  Status = "canceled"
)

// Request is one call of a command.
type Request struct {
	// Node is the command's node, one of those Runner.Commands lists.
	Node string
	// SessionID is made up by the Responder on the first call and the
	// same on the calls that continue the session.
	SessionID string
	// Action is Execute, Complete or Cancel (also for a submitted form of
	// type "cancel"). Clients send "execute" on the first call and
	// usually "complete" with the filled form, but some send "execute"
	// there too: Values tells.
	Action Action
	// Values are the fields of the submitted form by name, leaving out
	// fields without one; nil when no form was submitted.
	Values map[string][]string
}

// Response is a Runner's answer to a Request.
type Response struct {
	// Status is the command's state after the call. If empty it is
	// Executing with a Form, else Completed; after a Cancel request it is
	// always Canceled.
	Status Status
	// Note, if not empty, is shown to the user as an info note.
	Note string
	// Form is a form to fill, sent only with status Executing.
	Form *form.Data
	// Error, if set, answers the call with this IQ error and ends the
	// session.
	Error *stanza.Error
}

// Runner offers and runs the commands. Its methods are called on the
// goroutine that handles the request.
type Runner interface {
	// Commands lists the commands offered to from (a full JID); it is
	// asked on every request, so revoking a user's rights takes effect at
	// once.
	Commands(from jid.JID) []Command
	// Run runs one of the commands Commands(from) lists.
	Run(ctx context.Context, from jid.JID, req Request) Response
}

// Find returns the command with node in cmds.
func Find(cmds []Command, node string) (Command, bool) {
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
