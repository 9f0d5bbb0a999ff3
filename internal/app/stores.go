package app

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/skywatch-dev/skywatch/internal/store"
)

// stores keeps alert stores open by path. In service mode one set lives as long
// as the service, so the API keeps its store across reloads and a reload does not
// reopen (and re-check) a large database; `run --once` closes its own at the end.
type stores struct {
	mu   sync.Mutex
	open map[string]*store.Store
}

func newStores() *stores { return &stores{open: map[string]*store.Store{}} }

// get returns the store at path, opening it the first time. Retention and size
// settings are those of the first opener; a reload that changes them takes
// effect at the next restart.
func (s *stores) get(path string, opt store.Options) (*store.Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("alert store %s: %w", path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.open[abs]; st != nil {
		return st, nil
	}
	st, err := store.Open(abs, opt)
	if err != nil {
		return nil, err
	}
	s.open[abs] = st
	return st, nil
}

// closeAll closes every store.
func (s *stores) closeAll() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for p, st := range s.open {
		if err := st.Close(); err != nil && first == nil {
			first = fmt.Errorf("close alert store %s: %w", p, err)
		}
		delete(s.open, p)
	}
	return first
}
