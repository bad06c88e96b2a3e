package bridge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"

	"github.com/askbridge/askbridge/bridge/store"
)

// DamagedError means the store file cannot be used as it is: it is cut
// short, overwritten, scrambled, or missing where a store was kept. The
// file is left exactly as it was found.
type DamagedError struct {
	// Path is the store file.
	Path string
	// Problem says what is wrong, in words for the administrator.
	Problem string
	// Lost means there is no store at all (no file, or an empty one)
	// where one was kept before: an empty store would silently replace it.
	Lost bool
}

// Error implements error.
func (e *DamagedError) Error() string {
	if e.Lost {
		return "store " + e.Path + " is gone: " + e.Problem
	}
	return "store " + e.Path + " is damaged: " + e.Problem
}

// fileInspection is what the cheap checks found in the file before bbolt
// opens it.
type fileInspection struct {
	// absent means no file; empty a file of 0 bytes. bbolt makes a new
	// store of either.
	absent, empty bool
	// doubt, when not "", is why the file deserves the full check
	// although nothing in it is refused.
	doubt string
	meta  boltMeta
}

// inspectStoreFile checks what bbolt trusts blindly at open — the meta
// pages, the file's length against the pages in use, the free-page list
// and the root page — reading the file rather than mapping it.
func inspectStoreFile(path string) (fileInspection, error) {
	var in fileInspection
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		in.absent = true
		return in, nil
	}
	if err != nil {
		return in, fmt.Errorf("bridge: opening %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return in, fmt.Errorf("bridge: opening %s: %w", path, err)
	}
	size := info.Size()
	if size == 0 {
		in.empty = true
		return in, nil
	}
	damaged := func(format string, args ...any) (fileInspection, error) {
		return in, &DamagedError{Path: path, Problem: fmt.Sprintf(format, args...)}
	}
	read := func(off, n int64) ([]byte, error) {
		b := make([]byte, n)
		if err := readAt(f, b, off); err != nil {
			return nil, fmt.Errorf("bridge: reading %s: %w", path, err)
		}
		return b, nil
	}
	first, err := read(0, min(size, 4096))
	if err != nil {
		return in, err
	}
	m0 := decodeMeta(first, 0)
	ps := int64(os.Getpagesize())
	if m0.problem == "" {
		ps = int64(m0.pageSize)
	}
	m1 := boltMeta{problem: "missing"}
	if size >= 2*ps {
		second, err := read(ps, min(ps, 4096))
		if err != nil {
			return in, err
		}
		m1 = decodeMeta(second, 1)
	}
	switch {
	case m0.problem != "" && m1.problem != "":
		if size < 2*ps {
			return damaged("the file is only %d bytes, too short to hold a store (cut short?)", size)
		}
		if m0.problem == "all zeros" && m1.problem == "all zeros" {
			return damaged("its two header pages are all zeros (overwritten with zeros?)")
		}
		return damaged("neither of its two header pages is valid (page 0: %s; page 1: %s)", m0.problem, m1.problem)
	case m0.problem != "":
		in.meta = m1
		in.doubt = "header page 0 is not valid (" + m0.problem + "); page 1 is used"
	case m1.problem != "":
		in.meta = m0
		in.doubt = "header page 1 is not valid (" + m1.problem + "); page 0 is used"
	case m1.txid > m0.txid:
		in.meta = m1
	default:
		in.meta = m0
	}
	m := in.meta
	ps = int64(m.pageSize)
	switch {
	case ps < 1024 || ps > 1<<16 || ps&(ps-1) != 0:
		return damaged("its header gives an impossible page size (%d bytes)", ps)
	case m.pgid < 4 || m.pgid > uint64(1<<47)/uint64(ps):
		return damaged("its header gives an impossible number of pages (%d)", m.pgid)
	case m.root < 2 || m.root >= m.pgid:
		return damaged("its header puts the root page (%d) outside the store's %d pages", m.root, m.pgid)
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid):
		return damaged("its header puts the free-page list (page %d) outside the store's %d pages", m.freelist, m.pgid)
	case size%ps != 0:
		return damaged("the file is %d bytes, not a whole number of %d-byte pages: it was cut short", size, ps)
	case uint64(size) < m.pgid*uint64(ps):
		return damaged("the file is %d bytes but its header says the store fills %d pages (%d bytes): it was cut short",
			size, m.pgid, m.pgid*uint64(ps))
	}
	if m.freelist != noFreelist {
		if err := checkFreelist(f, path, m); err != nil {
			return in, err
		}
	}
	head, err := read(int64(m.root)*ps, pageHeaderSize)
	if err != nil {
		return in, err
	}
	if err := checkTreePage(decodePageHeader(head), m.root, m, "the root page"); err != "" {
		return damaged("%s", err)
	}
	return in, nil
}

