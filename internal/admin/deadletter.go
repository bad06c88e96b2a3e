package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/bridge"
)

// The dead-letter bucket over the admin socket: GET /admin/deadletter
// lists it, POST /admin/deadletter/drop and /admin/deadletter/requeue
// (with id=N, repeated, or all=1) drop or requeue entries.

// DeadLetterVia asks the daemon on the admin socket to list ("list"), drop
// ("drop") or requeue ("requeue") parked entries (ids, or all of them
// with all) and copies its answer to w.
func DeadLetterVia(ctx context.Context, socket, action string, ids []uint64, all bool, w io.Writer) error {
	if action == "list" {
		return call(ctx, socket, http.MethodGet, "/admin/deadletter", w)
	}
	return call(ctx, socket, http.MethodPost, "/admin/deadletter/"+action+"?"+idValues(ids, all).Encode(), w)
}

func idValues(ids []uint64, all bool) url.Values {
	v := url.Values{}
	for _, id := range ids {
		v.Add("id", strconv.FormatUint(id, 10))
	}
	if all {
		v.Set("all", "1")
	}
	return v
}

// ParseIDs reads parked entry ids as the command line and the query
// string give them.
func ParseIDs(args []string) ([]uint64, error) {
	var ids []uint64
	for _, a := range args {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%q is not the number of a parked entry (see `askbridge deadletter list`)", a)
		}
		ids = append(ids, n)
	}
	return ids, nil
}

// WriteParked lists parked entries for the administrator: no text, no
// patron identity (the guest pseudonym only).
func WriteParked(w io.Writer, entries []bridge.ParkedEntry, zone *time.Location) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "No parked entries.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPARKED\tQUEUED\tKIND\tTO\tGUEST\tBYTES\tREASON\tFAILURES\tSTANZA")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\n", e.ID, e.Parked.In(zone).Format(time.DateTime),
			e.Queued.In(zone).Format(time.DateTime), e.Kind, e.To, dash(e.Guest), e.Bytes, e.Reason, e.Failures, e.StanzaID)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("admin: writing the list: %w", err)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// DeadLetterResult says what a drop or requeue did.
func DeadLetterResult(action string, n int) string {
	if n == 0 {
		return "No such parked entries (see `askbridge deadletter list`)."
	}
	if action == "requeue" {
		return fmt.Sprintf("%d parked entries queued again", n)
	}
	return fmt.Sprintf("%d parked entries dropped", n)
}

// deadLetter serves /admin/deadletter and below.
func (h *Handler) deadLetter(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.URL.Path == "/admin/deadletter" {
		entries, err := h.Store.Parked()
		if err != nil {
			h.Log.Error("listing parked entries", zap.Error(err))
			http.Error(w, "listing failed; see the daemon's log", http.StatusInternalServerError)
			return
		}
		_ = WriteParked(w, entries, time.Local)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	ids, err := ParseIDs(q["id"])
	if err == nil && len(ids) == 0 && !truthy(q.Get("all")) {
		err = errors.New("name the parked entries (id=N) or all=1")
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var n int
	action := r.URL.Path[len("/admin/deadletter/"):]
	switch action {
	case "drop":
		n, err = h.Store.DropParked(ids)
	case "requeue":
		if h.Requeue == nil {
			http.NotFound(w, r)
			return
		}
		n, err = h.Requeue(ids)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.Log.Error("parked entries", zap.String("action", action), zap.Error(err))
		http.Error(w, action+" failed; see the daemon's log", http.StatusInternalServerError)
		return
	}
	_, _ = fmt.Fprintln(w, DeadLetterResult(action, n))
}
