// Package dashboard serves skywatch's web dashboard: static HTML, CSS and
// JavaScript modules embedded in the binary, which read everything they show
// from the REST API (/api/v1) with the token the user types on its login page.
// The assets hold no data, so they need no token; nothing is loaded from
// another origin, so the dashboard works offline and under a strict
// Content-Security-Policy.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed web
var webFS embed.FS

// Prefix is where the dashboard lives; "/" redirects there.
const Prefix = "/ui/"

// csp allows the page's own scripts, styles, images and API calls, and nothing
// inline: the assets never need it, and it takes away the usual way an
// injected string becomes script.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded file, read once.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

type handler struct {
	files   map[string]asset // path below web/ -> asset
	modTime time.Time
}

// Handler serves the dashboard: "/" and "/ui" redirect to "/ui/", files under
// /ui/ come from the embedded web folder, and other paths under /ui/ that name
// no file and have no extension get index.html, so that a reload of any page
// works. Mount it for "GET /{$}" and "/ui/" next to the API.
func Handler() http.Handler {
	h := &handler{files: map[string]asset{}, modTime: time.Now().UTC().Truncate(time.Second)}
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embed directive guarantees the folder
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h.files[p] = asset{body: b, ctype: contentType(p), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic(err) // reading an embedded FS does not fail
	}
	return h
}

// contentType is the type by extension, fixed for the few the assets use so
// that the answer does not depend on the host's mime tables.
func contentType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".txt", ".md":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == "/" || p == "/ui" {
		http.Redirect(w, r, Prefix, http.StatusFound)
		return
	}
	rel, ok := strings.CutPrefix(p, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if rel == "" {
		rel = "index.html"
	}
	a, ok := h.files[rel]
	if !ok {
		// A client-side route: the page's script reads the path or hash.
		if path.Ext(rel) != "" {
			http.NotFound(w, r)
			return
		}
		a = h.files["index.html"]
	}
	hd.Set("Content-Type", a.ctype)
	// no-cache: the browser keeps the file but asks each time, and the ETag
	// (a hash of the content) turns the answer into a 304 until a new
	// binary ships different assets. The file names carry no hash, so
	// "immutable" would keep old scripts after an upgrade.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	http.ServeContent(w, r, rel, h.modTime, bytes.NewReader(a.body))
}
