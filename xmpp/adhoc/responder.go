package adhoc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// Limits of the sessions a Responder keeps (the multi-stage commands that
// wait for a form).
const (
	SessionTTL  = 30 * time.Minute
	MaxSessions = 256
)

// session is a multi-stage command waiting for its next call.
type session struct {
	from    jid.JID
	node    string
	started time.Time
}

// Responder answers the <command/> requests of XEP-0050 for a Runner and
// keeps their sessions. It is not safe for concurrent use: give it the
// requests of one stream, one at a time, and make a new one with each
// stream (sessions end with it).
type Responder struct {
	runner   Runner
	sessions map[string]session
}

// NewResponder returns a Responder running the commands of r.
func NewResponder(r Runner) *Responder {
	return &Responder{runner: r, sessions: make(map[string]session)}
}

// HandleIQ answers iq, a set whose payload start is a <command/>, writing
// the result or the error to w; it reads the rest of the payload from w.
// It returns an error only when writing failed.
func (r *Responder) HandleIQ(ctx context.Context, iq stanza.IQ, w xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	return r.answer(w, r.run(ctx, iq, w, start))
}

// run handles the request and returns its answer.
func (r *Responder) run(ctx context.Context, iq stanza.IQ, rd xml.TokenReader, start *xml.StartElement) xml.TokenReader {
	req, err := decodeCommand(rd, start)
	if err != nil {
		return errorAnswer(iq, stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest}, "")
	}
	cmd, ok := Find(r.runner.Commands(iq.From), req.Node)
	if !ok {
		return iq.Error(stanza.Error{Type: stanza.Cancel, Condition: stanza.ItemNotFound})
	}
	action, values := req.action()
	switch action {
	case Execute, Complete, Cancel:
	case "next", "prev":
		return badRequest(iq, condBadAction) // every form is a single page
	default:
		return badRequest(iq, condMalformedAction)
	}

	r.expire()
	sid := req.SessionID
	if sid == "" {
		if action == Cancel {
			return badRequest(iq, condBadSessionID)
		}
		if len(r.sessions) >= MaxSessions {
			return iq.Error(stanza.Error{Type: stanza.Wait, Condition: stanza.ResourceConstraint,
				Text: map[string]string{"": "too many command sessions"}})
		}
		sid = newSessionID()
	} else if s, ok := r.sessions[sid]; !ok || !s.from.Equal(iq.From) || s.node != cmd.Node {
		return badRequest(iq, condBadSessionID)
	}

	resp := r.runner.Run(ctx, iq.From, Request{Node: cmd.Node, SessionID: sid, Action: action, Values: values})
	if resp.Error != nil {
		delete(r.sessions, sid)
		return iq.Error(*resp.Error)
	}
	status := resp.Status
	switch {
	case action == Cancel:
		status = Canceled
	case status == Executing || status == Completed || status == Canceled:
	case resp.Form != nil:
		status = Executing
	default:
		status = Completed
	}
	if status == Executing {
		if _, ok := r.sessions[sid]; !ok {
			r.sessions[sid] = session{from: iq.From, node: cmd.Node, started: time.Now()}
		}
	} else {
		delete(r.sessions, sid)
	}
	return iq.Result(resp.payload(cmd.Node, sid, status))
}

// answer writes the answer a.
func (r *Responder) answer(w xmlstream.TokenWriter, a xml.TokenReader) error {
	if _, err := xmlstream.Copy(w, a); err != nil {
		return fmt.Errorf("adhoc: writing the answer: %w", err)
	}
	return nil
}

// expire forgets sessions older than SessionTTL.
func (r *Responder) expire() {
	for id, s := range r.sessions {
		if time.Since(s.started) > SessionTTL {
			delete(r.sessions, id)
		}
	}
}

// newSessionID returns a random session id.
func newSessionID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return "cmd-" + hex.EncodeToString(b)
}
