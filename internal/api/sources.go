package api

import (
	"net/http"
	"time"
)

// SourceInfo is the status of one source.
type SourceInfo struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// LastRunStart and LastRunEnd bound the last pass (zero: none yet; a start
	// after the end means a pass is running).
	LastRunStart time.Time `json:"last_run_start,omitzero"`
	LastRunEnd   time.Time `json:"last_run_end,omitzero"`
	// LastError is the last pass's error, "" when it succeeded.
	LastError string `json:"last_error,omitempty"`
	// LagSeconds is how far behind its input the source is, as the source
	// measures it (age of the newest event read, or of the oldest unread).
	LagSeconds float64 `json:"lag_seconds"`
	// Objects, Events and Errors count since the service started.
	Objects int64 `json:"objects"`
	Events  int64 `json:"events"`
	Errors  int64 `json:"errors"`
	// Progress is how far the running pass has come; nil (left out) when
	// no pass is running or the source cannot tell the size of its pass.
	Progress *SourceProgress `json:"progress,omitempty"`
}

// SourceProgress is a running pass's progress, for a backfill's bar and
// time left.
type SourceProgress struct {
	// Done and Total count Units of the pass ("days", "files", ...).
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Unit  string `json:"unit"`
	// ETASeconds extrapolates the time left from the pass's rate so far;
	// 0 (left out) while nothing is done yet, or once all is.
	ETASeconds int64 `json:"eta_seconds,omitempty"`
}

// SourceStatus reports the sources' status; it must be safe for concurrent use.
type SourceStatus interface {
	Sources() []SourceInfo
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) {
	if err := noParams(r.URL.RawQuery); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.opt.Sources == nil {
		unavailable(w, "source status")
		return
	}
	list := s.opt.Sources.Sources()
	if list == nil {
		list = []SourceInfo{}
	}
	writeJSON(w, http.StatusOK, struct {
		Sources []SourceInfo `json:"sources"`
	}{list})
}
