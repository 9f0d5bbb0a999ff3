package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Logtester runs events through the rules loaded now, as `skywatch logtest
// --json` does, and returns for each event the object that command prints for
// it: {"output": <alert or rule result>, "alert": <bool>}. It must be safe for
// concurrent use and must not disturb the live pipeline's correlation state (use
// a Matcher of an engine of its own, made with EngineOptions{Logtest: true}).
type Logtester interface {
	Logtest(ctx context.Context, location string, events []string) ([]json.RawMessage, error)
}

// DefaultLogtestLocation is the location of events sent without one: the
// command's default, so that the route and the command agree.
const DefaultLogtestLocation = "stdin"

// logtestRequest is the body of POST /api/v1/logtest.
type logtestRequest struct {
	Event    *string  `json:"event"`
	Events   []string `json:"events"`
	Location string   `json:"location"`
}

// logtestResponse is its answer: one result per event, in order.
type logtestResponse struct {
	Results []json.RawMessage `json:"results"`
}

func (s *Server) logtest(w http.ResponseWriter, r *http.Request) {
	if err := noParams(r.URL.RawQuery); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var req logtestRequest
	if !decodeBody(w, r, &req) {
		return
	}
	events, loc, msg := s.checkLogtest(&req)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if s.opt.Logtester == nil {
		unavailable(w, "logtest")
		return
	}
	if ok, wait := s.limiter.take(tokenFrom(r.Context()).ID, len(events)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("logtest rate limit: %g events per second per token", s.cfg.LogtestRate))
		return
	}
	out, err := s.opt.Logtester.Logtest(r.Context(), loc, events)
	if err == nil && len(out) != len(events) {
		err = fmt.Errorf("logtester returned %d results for %d events", len(out), len(events))
	}
	if err != nil {
		s.failed(w, r, "logtest", err)
		return
	}
	writeJSON(w, http.StatusOK, logtestResponse{Results: out})
}

// checkLogtest returns the events and location of a request, or why it is bad.
func (s *Server) checkLogtest(req *logtestRequest) ([]string, string, string) {
	var events []string
	switch {
	case req.Event != nil && req.Events != nil:
		return nil, "", "give event or events, not both"
	case req.Event != nil:
		events = []string{*req.Event}
	case len(req.Events) == 0:
		return nil, "", "events: give event (one) or events (a non-empty list)"
	default:
		events = req.Events
	}
	if len(events) > s.cfg.LogtestMaxEvents {
		return nil, "", fmt.Sprintf("events: at most %d per request, got %d", s.cfg.LogtestMaxEvents, len(events))
	}
	loc := req.Location
	switch {
	case loc == "":
		loc = DefaultLogtestLocation
	case len(loc) > 256 || !utf8.ValidString(loc) ||
		strings.IndexFunc(loc, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return nil, "", "location: want printable text of at most 256 bytes"
	}
	return events, loc, ""
}
