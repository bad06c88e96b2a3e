// Package bridge is askbridge's core: it owns all policy and state between
// the Facebook side (package messenger) and the Jabber side (package xmpp).
//
// The path of a patron's message is durable at every step:
//
//	webhook → Accept (inbox, one BoltDB transaction per POST, dedup by mid)
//	        → dispatcher (in order; routing; inbox entry → XMPP outbox entry
//	          and ledger record in one transaction)
//	        → XMPP drain (outbox entry removed only after it was written to
//	          a live component stream)
//
// A librarian's reply takes the mirror path: HandleMessage checks the
// sender, then writes Send API outbox entries and ledger records in one
// transaction; per-conversation workers drain them to the Send API in order,
// retrying what Facebook says is temporary and turning permanent failures
// into a plain-language notice to the librarian.
//
// The bridge talks to both sides through two small interfaces, Link and
// SendAPI, so it is tested with fakes of both as well as end to end.
package bridge
