// Package stats turns the ledger's conversation sessions into the exports
// and reports a library's reference coordinator pastes into its statistics:
// `askbridge stats export` and the /stats/ page call ParseQuery, then
// NewExporter and Exporter.Add for each session as the store yields it (Write
// does the same from a slice), so that an export of a million sessions never
// holds them all.
//
// # Sessions and transactions
//
// A Session is one conversation, from the patron message that opens it to
// !close or the idle timeout. Reference transactions are counted per
// question, not per session: the sum of Questions over answered sessions
// (NISO Z39.7 practice). READ scale levels 1–2 count as directional, 3–6
// as reference.
//
// # Selection
//
// Write keeps the sessions that started within [From 00:00, the day after
// To 00:00) in the query's time zone, have ended (open sessions never
// appear), and pass the filters, which follow LibraryH3lp's reports:
// answered sessions always; missed and after_hours ones (and any status
// this package does not know) only with IncludeUnanswered; auto_only ones
// only with IncludeAuto; none shorter than MinDuration. Every report,
// summary and status included, counts only what the filters let through.
// Rows come in order of start, then ID.
//
// # Values
//
// Times are ISO 8601 with a numeric offset in the query's zone
// (2026-03-02T14:05:09-05:00, also +00:00 for UTC), to the second.
// Waits (accepted−started) and durations (ended−started) are whole seconds,
// truncated; a session no human accepted has no wait (empty in CSV, null
// in JSON) rather than 0, so spreadsheet averages of the column are not
// dragged down by missed chats. Means and medians are computed from the
// whole-second values and rounded to the nearest second (halves up); of
// nothing they are empty/null. Hours, weekdays and months are those of the
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
// protocol is always "facebook"; guest is the keyed pseudonym; profile is
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
// questions is the reference transactions among them.
//
//	hourly        hour,sessions,answered,questions            hours 0–23
//	weekday       weekday,sessions,answered,questions         Monday … Sunday
//	monthly       month,sessions,answered,questions           YYYY-MM, every month of the range
//	weekday-hour  weekday,0,1,…,23,total                      sessions, Monday … Sunday (LibraryH3lp's heat map)
//	operators     operator,n,mean,median,min,max              answered sessions per first answerer; wait in seconds (LibraryH3lp's chats-per-operator)
//	queues        queue,sessions,answered,questions,mean_wait,median_wait
//	tags          tag,sessions,answered,questions             a session counts once in each of its tags; "(untagged)" last, always
//	read          level,sessions,answered,questions           1 … 6, not_recorded, then totals directional (1–2) and reference (3–6)
//	status        status,sessions                             answered, missed, after_hours, auto_only, then any other
//	summary       metric,value                                see below
//
// Operators, queues and tags are sorted by name. The summary's metrics, in
// order: from, to, timezone, sessions, answered, missed, after_hours,
// auto_only, reference_transactions (questions of answered sessions),
// directional and reference (those questions at READ 1–2 and 3–6),
// read_not_recorded (those without a level), mean_wait and median_wait (of
// answered sessions), mean_duration (of all sessions exported).
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
