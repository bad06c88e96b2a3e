// Package stats turns the ledger's conversation sessions into the exports
// and reports a library's reference coordinator pastes into its statistics:
// `askbridge stats export` and /stats/export call ParseQuery, then
// NewExporter and Exporter.Add for each session as the store yields it (Write
// does the same from a slice), so that an export of a million sessions never
// holds them all. The /stats/ dashboard counts a period in one pass with
// NewDashboard and Dashboard.Add, its headline figures from Totals.
//
// # Sessions: what is counted
//
// A Session is one conversation as a patron and the library lived it, from
// the patron message that opens it to !close or sessions.idle_timeout of
// silence. Messenger conversations are asynchronous, so sessions follow
// them rather than the clock:
//
//   - A late answer joins its question. A librarian's first reply to a
//     session that already ended unanswered (missed or after_hours),
//     while Facebook still accepts replies (24 hours after the patron's
//     last message, 7 days with the HUMAN_AGENT tag), makes that session
//     answered: Accepted is the reply's time, so the wait runs from the
//     question to the answer, and the replying librarian is its Operator.
//     No new session is opened. A later reply to a session already
//     answered (a "PS" hours after) counts in that session's messages
//     without reopening it or moving its end.
//   - A follow-up stays with its conversation. A patron message (text,
//     sticker, like, reaction) within sessions.followup_grace (15 minutes
//     by default) of a session's end reopens that session: same ID, and its
//     end moves to the end of the follow-up. Later messages start a new
//     session. An idle session ends at its last message, so the grace
//     period counts from there.
//   - Classification lands where the librarian means it: !read, !tag and
//     !questions typed after !close apply to the latest session that
//     librarian answered for that patron within 24 hours, never to a
//     later session nobody has answered yet.
//   - An answer the patron never received is not an answered chat: a
//     session whose every reply Facebook refused for good (outside the
//     messaging window, patron unreachable, token revoked) is undelivered.
//
// While a session is reopened it is open again, and exports leave it out
// until it ends once more.
//
// A finished session has exactly one status: answered (a librarian's reply
// reached the patron, or at least one did), missed (nobody answered a
// session that started in office hours), after_hours (nobody answered, and
// it started outside sessions.office_hours), undelivered (see above) or
// auto_only (only buttons pressed and automatic replies).
//
// # Reference transactions: the number for an annual survey
//
// Reference statistics count questions, not chats (NISO Z39.7, ARL,
// ACRL/PLS). Each answered session holds Questions questions: 1 unless a
// librarian recorded more with !questions N. Of those questions, the ones
// in sessions a librarian rated READ 1 or 2 are directional, those rated
// 3 to 6 are reference, and the others are not classified. The summary
// reports all four side by side:
//
//	questions               every question of answered sessions
//	directional             of those, at READ 1–2
//	reference               of those, at READ 3–6
//	not_classified          of those, without a READ level
//	reference_transactions  questions − directional (= reference + not_classified)
//
// reference_transactions is the number to put in an annual survey's
// "reference transactions" line: ARL and NISO exclude directional
// questions, and a question nobody rated is counted as reference.
// Missed, after_hours, undelivered and auto_only sessions hold no
// questions.
//
// Waits are those of answered sessions only: undelivered and unanswered
// sessions are in no wait figure.
//
// # Selection
//
// Write keeps the sessions that started within [From, the day after To)
// in the query's time zone, each day from the first instant of its date
// (midnight, or 01:00 in zones whose clocks jump forward at midnight),
// have ended (open sessions never appear), and pass the filters, which
// follow LibraryH3lp's reports: answered sessions always; missed,
// after_hours and undelivered ones (and any status this package does not
// know) only with IncludeUnanswered; auto_only ones only with IncludeAuto;
// none shorter than MinDuration. Query.Protocol keeps one channel in every
// report, the summary included, so each channel can be reported on its
// own. The other filters choose the rows of the
// sessions export and of the grid reports; the summary and status reports
// count every finished session whatever the filters, so their status
// counts always add up to the summary's sessions. Rows come in order of
// start, then ID.
//
// The summary (Totals), the /stats/ dashboard and the librarians' "Today's
// statistics" command compute every figure with the same code, so they
// agree for the same period and zone.
//
// # Values
//
// The query's zone is always an IANA name: "Local" is resolved to the
// machine's zone (ResolveZone), so no output says "Local".
//
// Times are ISO 8601 with a numeric offset in the query's zone
// (2026-03-02T14:05:09-05:00, also +00:00 for UTC), to the second.
// Waits (accepted−started) and durations (ended−started) are whole seconds,
// truncated; a session no human accepted has no wait (empty in CSV, null
// in JSON) rather than 0, so spreadsheet averages of the column are not
// dragged down by missed chats. Means and medians are computed from the
// whole-second values and rounded to the nearest second (halves up): the
// median of an even number of waits is the mean of the middle two, so
// rounded. The 90th percentile is by nearest rank: the wait at rank
// ⌈0.9 × n⌉ in ascending order. Of nothing they are empty/null. Hours, weekdays and months are those of the
// start time on the wall clock of the query's zone: on a spring-forward day
// the 02:00 hour is an empty row, on a fall-back day the 01:00 hour holds
// both 01:00s.
//
// # The sessions export (report "sessions", the default)
//
// Columns start exactly with LibraryH3lp's chats.csv header so rows merge
// with what coordinators already have, then add the ledger's own:
//
//	id,guest,protocol,queue,profile,started,wait,duration,operator,ip,referrer,tags,
//	accepted,ended,status,messages_in,messages_out,questions,read_level,transfers,page
//
// protocol is "facebook" for Messenger (also for sessions recorded before
// askbridge carried Instagram) or "instagram"; guest is the keyed pseudonym; profile is
// the Facebook Page's name from Query.PageNames (empty if unknown) and page
// its ID; ip and referrer are always empty (Messenger has neither); tags
// are joined with "," in one cell, in the order given (LibraryH3lp's own
// separator is not documented; a tag should not contain a comma);
// read_level is empty when not recorded.
//
// # Reports
//
// Every grid report writes all its buckets, empty ones as zero rows. In the
// tables below, sessions counts sessions, answered counts answered ones and
// questions the questions of those answered ones, directional included
// (the read report splits them).
//
//	hourly        hour,sessions,answered,questions            hours 0–23
//	weekday       weekday,sessions,answered,questions         Monday … Sunday
//	monthly       month,sessions,answered,questions           YYYY-MM, every month of the range
//	weekday-hour  weekday,0,1,…,23,total                      sessions, Monday … Sunday (LibraryH3lp's heat map)
//	operators     operator,n,mean,median,min,max              answered sessions per first answerer; wait in seconds (LibraryH3lp's chats-per-operator)
//	queues        queue,sessions,answered,questions,mean_wait,median_wait
//	tags          tag,sessions,answered,questions             a session counts once in each of its tags; "(untagged)" last, always
//	read          level,sessions,answered,questions           1 … 6, not_recorded, then totals directional (1–2) and reference (3–6)
//	status        status,sessions                             answered, missed, after_hours, undelivered, auto_only, then any other
//	protocols     protocol,sessions,answered,questions        facebook, instagram, then any other
//	summary       metric,value                                see below
//
// Operators, queues and tags are sorted by name. The summary's metrics, in
// order: from, to, timezone, sessions, answered, missed, after_hours,
// undelivered, auto_only (and other, only when a status this package does
// not know occurs), questions, directional, reference, not_classified,
// reference_transactions, mean_wait, median_wait and p90_wait (of answered
// sessions), mean_duration (of all finished sessions).
//
// # Formats
//
// CSV (the default) is written with encoding/csv: a header row, "\n" line
// ends, fields quoted only when needed. JSON is, for the sessions export
// and every report but the summary, an array with one object per row, one
// per line, whose keys are the CSV column names in the same order (the
// heat map's hour keys are "0" … "23"); numbers are numbers, text is
// strings, a missing value is null, and the sessions export's tags are an
// array. The summary in JSON is one object mapping each metric to its
// value.
//
// # Privacy
//
// Exports are built from Session's fields alone, and Session has none for
// a PSID or a name: guest is the keyed pseudonym, operator the librarian's
// JID, profile the library's Page name. Aggregate reports carry no
// per-patron value at all.
package stats
