package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/skywatch-dev/skywatch/internal/store"
)

// AlertStore answers the alert routes; *store.Store implements it.
type AlertStore interface {
	Get(ctx context.Context, id string) (json.RawMessage, error)
	Search(ctx context.Context, q store.Query) (store.Page, error)
	Aggregate(ctx context.Context, q store.Query, r store.AggRequest) (store.Aggregations, error)
}

// query turns the checked filter into the store's query, and lets the store
// check what only it knows (the cursor).
func (f *alertFilter) query() (store.Query, error) {
	q := f.Query
	if err := q.Validate(); err != nil {
		if pe, ok := storeParamError(err); ok {
			return q, pe
		}
		return q, &paramError{msg: err.Error()}
	}
	return q, nil
}

// storeParams maps the store's field names to the query parameters they come from.
var storeParams = map[string]string{"min_level": "level", "rule_ids": "rule_id", "groups": "group", "text": "q"}

// storeParamError turns the store's verdict on a query (a cursor it did not
// issue, too many buckets for an open range) into a 400 naming the parameter.
func storeParamError(err error) (*paramError, bool) {
	var qe *store.QueryError
	if !errors.As(err, &qe) {
		return nil, false
	}
	name := qe.Field
	if p, ok := storeParams[name]; ok {
		name = p
	}
	return &paramError{name: name, msg: qe.Msg}, true
}

// storeFailed answers a store error: the caller's fault as a 400, else as failed does.
func (s *Server) storeFailed(w http.ResponseWriter, r *http.Request, op string, err error) {
	if pe, ok := storeParamError(err); ok {
		writeError(w, http.StatusBadRequest, pe.Error())
		return
	}
	s.failed(w, r, op, err)
}

// alertQuery reads and checks the request's query; on error it has answered.
func alertQuery(w http.ResponseWriter, r *http.Request, stats bool) (alertFilter, store.Query, bool) {
	f, err := parseAlertFilter(r.URL.RawQuery, stats)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return f, store.Query{}, false
	}
	q, err := f.query()
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return f, q, false
	}
	return f, q, true
}

func (s *Server) searchAlerts(w http.ResponseWriter, r *http.Request) {
	_, q, ok := alertQuery(w, r, false)
	if !ok {
		return
	}
	if s.opt.Alerts == nil {
		unavailable(w, "the alert store")
		return
	}
	page, err := s.opt.Alerts.Search(r.Context(), q)
	if err != nil {
		s.storeFailed(w, r, "alert search", err)
		return
	}
	if page.Alerts == nil {
		page.Alerts = []json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) alertStats(w http.ResponseWriter, r *http.Request) {
	f, q, ok := alertQuery(w, r, true)
	if !ok {
		return
	}
	if s.opt.Alerts == nil {
		unavailable(w, "the alert store")
		return
	}
	agg, err := s.opt.Alerts.Aggregate(r.Context(), q, store.AggRequest{Interval: f.Interval, Top: f.Top, Facets: f.FacetCounts})
	if err != nil {
		s.storeFailed(w, r, "alert statistics", err)
		return
	}
	writeJSON(w, http.StatusOK, agg)
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	if err := noParams(r.URL.RawQuery); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id := r.PathValue("id")
	if !alertIDRE.MatchString(id) {
		writeError(w, http.StatusBadRequest, "parameter id: want an alert id (letters, digits, '.', '_', '-')")
		return
	}
	if s.opt.Alerts == nil {
		unavailable(w, "the alert store")
		return
	}
	a, err := s.opt.Alerts.Get(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "alert not found")
	case err != nil:
		s.failed(w, r, "alert lookup", err)
	default:
		writeJSON(w, http.StatusOK, a)
	}
}
