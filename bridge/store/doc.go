// Package store owns the schema of askbridge's BoltDB file: the names of
// its buckets, the layout of their keys, and the versioned encodings of
// the records the bridge keeps there. The bridge's policy code reads and
// writes the ledger and the session rows through the types of this
// package (Ledger, Record, EncodeSession, DecodeSession), never by bucket
// name, so that a record's encoding is written in one place and no other
// package's struct is ever persisted as it is.
//
// Every binary record starts with a version byte below 0x20, which never
// starts JSON: records written by earlier releases as JSON objects are
// still read, and written in the current version when they next change.
package store
