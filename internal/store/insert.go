package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/skywatch-dev/skywatch/internal/alert"
)

// Alert is one alert to insert: its encoded JSON (as alert.AppendJSON writes it)
// and its summary (alert.Summarize of that JSON).
type Alert struct {
	JSON    []byte
	Summary alert.Summary
}

// Tag kinds in tag_names.
const (
	kindGroup     = 0
	kindTactic    = 1
	kindTechnique = 2
)

type tagKey struct {
	kind int
	name string
}

// Insert stores alerts in one transaction, idempotently: an alert whose ID is
// already stored (or appears earlier in the same call) is skipped. When it
// returns nil the alerts are durable (synchronous commit).
func (s *Store) Insert(ctx context.Context, alerts []Alert) error {
	_, err := s.InsertCount(ctx, alerts)
	return err
}

// InsertCount is Insert that also reports how many alerts were new.
func (s *Store) InsertCount(ctx context.Context, alerts []Alert) (int, error) {
	if len(alerts) == 0 {
		return 0, nil
	}
	for i := range alerts {
		if alerts[i].Summary.ID == "" {
			return 0, fmt.Errorf("store: insert: alert %d has no id", i)
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	added, newTags, err := s.insertTx(ctx, alerts)
	if err != nil {
		return 0, fmt.Errorf("store: insert %d alerts: %w", len(alerts), err)
	}
	// Only committed tag ids enter the cache: a rolled-back transaction's ids
	// do not exist.
	for k, id := range newTags {
		s.tags[k] = id
	}
	return added, nil
}

func (s *Store) insertTx(ctx context.Context, alerts []Alert) (int, map[tagKey]int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = tx.Rollback() }()
	insAlert, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO alerts
		(id, ts, level, rule_id, description, provider, account, region, principal, srcip,
		service, action, resource_group, tag, cluster, resource, tags, json)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, nil, err
	}
	insFTS, err := tx.PrepareContext(ctx, `INSERT INTO alerts_fts (rowid, body) VALUES (?, ?)`)
	if err != nil {
		return 0, nil, err
	}
	insTag, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO alert_tags (tag_id, ts, rid) VALUES (?, ?, ?)`)
	if err != nil {
		return 0, nil, err
	}
	newTags := map[tagKey]int64{}
	tagID := func(kind int, name string) (int64, error) {
		k := tagKey{kind, name}
		if id, ok := s.tags[k]; ok {
			return id, nil
		}
		if id, ok := newTags[k]; ok {
			return id, nil
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO tag_names (kind, name) VALUES (?, ?)
			ON CONFLICT (kind, name) DO UPDATE SET kind = kind RETURNING tag_id`, kind, name).Scan(&id)
		newTags[k] = id
		return id, err
	}

	var ids []int64
	var tagsJSON, body []byte
	var stored bytes.Buffer
	added := 0
	for i := range alerts {
		a := &alerts[i]
		sum := &a.Summary
		ids = ids[:0]
		for _, t := range []struct {
			kind  int
			names []string
		}{{kindGroup, sum.Groups}, {kindTactic, sum.Tactics}, {kindTechnique, sum.Techniques}} {
			for _, name := range t.names {
				id, err := tagID(t.kind, name)
				if err != nil {
					return 0, nil, fmt.Errorf("tag %q: %w", name, err)
				}
				ids = append(ids, id)
			}
		}
		tagsJSON = append(tagsJSON[:0], '[')
		for j, id := range ids {
			if j > 0 {
				tagsJSON = append(tagsJSON, ',')
			}
			tagsJSON = strconv.AppendInt(tagsJSON, id, 10)
		}
		tagsJSON = append(tagsJSON, ']')
		ts := sum.Timestamp.UnixMilli()
		stored.Reset()
		compressJSON(&stored, a.JSON)
		f := &sum.Facets
		res, err := insAlert.ExecContext(ctx, sum.ID, ts, sum.Level, sum.RuleID, sum.Description,
			sum.Provider, sum.Account, sum.Region, sum.Principal, sum.SrcIP,
			f.Service, f.Action, f.ResourceGroup, f.Tag, f.Cluster, f.Resource, string(tagsJSON), stored.Bytes())
		if err != nil {
			return 0, nil, fmt.Errorf("alert %s: %w", sum.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			continue // already stored
		}
		rid, err := res.LastInsertId()
		if err != nil {
			return 0, nil, err
		}
		added++
		body = appendText(body[:0], a.JSON)
		if _, err := insFTS.ExecContext(ctx, rid, body); err != nil {
			return 0, nil, fmt.Errorf("alert %s: text index: %w", sum.ID, err)
		}
		for _, id := range ids {
			if _, err := insTag.ExecContext(ctx, id, ts, rid); err != nil {
				return 0, nil, fmt.Errorf("alert %s: tags: %w", sum.ID, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, nil, err
	}
	return added, newTags, nil
}

// appendText appends the text the full-text index gets for one alert: every
// string value of the JSON (not the keys, which every alert shares), separated by
// spaces. The top-level full_log repeats the event that data already holds, so it
// is indexed only when the alert has no data; previous_output is left out.
func appendText(dst, js []byte) []byte {
	depth := 0
	key := ""
	var fullLog []byte
	hasData := false
	for i := 0; i < len(js); i++ {
		switch js[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '"':
			j := i + 1
			escaped := false
			for j < len(js) && js[j] != '"' {
				if js[j] == '\\' {
					escaped = true
					j++
				}
				j++
			}
			if j >= len(js) {
				return dst // not valid JSON; keep what we have
			}
			str := js[i+1 : j]
			if escaped {
				str = unescape(js[i : j+1])
			}
			k := j + 1
			for k < len(js) && (js[k] == ' ' || js[k] == '\n' || js[k] == '\t' || js[k] == '\r') {
				k++
			}
			i = j
			if k < len(js) && js[k] == ':' {
				if depth == 1 {
					key = string(str)
					if key == "data" {
						hasData = true
					}
				}
				continue
			}
			switch {
			case depth == 1 && key == "full_log":
				fullLog = str
			case depth == 1 && key == "previous_output":
			default:
				dst = append(append(dst, str...), ' ')
			}
		}
	}
	if !hasData && len(fullLog) > 0 {
		dst = append(dst, fullLog...)
	}
	return dst
}

// unescape decodes one quoted JSON string, or returns its raw content when it
// does not decode.
func unescape(quoted []byte) []byte {
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil || !utf8.ValidString(s) {
		return quoted[1 : len(quoted)-1]
	}
	return []byte(s)
}
