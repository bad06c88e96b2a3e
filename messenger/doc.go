// Package messenger is askbridge's Facebook side: it receives Messenger
// Platform webhooks for a library's Facebook Pages and calls the Send API.
// It knows nothing of XMPP.
//
// Incoming: Webhook is the http.Handler for /webhook. It answers Facebook's
// verification handshake (GET), and for each POST checks the body's
// X-Hub-Signature-256 against the app secret (VerifySignature), normalises
// the body into Events (Parse) and hands them to a Sink, which must store
// them durably before the webhook answers 200. Anything else makes Facebook
// retry (5xx) or drops the request as bad (403, 400, 413).
//
// Outgoing: Client.Send makes one Send API call (text, attachment or sender
// action) for a Page. When Facebook refuses, the error is a *GraphError
// that tells whether a retry can help (Retryable), whether the Page token is
// bad (TokenInvalid) or whether the patron is outside the 24-hour window
// (OutsideWindow). SplitText cuts long replies into parts the Send API
// accepts.
//
// Package messenger/standin plays Facebook (Graph API and a patron) for tests
// and demos.
package messenger
