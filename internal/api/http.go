package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// buildRoutes is the API: every operation, the role it needs and its body limit.
// GET routes need a read token (admin tokens may do everything). logtest needs
// admin: it runs caller-supplied text through the rules engine, which costs CPU
// per event (regular expressions, PCRE2 among them) and shows how every rule
// treats the input, so it is for operators, and rate-limited on top.
func (s *Server) buildRoutes() []route {
	small := int64(s.cfg.MaxBody)
	return []route{
		{"GET", "/api/v1/alerts", RoleRead, small, s.searchAlerts},
		{"GET", "/api/v1/alerts/stats", RoleRead, small, s.alertStats},
		{"GET", "/api/v1/alerts/{id}", RoleRead, small, s.getAlert},
		{"GET", "/api/v1/rules", RoleRead, small, s.listRules},
		{"GET", "/api/v1/rules/{id}", RoleRead, small, s.getRule},
		{"GET", "/api/v1/sources", RoleRead, small, s.listSources},
		{"GET", "/api/v1/mitre", RoleRead, small, s.attackMatrix},
		{"GET", "/api/v1/whoami", RoleRead, small, s.whoAmI},
		{"POST", "/api/v1/logtest", RoleAdmin, int64(s.cfg.LogtestMaxBody), s.logtest},
	}
}

// mount registers the routes. Anything else under /api/ is a JSON 404, or 405
// when the path exists with another method; both after authentication, so that
// callers without a token learn nothing about the routes.
func (s *Server) mount() {
	for _, rt := range s.routes {
		s.api.Handle(rt.method+" "+rt.path, s.guard(rt))
	}
	s.api.HandleFunc("/", s.noRoute)
	s.root.Handle("/api/", s.front(s.api))
}

type ctxKey struct{}

// tokenFrom returns the authenticated token of the request.
func tokenFrom(ctx context.Context) TokenInfo {
	t, _ := ctx.Value(ctxKey{}).(TokenInfo)
	return t
}

// front wraps the whole API: panics become 500s, every response gets the
// security headers, every request one log line (without its headers or query,
// so no token ever reaches the log), CORS preflights are answered, and the
// bearer token is checked.
func (s *Server) front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h := sw.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		var tok TokenInfo
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("api: handler panic", "method", r.Method, "path", logPath(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, http.StatusInternalServerError, "internal error")
				}
			}
			attrs := []any{"method", r.Method, "path", logPath(r), "status", sw.code(), "bytes", sw.n,
				"ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr}
			if tok.ID != "" {
				attrs = append(attrs, "token_id", tok.ID)
			}
			s.log.Info("api request", attrs...)
		}()
		if s.corsHeaders(sw, r) && r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			sw.WriteHeader(http.StatusNoContent)
			return
		}
		token, ok := bearer(r)
		if !ok {
			h.Set("WWW-Authenticate", `Bearer realm="skywatch"`)
			writeError(sw, http.StatusUnauthorized, "missing or malformed Authorization header: want 'Authorization: Bearer <token>'")
			return
		}
		if tok, ok = s.auth.check(token); !ok {
			h.Set("WWW-Authenticate", `Bearer realm="skywatch", error="invalid_token"`)
			writeError(sw, http.StatusUnauthorized, "invalid or revoked token")
			return
		}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), ctxKey{}, tok)))
	})
}

// logPath is the path for the log, with anything that looks like a token
// blanked in case one was pasted into a URL.
func logPath(r *http.Request) string {
	p := r.URL.Path
	if i := strings.Index(p, TokenPrefix); i >= 0 {
		p = p[:i] + "[redacted]"
	}
	if len(p) > 256 {
		p = p[:256] + "..."
	}
	return p
}

// corsHeaders adds the CORS headers when the request comes from an allowed
// origin, and reports whether it did. With no cors_origins nothing is added, so
// browsers keep other sites' pages out.
func (s *Server) corsHeaders(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	o := r.Header.Get("Origin")
	if o == "" || !s.cors[o] {
		return false
	}
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	return true
}

// guard checks the route's role, refuses oversized bodies and bounds the work.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !tokenFrom(r.Context()).Role.allows(rt.role) {
			writeError(w, http.StatusForbidden, fmt.Sprintf("this route needs a token of role %s", rt.role))
			return
		}
		if r.ContentLength > rt.maxBody {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", rt.maxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, rt.maxBody)
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout.Std())
		defer cancel()
		rt.h(w, r.WithContext(ctx))
	})
}

// noRoute answers paths no route serves: 405 with Allow when the path has routes
// for other methods, 404 otherwise.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pat := s.api.Handler(probe); pat != "/" && pat != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed here", r.Method))
		return
	}
	writeError(w, http.StatusNotFound, "no such route")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// statusWriter remembers the status and size of the response for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeJSON sends v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// errorBody is every error response.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// failed answers an error from a collaborator (store, engine): a deadline is a
// 503, a client that went away gets nothing, and anything else is logged and
// reported as a bare 500, since its text may say more than a caller should see.
func (s *Server) failed(w http.ResponseWriter, r *http.Request, op string, err error) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "request timed out")
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client left; nobody reads the answer.
		writeError(w, http.StatusServiceUnavailable, "request cancelled")
	default:
		s.log.Error("api: "+op+" failed", "path", logPath(r), "err", err)
		writeError(w, http.StatusInternalServerError, "internal error")
	}
}

func isMaxBytes(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig)
}

// unavailable answers routes whose collaborator is not configured.
func unavailable(w http.ResponseWriter, what string) {
	writeError(w, http.StatusServiceUnavailable, what+" is not available on this server")
}

// decodeBody reads a JSON request body into v: application/json only, the size
// limit as 413, unknown fields and trailing data refused.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		var extra json.RawMessage
		if err2 := dec.Decode(&extra); !errors.Is(err2, io.EOF) {
			err = errors.New("data after the JSON object")
			if isMaxBytes(err2) {
				err = err2
			}
		}
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", tooBig.Limit))
		return false
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = errors.New("truncated or empty JSON")
	}
	writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
	return false
}
