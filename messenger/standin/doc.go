// Package standin is a local stand-in for Facebook: it plays the Graph API's
// Send API and Messenger patrons, for integration tests and for the demo.
//
// Server.Handler serves the Send API at /{version}/{page-id}/messages with
// Meta's request checks and error bodies, and a patron page at "/" where a
// person types as a Messenger user and sees the library's replies. Patron
// messages reach the bridge as webhook POSTs shaped and signed the way
// Facebook sends them (PatronSays, PatronRead, PostSigned). Tests read what
// the bridge sent with Sent and WaitSent, or as each call arrives with
// Config.OnSent, and make the next Send API call fail with FailNext.
// StartThrottle plays an app- or Page-wide rate limit (Meta's error 4, 32,
// 613, 80006… with X-App-Usage or X-Business-Use-Case-Usage, or HTTP 429
// with Retry-After) and counts the calls that arrive during it
// (ThrottledCalls, WaitThrottled); ReportUsage adds usage headers to
// accepted calls.
//
// The stand-in has no authentication of its own: never expose it beyond
// loopback or a demo network.
package standin
