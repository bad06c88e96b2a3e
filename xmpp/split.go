package xmpp

import (
	"fmt"
	"strconv"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/internal/textsplit"
)

// minPartBytes is the least room for body text SplitMessage accepts in a
// part; a message whose other content leaves less cannot be split.
const minPartBytes = 256

// partSuffix is the id of part n (from 2) of a split message: its first
// part keeps the message's id.
func partSuffix(n int) string { return "-p" + strconv.Itoa(n) }

// SplitMessage cuts m into messages whose stanzas each take at most
// maxBytes (as sent by a component of domain), in order, cutting the body
// at paragraph, line or word boundaries as the Send API side does
// (textsplit). A message that fits comes back alone and unchanged. The
// first part keeps m's id and correction (Replace); part n has the id
// m.ID+"-p"+n; every part keeps the addresses, type, thread, nickname and
// hints; the out-of-band URL and the chat state go with the last part.
//
// It returns an error wrapping ErrTooLarge when even a short body would not
// fit beside the rest of m, and the error of encoding m when m is invalid.
func SplitMessage(m Message, domain string, maxBytes int) ([]Message, error) {
	d, err := jid.Parse(domain)
	if err != nil {
		return nil, fmt.Errorf("xmpp: split: domain %q: %w", domain, err)
	}
	toks, err := encodeMessage(m, d)
	if err != nil {
		return nil, err
	}
	if checkSize(toks, maxBytes) == nil {
		return []Message{m}, nil
	}
	// The room for the body: the stanza without it (but with everything
	// any part carries, and the longest part id), subtracted from maxBytes.
	shell := m
	shell.Body = "x"
	shell.ID = m.ID + partSuffix(99999)
	if shell.Replace == "" {
		shell.Replace = m.ID
	}
	stoks, err := encodeMessage(shell, d)
	if err != nil {
		return nil, err
	}
	overhead, err := encodedSize(stoks)
	if err != nil {
		return nil, err
	}
	room := maxBytes - overhead
	if room < minPartBytes {
		return nil, fmt.Errorf("%w: message %s leaves %d bytes for its text", ErrTooLarge, m.ID, room)
	}
	bodies := textsplit.Split(displayBody(m.Body), room, escapedLen)
	if len(bodies) == 0 {
		return nil, fmt.Errorf("%w: message %s has no text to split", ErrTooLarge, m.ID)
	}
	parts := make([]Message, len(bodies))
	for i, body := range bodies {
		p := m
		p.Body = body
		if i > 0 {
			p.ID = m.ID + partSuffix(i+1)
			p.Replace = ""
		}
		if i < len(bodies)-1 {
			p.OOB, p.ChatState = "", ""
		}
		parts[i] = p
	}
	return parts, nil
}