// checkFreelist checks the free-page list: a freelist page, within the
// store, naming pages within the store.
func checkFreelist(f *os.File, path string, m boltMeta) error {
	ps := int64(m.pageSize)
	damaged := func(format string, args ...any) error {
		return &DamagedError{Path: path, Problem: "its free-page list (page " + fmt.Sprint(m.freelist) + ") " + fmt.Sprintf(format, args...)}
	}
	b := make([]byte, ps)
	if err := readAt(f, b, int64(m.freelist)*ps); err != nil {
		return fmt.Errorf("bridge: reading %s: %w", path, err)
	}
	h := decodePageHeader(b)
	if h.flags != freelistPageFlag || h.id != m.freelist {
		return damaged("is not one (scrambled?)")
	}
	if m.freelist+uint64(h.overflow) >= m.pgid {
		return damaged("runs past the end of the store")
	}
	if h.overflow > 0 {
		b = make([]byte, ps*int64(h.overflow+1))
		if err := readAt(f, b, int64(m.freelist)*ps); err != nil {
			return fmt.Errorf("bridge: reading %s: %w", path, err)
		}
	}
	ids, count := b[pageHeaderSize:], uint64(h.count)
	if h.count == 0xFFFF {
		count = binary.LittleEndian.Uint64(ids)
		ids = ids[8:]
	}
	if count > uint64(len(ids)/8) {
		return damaged("claims %d pages, more than it can hold", count)
	}
	for i := range count {
		if id := binary.LittleEndian.Uint64(ids[8*i:]); id < 2 || id >= m.pgid {
			return damaged("names page %d, outside the store's %d pages", id, m.pgid)
		}
	}
	return nil
}

// checkTreePage says what is wrong ("" when nothing) with the header of
// a page that must start a B+tree node.
func checkTreePage(h pageHeader, id uint64, m boltMeta, what string) string {
	ps := uint64(m.pageSize)
	switch {
	case h.id != id || (h.flags != leafPageFlag && h.flags != branchPageFlag):
		return fmt.Sprintf("%s (page %d) is not a data page (scrambled?)", what, id)
	case id+uint64(h.overflow) >= m.pgid:
		return fmt.Sprintf("%s (page %d) runs past the end of the store", what, id)
	case pageHeaderSize+uint64(h.count)*leafElementSize > (uint64(h.overflow)+1)*ps:
		return fmt.Sprintf("%s (page %d) claims more entries than it can hold", what, id)
	}
	return ""
}

// guarded runs fn, which reads the store through bbolt's memory map,
// turning a panic or a memory fault (a damaged page pointing outside the
// file) into a DamagedError. Without it such a store crashes the process.
func guarded(path, what string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		why := fmt.Sprint(r)
		if _, fault := r.(interface{ Addr() uintptr }); fault {
			// A memory fault: bbolt followed a page or record beyond the
			// end of the file.
			why = "a page points outside the file"
		}
		err = &DamagedError{Path: path, Problem: what + " failed on a scrambled page (" + why + ")"}
	}()
	return fn()
}

// storeShape is what the structural check found inside the store.
type storeShape struct {
	// blank means bbolt's empty file: no bucket yet.
	blank bool
	// hasData means a record in a bucket other than meta: the store
	// has been in use.
	hasData bool
	schema  uint64
	// touched folds bytes read, so that reading them is not optimised
	// away.
	touched byte
}

// checkShape checks, in a read transaction, what every open relies on:
// the buckets start on data pages within the store, and a store that has
// buckets has its schema record.
func checkShape(tx *bolt.Tx, path string) (storeShape, error) {
	var sh storeShape
	damaged := func(format string, args ...any) (storeShape, error) {
		return sh, &DamagedError{Path: path, Problem: fmt.Sprintf(format, args...)}
	}
	names := 0
	c := tx.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		names++
		if v != nil {
			return damaged("its top level holds a record %q where only buckets belong", k)
		}
		b := tx.Bucket(k)
		if b == nil {
			return damaged("its bucket %q cannot be read", k)
		}
		if root := b.Root(); root != 0 {
			info, err := tx.Page(int(root))
			if err != nil {
				return sh, fmt.Errorf("bridge: checking %s: %w", path, err)
			}
			if info == nil {
				return damaged("its bucket %q starts at page %d, past the end of the store", k, root)
			}
			if info.Type != "leaf" && info.Type != "branch" {
				return damaged("its bucket %q starts at page %d, which is a %s page (scrambled?)", k, root, info.Type)
			}
		}
		// The first record, touched: it lies on the bucket's first
		// leaf, below its root.
		first, v := b.Cursor().First()
		if first != nil {
			sh.touched ^= first[0] ^ first[len(first)-1]
			if len(v) > 0 {
				sh.touched ^= v[0] ^ v[len(v)-1]
			}
			if string(k) != string(store.BucketMeta) {
				sh.hasData = true
			}
		}
	}
	if names == 0 {
		sh.blank = true
		return sh, nil
	}
	meta := tx.Bucket(store.BucketMeta)
	if meta == nil {
		return damaged("it has no meta bucket, so no schema record: not an askbridge store, or damaged")
	}
	v := meta.Get([]byte("schema"))
	if len(v) != 8 || binary.BigEndian.Uint64(v) == 0 {
		return damaged("its schema record is missing or unreadable")
	}
	sh.schema = binary.BigEndian.Uint64(v)
	return sh, nil
}
