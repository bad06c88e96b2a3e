package bridge

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// This file reads the parts of a BoltDB file that bbolt trusts blindly at
// open — the two meta pages, the free-page list and the root page — with
// ordinary reads rather than through bbolt's memory map, so that a
// damaged file is described instead of crashing the process. The layout is
// bbolt's (format version 2), little-endian on the machines askbridge runs
// on.

const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16
	noFreelist       = ^uint64(0)
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	metaPageFlag     = 0x04
	freelistPageFlag = 0x10
	// leafElementSize and branchElementSize are the sizes of a page's
	// element headers.
	leafElementSize   = 16
	branchElementSize = 16
	// metaChecksumAt is the offset of the checksum in a meta page's body;
	// the checksum covers the bytes before it.
	metaChecksumAt = 56
)

// boltMeta is a decoded meta page.
type boltMeta struct {
	pageSize uint32
	root     uint64 // the root bucket's page
	freelist uint64 // the free-page list's page, or noFreelist
	pgid     uint64 // the high-water mark: pages in use are below it
	txid     uint64
	// problem says why the page is not valid ("" when it is).
	problem string
}

// pageHeader is the head of any page.
type pageHeader struct {
	id       uint64
	flags    uint16
	count    uint16
	overflow uint32
}

func decodePageHeader(b []byte) pageHeader {
	return pageHeader{
		id:       binary.LittleEndian.Uint64(b[0:8]),
		flags:    binary.LittleEndian.Uint16(b[8:10]),
		count:    binary.LittleEndian.Uint16(b[10:12]),
		overflow: binary.LittleEndian.Uint32(b[12:16]),
	}
}

// decodeMeta decodes the meta page at the start of page (its header
// included) and checks it as bbolt does: magic, version, checksum.
func decodeMeta(page []byte, want uint64) boltMeta {
	if len(page) < pageHeaderSize+metaChecksumAt+8 {
		return boltMeta{problem: "missing"}
	}
	body := page[pageHeaderSize:]
	m := boltMeta{
		pageSize: binary.LittleEndian.Uint32(body[8:12]),
		root:     binary.LittleEndian.Uint64(body[16:24]),
		freelist: binary.LittleEndian.Uint64(body[32:40]),
		pgid:     binary.LittleEndian.Uint64(body[40:48]),
		txid:     binary.LittleEndian.Uint64(body[48:56]),
	}
	h := fnv.New64a()
	h.Write(body[:metaChecksumAt])
	switch {
	case allZero(page[:pageHeaderSize+metaChecksumAt+8]):
		m.problem = "all zeros"
	case binary.LittleEndian.Uint32(body[0:4]) != boltMagic:
		m.problem = "not a BoltDB header"
	case binary.LittleEndian.Uint32(body[4:8]) != boltVersion:
		m.problem = fmt.Sprintf("BoltDB format version %d, not %d", binary.LittleEndian.Uint32(body[4:8]), boltVersion)
	case binary.LittleEndian.Uint64(body[metaChecksumAt:]) != h.Sum64():
		m.problem = "checksum mismatch"
	case decodePageHeader(page).flags != metaPageFlag || decodePageHeader(page).id != want:
		m.problem = "not marked as a meta page"
	}
	return m
}

func allZero(b []byte) bool {
	return len(bytes.TrimLeft(b, "\x00")) == 0
}

// readAt reads len(b) bytes at off; a short file is an error.
func readAt(f *os.File, b []byte, off int64) error {
	n, err := f.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
