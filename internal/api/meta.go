package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/skywatch-dev/skywatch/internal/mitre"
)

// matrixBody is the answer of /api/v1/mitre. The matrix is fixed at build
// time, so it is encoded once.
var matrixBody = sync.OnceValue(func() []byte {
	b, err := json.Marshal(struct {
		Version string               `json:"version"`
		Tactics []mitre.MatrixTactic `json:"tactics"`
	}{mitre.Version, mitre.Matrix()})
	if err != nil {
		panic("api: encode the ATT&CK matrix: " + err.Error()) // fixed data: cannot happen
	}
	return append(b, '\n')
})

// attackMatrix answers the ATT&CK matrix the dashboard lays alert counts out on.
func (s *Server) attackMatrix(w http.ResponseWriter, r *http.Request) {
	if err := noParams(r.URL.RawQuery); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	body := matrixBody()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// whoAmI answers the calling token's name and role, so that a client can hide
// what the role may not do (a read token's logtest button) instead of letting
// the user run into 403s.
func (s *Server) whoAmI(w http.ResponseWriter, r *http.Request) {
	if err := noParams(r.URL.RawQuery); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	tok := tokenFrom(r.Context())
	writeJSON(w, http.StatusOK, struct {
		Name string `json:"name"`
		Role Role   `json:"role"`
	}{tok.Name, tok.Role})
}
