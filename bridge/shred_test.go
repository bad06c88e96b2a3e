package bridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/askbridge/askbridge/messenger"

	"github.com/askbridge/askbridge/bridge/store"
)

// filler makes each text long enough that a burst of them spans pages.
var filler = strings.TrimSpace(strings.Repeat("where can I find the book on local history? ", 6))

// shredTexts relays n patron messages and n librarian replies with
// distinctive texts through the bridge, to delivery, with transcripts off,
// and returns the texts.
func shredTexts(t *testing.T, h *harness, n int) []string {
	t.Helper()
	// A long read transaction (a metrics scrape, a backup being copied)
	// keeps BoltDB from reusing the pages the delivered entries free, so
	// that they all stay in the file.
	pin, err := h.store.db.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	defer pin.Rollback()
	var texts []string
	// A burst each way, as when a Jabber server or Facebook comes back:
	// the entries wait in the outboxes together.
	h.link.setUp(false)
	var events []messenger.Event
	for i := range n {
		in := fmt.Sprintf("patron-secret-%03d-qwzx %s", i, filler)
		events = append(events, patronText(fmt.Sprintf("mid.shred.%d", i), in, h.clock.Now().Add(time.Duration(i))))
		texts = append(texts, in)
	}
	h.accept(events...)
	h.link.setUp(true)
	h.b.LinkChanged(true)
	for i := range n {
		if m := h.link.next(t); m.Body != texts[i] {
			t.Fatalf("relayed %q, want %q", m.Body, texts[i])
		}
	}
	var replies []string
	for i := range n {
		out := fmt.Sprintf("librarian-secret-%03d-vkjq %s", i, filler)
		if e := h.reply("alice@library.test/x", out); e != nil {
			t.Fatal(e)
		}
		replies = append(replies, out)
	}
	for range n {
		h.api.next(t)
	}
	waitFor(t, func() bool { n, _ := h.b.Pending(); return n == 0 })
	if err := pin.Rollback(); err != nil {
		t.Fatal(err)
	}
	return append(texts, replies...)
}

// foundIn counts the texts whose bytes occur in the file.
func foundIn(t *testing.T, path string, texts []string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range texts {
		if bytes.Contains(data, []byte(s)) {
			n++
		}
	}
	return n
}

// backupTo writes a backup of the harness's store to a file and returns
// its path.
func backupTo(t *testing.T, h *harness) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Backup(f); err != nil {
		f.Close()
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// recovered counts the texts found in the plaintext of sealed values
// that the keys of ring open, wherever they lie in the file: BoltDB does
// not clear the pages it frees, so the file is read page by page as an
// attacker would, every leaf element's value tried with every key.
func recovered(t *testing.T, path string, ring *store.KeyRing, texts []string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	psize := int(binary.LittleEndian.Uint32(data[24:28])) // meta: page header, magic, version, page size
	var plain [][]byte
	for off := 0; off+16 <= len(data); off += psize {
		flags, count := binary.LittleEndian.Uint16(data[off+8:]), int(binary.LittleEndian.Uint16(data[off+10:]))
		end := min(len(data), off+psize*(1+int(binary.LittleEndian.Uint32(data[off+12:]))))
		if flags&0x02 == 0 { // not a leaf page
			continue
		}
		for j := range count {
			e := off + 16 + j*16
			if e+16 > end {
				break
			}
			pos, ksize, vsize := binary.LittleEndian.Uint32(data[e+4:]), binary.LittleEndian.Uint32(data[e+8:]), binary.LittleEndian.Uint32(data[e+12:])
			v := e + int(pos) + int(ksize)
			if v < e || v+int(vsize) > end {
				continue
			}
			if p, err := ring.Open(data[v : v+int(vsize)]); err == nil {
				plain = append(plain, p)
			}
		}
	}
	n := 0
	for _, s := range texts {
		for _, p := range plain {
			if bytes.Contains(p, []byte(s)) {
				n++
				break
			}
		}
	}
	return n
}

// TestShredDeliveredTexts reproduces issue #14: with transcripts off, no
// text of a delivered message can be found in the store file or in a
// backup once a maintenance pass has rotated the key that sealed it.
func TestShredDeliveredTexts(t *testing.T) {
	h := newHarness(t)
	h.run()
	texts := shredTexts(t, h, 40)
	path := h.store.Path()
	// Whoever has the file and the key file as they are now reads them in
	// the freed pages: the check can see them (most of them: later
	// commits reuse some of those pages).
	before, err := store.LoadKeyRing(store.QueueKeysPath(h.dir))
	if err != nil {
		t.Fatal(err)
	}
	if n := recovered(t, path, before, texts); n < len(texts)*3/4 {
		t.Fatalf("%d of %d texts recovered before the rotation: the check proves nothing", n, len(texts))
	}
	rep, err := h.b.maintain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Keys.Dropped != 1 || rep.Keys.Kept != 0 {
		t.Errorf("rotation: %+v", rep.Keys)
	}
	after, err := store.LoadKeyRing(store.QueueKeysPath(h.dir))
	if err != nil {
		t.Fatal(err)
	}
	backup := backupTo(t, h)
	plainDB, plainBackup := foundIn(t, path, texts), foundIn(t, backup, texts)
	sealedDB, sealedBackup := recovered(t, path, after, texts), recovered(t, backup, after, texts)
	// Even the dropped key (left in an old block of the disk, say) finds
	// nothing in the backup: it holds no freed pages.
	oldKeyBackup := recovered(t, backup, before, texts)
	t.Logf("with the dropped key, %d of them are still in askbridge.db's freed pages", recovered(t, path, before, texts))
	t.Logf("of %d delivered texts: in askbridge.db %d plain, %d with the key file; in a backup %d plain, %d with the key file, %d with the dropped key",
		len(texts), plainDB, sealedDB, plainBackup, sealedBackup, oldKeyBackup)
	if plainDB+sealedDB+plainBackup+sealedBackup+oldKeyBackup != 0 {
		t.Error("delivered texts readable after the rotation")
	}
	// The bridge goes on with the new key.
	h.accept(patronText("mid.shred.after", "after the rotation", h.clock.Now()))
	if m := h.link.next(t); m.Body != "after the rotation" {
		t.Errorf("after the rotation got %q", m.Body)
	}
}
