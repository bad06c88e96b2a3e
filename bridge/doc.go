// Package bridge is askbridge's core: it owns all policy and state between
// the Facebook side (package messenger) and the Jabber side (package xmpp).
//
// The path of a patron's message is durable at every step:
//
//	webhook → Accept (one BoltDB transaction per POST, commits shared by
//	          concurrent POSTs; dedup by mid; routing: XMPP outbox entry and
//	          ledger record — or, behind a backlog left from before a
//	          restart, the durable inbox and the dispatcher)
//	        → XMPP writer (due outbox entries, oldest first, in batches)
//	        → XMPP confirmer (an entry is removed only after the Jabber
//	          server confirmed routing it, with a Sync on the same link)
//
// A librarian's reply takes the mirror path: HandleMessage checks the
// sender, then writes Send API outbox entries and ledger records in one
// transaction; the Send API outbox owner runs one sender per conversation,
// which sends its entries in order, retrying what Facebook says is
// temporary and turning permanent failures into a plain-language notice to
// the librarian.
//
// The bridge talks to both sides through two small interfaces, Link and
// SendAPI, so it is tested with fakes of both as well as end to end.
package bridge
